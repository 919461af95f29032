"""Sentiment as market state: headlines as providers deliver them, and the reading each
market carries (score, confidence, source, when) that strategies see.

Scoring, keyword matching and decay live in ``engine.strategies.sentiment``; providers
(NewsAPI, Twitter/X, the emulator, a JSONL file) are adapters behind the
``SentimentSource`` port. Floats: sentiment is an indicator, not money.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Headline:
    """One item from a provider, before scoring."""

    provider: str  # "newsapi", "twitter", "emulator", "jsonl"
    source: str  # the outlet or account, as the provider names it
    title: str
    description: str
    url: str
    published_at: float  # epoch seconds (clock time)
    # A "true" source is a news outlet; tweets and other chatter are not (the event-driven
    # strategy's `require_true_source` and `non_news_conf_scale` read this).
    is_news: bool = True
    # Markets the provider already tied it to (the emulator's admin route can name one);
    # otherwise matching by keywords decides.
    markets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SentimentReading:
    """A market's current sentiment, as last scored (decay is the reader's to apply:
    each strategy has its own half-life and age limit)."""

    market: str  # condition id
    score: float  # -1 (bearish for YES) .. +1 (bullish for YES)
    confidence: float  # 0 .. 1
    source: str  # provider of the headline behind it
    is_news: bool
    updated_at: float  # clock time of the headline behind it
    headline: str = ""

    def age(self, now: float) -> float:
        return max(0.0, now - self.updated_at)

    def decayed(self, now: float, half_life_s: float) -> float:
        """The score with exponential decay by age (half-life in seconds)."""
        if half_life_s <= 0:
            return self.score
        return self.score * math.exp(-math.log(2.0) * self.age(now) / half_life_s)


# The states a provider reports: "ok" (last poll answered), "backoff" (retrying after a
# 429, a 5xx, a timeout), "error" (the last poll failed for good; the next one is
# delayed), "disabled" (no usable provider: the fallback reason says why).
PROVIDER_STATES = ("ok", "backoff", "error", "disabled")


@dataclass(frozen=True, slots=True)
class ProviderStatusSnapshot:
    """A provider's status at one instant, for the snapshot and the sentiment pane."""

    provider: str
    state: str
    last_fetch_at: float | None
    last_success_at: float | None
    last_error: str
    fallback: str
    headlines_seen: int
    requests: int
    errors: int
    rate_limited: int
    timeouts: int = 0
    malformed: int = 0
    skipped: int = 0  # items that could not be read (a bad JSONL line, an article without title)

    def freshness(self, now: float) -> float | None:
        """Seconds since the provider last answered well (None: never)."""
        return None if self.last_success_at is None else max(0.0, now - self.last_success_at)

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(slots=True)
class ProviderStatus:
    """What a provider is doing, kept current by the provider itself (one task writes it;
    readers take :meth:`snapshot`). ``last_error`` is one line and never holds a secret."""

    provider: str
    state: str = "ok"
    last_fetch_at: float | None = None
    last_success_at: float | None = None
    last_error: str = ""
    fallback: str = ""  # why this provider and not an earlier one, e.g. "no NEWSAPI_KEY: ..."
    headlines_seen: int = 0
    requests: int = 0
    errors: int = 0
    rate_limited: int = 0
    timeouts: int = 0
    malformed: int = 0
    skipped: int = 0

    def snapshot(self) -> ProviderStatusSnapshot:
        return ProviderStatusSnapshot(
            provider=self.provider,
            state=self.state,
            last_fetch_at=self.last_fetch_at,
            last_success_at=self.last_success_at,
            last_error=self.last_error,
            fallback=self.fallback,
            headlines_seen=self.headlines_seen,
            requests=self.requests,
            errors=self.errors,
            rate_limited=self.rate_limited,
            timeouts=self.timeouts,
            malformed=self.malformed,
            skipped=self.skipped,
        )

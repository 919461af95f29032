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

"""Sentiment settings: which headline providers to try, how often to poll them, how hard
they may be pulled on, and how headlines turn into market readings.

No secrets here: NEWSAPI_KEY and TWITTER_BEARER_TOKEN come from the environment or the
OS keyring (``polyterm.settings.credentials``), never from config.toml.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from engine.config.base import Bool, Frozen, Int, Real

Provider = Literal["newsapi", "twitter", "emulator", "jsonl"]
PROVIDERS: tuple[Provider, ...] = ("newsapi", "twitter", "emulator", "jsonl")
TWITTER_API = "https://api.twitter.com"


class SentimentQuery(Frozen):
    """What to ask the providers for."""

    # NewsAPI: a non-empty `q` searches /v2/everything; empty asks /v2/top-headlines for
    # `country` (and `category` when set), which needs no query.
    q: str = Field("", max_length=500)
    search_in: str = "title,description"
    language: str = "en"
    country: str = "us"
    category: str = ""
    page_size: Int = Field(50, ge=1, le=100)
    # Twitter/X recent search (its query syntax); tweets count as chatter, not news.
    twitter_query: str = Field("polymarket -is:retweet lang:en", min_length=1, max_length=512)
    twitter_max_results: Int = Field(50, ge=10, le=100)


class SentimentConfig(Frozen):
    enabled: Bool = True
    # Tried in order; the first usable one runs (newsapi: NEWSAPI_KEY, or offline the
    # emulator's NewsAPI-shaped feed; twitter: TWITTER_BEARER_TOKEN; emulator: a loopback
    # news_url; jsonl: jsonl_path set). The status names why earlier ones were skipped.
    providers: tuple[Provider, ...] = PROVIDERS
    query: SentimentQuery = SentimentQuery()
    jsonl_path: str | None = None
    twitter_url: str = TWITTER_API
    # Polling cadence: the real APIs are metered (NewsAPI's free plan: 100 requests a day),
    # the emulator is not, and an injected headline should reach the strategies in < 2 s.
    poll_interval_s: Real = Field(300.0, gt=0)
    emulator_poll_interval_s: Real = Field(0.5, gt=0)
    jsonl_poll_interval_s: Real = Field(0.5, gt=0)
    requests_per_minute: Real = Field(10.0, gt=0)
    emulator_requests_per_minute: Real = Field(600.0, gt=0)
    timeout_s: Real = Field(10.0, gt=0)
    # Retries inside one poll (429, 5xx, timeouts, connection errors), exponential with
    # jitter; a 429's Retry-After is honoured up to retry_after_cap_s.
    max_attempts: Int = Field(3, ge=1, le=10)
    backoff_initial_s: Real = Field(1.0, gt=0)
    backoff_max_s: Real = Field(60.0, gt=0)
    retry_after_cap_s: Real = Field(120.0, gt=0)
    # A poll that failed for good delays the next one: poll interval x 2^failures, capped.
    error_backoff_cap_s: Real = Field(900.0, gt=0)
    # Cache of headlines already delivered (by url and by title), so a poll window that
    # overlaps the last one never delivers a headline twice.
    dedupe_ttl_s: Real = Field(172_800.0, gt=0)
    dedupe_max_entries: Int = Field(20_000, ge=100)
    # Readings: a headline older than this moves no reading, and a reading older than
    # this is dropped (strategies apply their own, usually shorter, limits and decay).
    max_age_seconds: Real = Field(3600.0, gt=0)
    # How fast an older reading loses weight when a new headline is blended in.
    blend_half_life_s: Real = Field(900.0, gt=0)
    # Keyword matching: distinct market keywords a headline must contain (fewer when the
    # market has fewer keywords).
    min_keyword_hits: Int = Field(2, ge=1, le=10)
    recent_max: Int = Field(200, ge=1, le=10_000)

    @field_validator("providers")
    @classmethod
    def _providers(cls, value: tuple[Provider, ...]) -> tuple[Provider, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"providers lists one twice: {list(value)}; name each once")
        return value

    @field_validator("twitter_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s):// URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _consistent(self) -> SentimentConfig:
        if self.backoff_initial_s > self.backoff_max_s:
            raise ValueError(
                f"sentiment.backoff_initial_s = {self.backoff_initial_s} is above "
                f"sentiment.backoff_max_s = {self.backoff_max_s}: lower it or raise the cap"
            )
        return self

"""Builds the configured headline source for a face (headless, the console, serve).

The providers in ``sentiment.providers`` are tried in order and the first usable one
runs; the status's ``fallback`` says why the earlier ones were skipped, e.g.
"no NEWSAPI_KEY; no TWITTER_BEARER_TOKEN: using the emulator feed".

- newsapi: NEWSAPI_KEY (env or keyring). Offline, the emulator's feed stands in for it:
  it is NewsAPI-shaped, so the same provider reads it, pointed at ``feed.news_url``.
- twitter: TWITTER_BEARER_TOKEN. Not available offline (the emulator has no X feed).
- emulator: ``feed.news_url`` is a loopback address (an emulator).
- jsonl: ``sentiment.jsonl_path`` is set.

HTTP goes through ``PROXY_URL`` when ``PROXY_ENABLED=true`` (never offline).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from engine.adapters.net.loopback import is_loopback_host
from engine.adapters.news import (
    DisabledSource,
    HttpSettings,
    JsonlSource,
    NewsApiSource,
    NewsHttp,
    SeenCache,
    TwitterSource,
)
from engine.clock import Clock
from engine.config import EngineConfig
from engine.config.sentiment import SentimentConfig
from engine.market.sentiment import ProviderStatus
from engine.ports import SentimentSource
from polyterm.settings.config import ConfigError
from polyterm.settings.credentials import NEWSAPI_KEY, TWITTER_BEARER_TOKEN, Credentials

_TRUE = ("1", "true", "yes", "on")


class SentimentSetupError(ValueError):
    """A setting the sources cannot work with; the message names it and the fix."""


def proxy_from_env(env: Mapping[str, str]) -> str | None:
    """PROXY_URL when PROXY_ENABLED is true, else None."""
    if env.get("PROXY_ENABLED", "").strip().lower() not in _TRUE:
        return None
    url = env.get("PROXY_URL", "").strip()
    if not url:
        raise SentimentSetupError(
            "PROXY_ENABLED=true but PROXY_URL is not set: set PROXY_URL or unset PROXY_ENABLED"
        )
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        # The URL itself is not shown: it may carry a user and password.
        raise SentimentSetupError(
            f"PROXY_URL has scheme {scheme or '(none)'!r}: use an http:// or https:// proxy"
        )
    return url


def build_sentiment_source(
    config: SentimentConfig,
    *,
    offline: bool,
    news_url: str,
    clock: Clock,
    credentials: Credentials,
    env: Mapping[str, str] | None = None,
) -> SentimentSource:
    """The first usable provider of `config.providers`, or a disabled source saying why."""
    if not config.enabled:
        return DisabledSource("sentiment.enabled = false")
    env = os.environ if env is None else env
    proxy = None if offline else proxy_from_env(env)
    emulator_url = is_loopback_host(urlsplit(news_url).hostname or "")
    skipped: list[str] = []

    def why(using: str) -> str:
        return f"{'; '.join(skipped)}: using {using}" if skipped else ""

    for name in config.providers:
        if name == "newsapi":
            if offline:
                skipped.append("offline")
                if emulator_url:
                    return _newsapi(config, clock, news_url, "emulator", why("the emulator feed"))
                skipped.append("news_url is not loopback")
                continue
            key = credentials.get(NEWSAPI_KEY)
            if key is not None:
                return _newsapi(
                    config, clock, news_url, "newsapi", why("NewsAPI"), key.reveal(), proxy
                )
            skipped.append("no NEWSAPI_KEY")
        elif name == "twitter":
            if offline:
                skipped.append("offline: no Twitter/X")
                continue
            token = credentials.get(TWITTER_BEARER_TOKEN)
            if token is not None:
                return _twitter(config, clock, why("Twitter/X"), token.reveal(), proxy)
            skipped.append("no TWITTER_BEARER_TOKEN")
        elif name == "emulator":
            if emulator_url:
                return _newsapi(config, clock, news_url, "emulator", why("the emulator feed"))
            skipped.append("news_url is not an emulator")
        elif name == "jsonl":
            if config.jsonl_path:
                return _jsonl(config, clock, Path(config.jsonl_path).expanduser(), why("JSONL"))
            skipped.append("no sentiment.jsonl_path")
    return DisabledSource(f"{'; '.join(skipped) or 'no providers listed'}: sentiment off")


def _seen(config: SentimentConfig, clock: Clock) -> SeenCache:
    return SeenCache(clock, config.dedupe_ttl_s, config.dedupe_max_entries)


def _settings(
    config: SentimentConfig, rpm: float, proxy: str | None, offline: bool
) -> HttpSettings:
    return HttpSettings(
        timeout_s=config.timeout_s,
        requests_per_minute=rpm,
        max_attempts=config.max_attempts,
        backoff_initial_s=config.backoff_initial_s,
        backoff_max_s=config.backoff_max_s,
        retry_after_cap_s=config.retry_after_cap_s,
        proxy=proxy,
        offline=offline,
    )


def _newsapi(
    config: SentimentConfig,
    clock: Clock,
    base_url: str,
    provider: str,
    fallback: str,
    key: str | None = None,
    proxy: str | None = None,
) -> NewsApiSource:
    emulator = provider == "emulator"
    status = ProviderStatus(provider, fallback=fallback)
    rpm = config.emulator_requests_per_minute if emulator else config.requests_per_minute
    http = NewsHttp(
        clock,
        status,
        # The emulator is always on loopback: guard it as offline traffic.
        _settings(config, rpm, None if emulator else proxy, emulator),
        headers={"X-Api-Key": key} if key else None,
        secrets=(key,) if key else (),
    )
    return NewsApiSource(
        clock,
        http,
        base_url,
        config.query,
        provider=provider,
        poll_interval_s=config.emulator_poll_interval_s if emulator else config.poll_interval_s,
        error_backoff_cap_s=config.error_backoff_cap_s,
        seen=_seen(config, clock),
    )


def _twitter(
    config: SentimentConfig, clock: Clock, fallback: str, token: str, proxy: str | None
) -> TwitterSource:
    status = ProviderStatus("twitter", fallback=fallback)
    http = NewsHttp(
        clock,
        status,
        _settings(config, config.requests_per_minute, proxy, False),
        headers={"Authorization": f"Bearer {token}"},
        secrets=(token,),
    )
    return TwitterSource(
        clock,
        http,
        config.twitter_url,
        config.query,
        poll_interval_s=config.poll_interval_s,
        error_backoff_cap_s=config.error_backoff_cap_s,
        seen=_seen(config, clock),
    )


def _jsonl(config: SentimentConfig, clock: Clock, path: Path, fallback: str) -> JsonlSource:
    return JsonlSource(
        clock,
        path,
        status=ProviderStatus("jsonl", fallback=fallback),
        poll_interval_s=config.jsonl_poll_interval_s,
        error_backoff_cap_s=config.error_backoff_cap_s,
        seen=_seen(config, clock),
    )


def sentiment_source_for(config: EngineConfig, clock: Clock, *, offline: bool) -> SentimentSource:
    """The headline source a live face runs (a disabled one says why when none fits);
    a setting it cannot work with is a one-line ConfigError."""
    try:
        return build_sentiment_source(
            config.sentiment,
            offline=offline,
            news_url=config.feed.news_url,
            clock=clock,
            credentials=Credentials(),
        )
    except SentimentSetupError as exc:
        raise ConfigError(str(exc)) from exc

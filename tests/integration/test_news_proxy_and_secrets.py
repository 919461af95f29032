"""Online NewsAPI with a key, through PROXY_URL when PROXY_ENABLED=true: the request
reaches the feed only through the proxy (the emulator stands in for both), and the key
never appears in logs, the status or reprs, even when requests fail."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import httpx
import pytest

from engine.adapters.news import NewsApiSource
from engine.clock import SystemClock
from engine.config.sentiment import SentimentConfig
from engine.market.sentiment import Headline
from polyterm.emulator.server import ExchangeEmulator
from polyterm.faces.headlines import build_sentiment_source
from polyterm.settings.credentials import Credentials

pytestmark = pytest.mark.integration

KEY = "nk-0d1e2a3d4b5e6e7f-secret"
# Nothing listens here: only a request sent through the proxy can succeed.
UNREACHABLE_NEWS = "http://127.0.0.1:9/news"


class Sink:
    def __init__(self) -> None:
        self.headlines: list[Headline] = []

    def on_headlines(self, headlines: Sequence[Headline]) -> None:
        self.headlines.extend(headlines)


def config() -> SentimentConfig:
    return SentimentConfig(
        providers=("newsapi",),
        requests_per_minute=6000,
        backoff_initial_s=0.01,
        backoff_max_s=0.02,
        timeout_s=2.0,
    )


async def test_newsapi_goes_through_the_proxy_and_never_shows_its_key(
    emulator: ExchangeEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    assert emulator.urls is not None
    emulator.flow.news_rate = 0.0
    cid = emulator.exchange.markets[0].info.condition_id
    async with httpx.AsyncClient(headers=emulator.urls.admin_headers()) as client:
        await client.post(
            f"{emulator.urls.admin}/news", json={"market": cid, "title": "Support soars"}
        )
    env = {"NEWSAPI_KEY": KEY, "PROXY_ENABLED": "true", "PROXY_URL": emulator.urls.clob}
    caplog.set_level(logging.DEBUG)
    src = build_sentiment_source(
        config(),
        offline=False,
        news_url=UNREACHABLE_NEWS,
        clock=SystemClock(),
        credentials=Credentials(env=env),
        env=env,
    )
    assert isinstance(src, NewsApiSource)
    assert src.status.provider == "newsapi"
    sink = Sink()
    try:
        await src.poll_once(sink)
        assert [h.title for h in sink.headlines] == ["Support soars"]
        async with httpx.AsyncClient(headers=emulator.urls.admin_headers()) as client:
            await client.post(f"{emulator.urls.admin}/faults", json={"http_5xx": 3})
        await src.poll_once(sink)  # fails: retried, logged, recorded
        assert src.status.state == "error"
    finally:
        await src.aclose()
    shown = [caplog.text, repr(src), repr(src.http), str(src.status.snapshot().as_dict())]
    assert all(KEY not in text for text in shown)
    assert "HTTP 503" in caplog.text  # the failures were logged, just not the key


async def test_without_proxy_enabled_the_proxy_is_not_used(emulator: ExchangeEmulator) -> None:
    assert emulator.urls is not None
    env = {"NEWSAPI_KEY": KEY, "PROXY_URL": emulator.urls.clob}  # PROXY_ENABLED unset
    src = build_sentiment_source(
        config(),
        offline=False,
        news_url=UNREACHABLE_NEWS,
        clock=SystemClock(),
        credentials=Credentials(env=env),
        env=env,
    )
    assert isinstance(src, NewsApiSource)
    try:
        async with asyncio.timeout(10):
            await src.poll_once(Sink())
        assert src.status.state == "error"
        assert src.status.last_error.startswith("ConnectError")
        assert KEY not in src.status.last_error
    finally:
        await src.aclose()

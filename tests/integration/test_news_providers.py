"""The NewsAPI provider against the emulator's NewsAPI-shaped feed over real loopback:
headlines, dedupe, and every fault (429 with Retry-After, 5xx, malformed JSON, a slow
answer) recorded in the status while the run goes on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import httpx
import pytest

from engine.adapters.news import HttpSettings, NewsApiSource, NewsHttp, SeenCache
from engine.clock import SystemClock
from engine.config.sentiment import SentimentConfig, SentimentQuery
from engine.market.sentiment import Headline, ProviderStatus
from polyterm.emulator.server import ExchangeEmulator
from polyterm.faces.headlines import build_sentiment_source
from polyterm.settings.credentials import Credentials
from tests.kit.clock import FakeClock

pytestmark = pytest.mark.integration


class Sink:
    def __init__(self) -> None:
        self.batches: list[list[Headline]] = []

    def on_headlines(self, headlines: Sequence[Headline]) -> None:
        self.batches.append(list(headlines))

    @property
    def headlines(self) -> list[Headline]:
        return [h for batch in self.batches for h in batch]


def fast(**changes: Any) -> HttpSettings:
    values: dict[str, Any] = {
        "timeout_s": 2.0,
        "requests_per_minute": 6000.0,
        "max_attempts": 3,
        "backoff_initial_s": 0.01,
        "backoff_max_s": 0.05,
        "retry_after_cap_s": 5.0,
        "offline": True,
    }
    values.update(changes)
    return HttpSettings(**values)


def source(emu: ExchangeEmulator, clock: FakeClock, **settings: Any) -> NewsApiSource:
    assert emu.urls is not None
    status = ProviderStatus("emulator")
    return NewsApiSource(
        clock,
        NewsHttp(clock, status, fast(**settings)),
        emu.urls.news,
        SentimentQuery(),
        provider="emulator",
        poll_interval_s=0.5,
        error_backoff_cap_s=8.0,
        seen=SeenCache(clock),
    )


@pytest.fixture
async def news(
    emulator: ExchangeEmulator, fake_clock: FakeClock
) -> AsyncIterator[tuple[NewsApiSource, ExchangeEmulator, FakeClock]]:
    emulator.flow.news_rate = 0.0  # only the headlines a test injects
    src = source(emulator, fake_clock)
    try:
        yield src, emulator, fake_clock
    finally:
        await src.aclose()


async def admin(emu: ExchangeEmulator, route: str, body: dict[str, Any]) -> Any:
    assert emu.urls is not None
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{emu.urls.admin}/{route}", json=body, headers=emu.urls.admin_headers()
        )
        response.raise_for_status()
        return response.json()


async def inject(emu: ExchangeEmulator, title: str, market: int = 0) -> str:
    cid = emu.exchange.markets[market].info.condition_id
    await admin(emu, "news", {"market": cid, "title": title})
    return cid


async def test_headlines_arrive_once_tagged_with_their_market(
    news: tuple[NewsApiSource, ExchangeEmulator, FakeClock],
) -> None:
    src, emu, _ = news
    sink = Sink()
    cid = await inject(emu, "Support soars after a strong debate")
    assert await src.poll_once(sink) == 0.5
    (h,) = [h for h in sink.headlines if h.title == "Support soars after a strong debate"]
    assert h.provider == "emulator"
    assert h.markets == (cid,)
    assert h.is_news
    assert h.url.startswith("https://news.invalid/")
    assert h.source
    await src.poll_once(sink)  # the same articles again: nothing new to deliver
    assert len(sink.headlines) == 1
    await inject(emu, "Fears mount as the campaign collapses", market=1)
    await src.poll_once(sink)
    assert [h.title for h in sink.batches[-1]] == ["Fears mount as the campaign collapses"]
    status = src.status.snapshot()
    assert status.state == "ok"
    assert status.requests == 3
    assert status.headlines_seen == 2
    assert status.errors == status.rate_limited == 0
    assert status.last_success_at is not None


async def test_429_is_retried_after_its_retry_after_and_counted(
    news: tuple[NewsApiSource, ExchangeEmulator, FakeClock],
) -> None:
    src, emu, clock = news
    await inject(emu, "Support soars after a strong debate")
    await admin(emu, "faults", {"http_429": 2})
    sink = Sink()
    await src.poll_once(sink)
    assert len(sink.headlines) == 1  # the third attempt answered
    status = src.status.snapshot()
    assert status.rate_limited == 2
    assert status.requests == 3
    assert status.state == "ok"
    assert "429" in status.last_error
    # Both retries waited at least the server's Retry-After (1 s), not the 0.01 s backoff.
    assert len(clock.sleeps) == 2
    assert min(clock.sleeps) >= 1.0


async def test_5xx_is_retried_then_the_poll_fails_and_the_next_one_waits_longer(
    news: tuple[NewsApiSource, ExchangeEmulator, FakeClock],
) -> None:
    src, emu, _ = news
    await inject(emu, "Support soars after a strong debate")
    await admin(emu, "faults", {"http_5xx": 1})
    sink = Sink()
    await src.poll_once(sink)
    assert len(sink.headlines) == 1
    assert src.status.errors == 1

    await admin(emu, "faults", {"http_5xx": 6})
    assert await src.poll_once(sink) == 1.0  # failed: poll interval doubled
    status = src.status.snapshot()
    assert status.state == "error"
    assert status.last_error == "HTTP 503 from /news/v2/top-headlines"
    assert status.errors == 4  # 1 earlier + 3 attempts
    assert await src.poll_once(sink) == 2.0  # failed again: doubled again
    await admin(emu, "faults", {"clear": True})
    assert await src.poll_once(sink) == 0.5  # recovered: back to the poll interval
    assert src.status.state == "ok"


async def test_malformed_answers_are_reported_and_polling_goes_on(
    news: tuple[NewsApiSource, ExchangeEmulator, FakeClock],
) -> None:
    src, emu, _ = news
    await inject(emu, "Support soars after a strong debate")
    await admin(emu, "faults", {"news_malformed": 3})
    sink = Sink()
    errors = []
    for _ in range(3):  # wrong field type, HTML, truncated JSON
        await src.poll_once(sink)
        assert src.status.state == "error"
        errors.append(src.status.last_error)
    assert src.status.malformed == 3
    assert src.status.requests == 3  # a malformed 200 is not retried within the poll
    assert all(e.startswith("malformed answer") for e in errors)
    assert all("\n" not in e for e in errors)
    assert sink.headlines == []
    await src.poll_once(sink)
    assert src.status.state == "ok"
    assert len(sink.headlines) == 1


async def test_a_slow_answer_times_out_backs_off_and_recovers(
    emulator: ExchangeEmulator, fake_clock: FakeClock
) -> None:
    emulator.flow.news_rate = 0.0
    src = source(emulator, fake_clock, timeout_s=0.1, max_attempts=2)
    try:
        await inject(emulator, "Support soars after a strong debate")
        await admin(emulator, "faults", {"latency_ms": 400})
        sink = Sink()
        assert await src.poll_once(sink) == 1.0
        status = src.status.snapshot()
        assert status.state == "error"
        assert status.timeouts == 2
        assert status.last_error == "timeout: no answer within 0.1s"
        assert len(fake_clock.sleeps) == 1  # one backoff between the two attempts
        await admin(emulator, "faults", {"latency_ms": 0})
        await src.poll_once(sink)
        assert src.status.state == "ok"
        assert len(sink.headlines) == 1
    finally:
        await src.aclose()


async def test_a_query_searches_everything_with_a_window(
    news: tuple[NewsApiSource, ExchangeEmulator, FakeClock],
) -> None:
    _, emu, clock = news
    assert emu.urls is not None
    src = NewsApiSource(
        clock,
        NewsHttp(clock, ProviderStatus("emulator"), fast()),
        emu.urls.news,
        SentimentQuery(q="soars"),
        provider="emulator",
        poll_interval_s=0.5,
        error_backoff_cap_s=8.0,
        seen=SeenCache(clock),
    )
    try:
        await inject(emu, "Support soars after a strong debate")
        await inject(emu, "Fears mount as the campaign collapses")
        url, params = src.request()
        assert url.endswith("/v2/everything")
        assert "from" not in params
        sink = Sink()
        await src.poll_once(sink)
        assert [h.title for h in sink.headlines] == ["Support soars after a strong debate"]
        _, params = src.request()
        assert isinstance(params["from"], str)
        assert params["from"].endswith("Z")
    finally:
        await src.aclose()


async def wait_for(cond: Callable[[], bool], within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not cond():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_offline_build_runs_the_emulator_feed_until_cancelled(
    emulator: ExchangeEmulator,
) -> None:
    assert emulator.urls is not None
    emulator.flow.news_rate = 0.0
    src = build_sentiment_source(
        SentimentConfig(emulator_poll_interval_s=0.05, backoff_initial_s=0.01, backoff_max_s=0.05),
        offline=True,
        news_url=emulator.urls.news,
        clock=SystemClock(),
        credentials=Credentials(env={}),
        env={},
    )
    assert src.status.provider == "emulator"
    assert src.status.fallback == "offline: using the emulator feed"
    sink = Sink()
    task = asyncio.create_task(src.run(sink))
    try:
        await admin(emulator, "faults", {"http_5xx": 10})  # trouble never ends the run
        await wait_for(lambda: src.status.state == "error")
        await admin(emulator, "faults", {"clear": True})
        await inject(emulator, "Support soars after a strong debate")
        await wait_for(lambda: bool(sink.headlines), within=10.0)
        assert not task.done()
        assert src.status.state == "ok"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()


class Collector:
    def __init__(self) -> None:
        self.headlines: list[Headline] = []

    def on_headlines(self, headlines: Any) -> None:
        self.headlines.extend(headlines)


@pytest.mark.integration
async def test_injected_headlines_still_arrive_once_the_feed_holds_500(
    emulator: ExchangeEmulator, fake_clock: FakeClock
) -> None:
    """Article urls are numbered len(headlines) + 1, but the deque holding them stops
    growing at 500: from then on every article gets the same url (".../501"), and the
    provider's dedupe (by url) drops every new headline. At 200 markets the emulated flow
    writes ~30 headlines per market-hour: the feed goes silent after ~5 minutes, and
    POST /_admin/news answers 200 but the engine never sees the headline."""
    urls = emulator.urls
    assert urls is not None
    emulator.flow.news_rate = 0.0
    cid = emulator.exchange.markets[0].info.condition_id
    src = NewsApiSource(
        fake_clock,
        NewsHttp(
            fake_clock,
            ProviderStatus("emulator"),
            HttpSettings(requests_per_minute=6000.0, offline=True),
        ),
        urls.news,
        SentimentQuery(),
        provider="emulator",
        poll_interval_s=0.5,
        error_backoff_cap_s=8.0,
        seen=SeenCache(fake_clock),
    )
    sink = Collector()
    try:
        async with httpx.AsyncClient(headers=urls.admin_headers()) as client:
            for i in range(502):
                answer = await client.post(
                    f"{urls.admin}/news", json={"market": cid, "title": f"Headline number {i}"}
                )
                answer.raise_for_status()
                if i in (0, 499, 500, 501):
                    await src.poll_once(sink)
    finally:
        await src.aclose()
    titles = [h.title for h in sink.headlines]
    assert "Headline number 500" in titles
    assert "Headline number 501" in titles, titles[-3:]

"""The real Polymarket feed against the emulator, through each injected fault and back."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Sequence

import httpx
import pytest

from engine.adapters.polymarket.books import BookStore
from engine.adapters.polymarket.feed import PolymarketFeed
from engine.adapters.polymarket.market_ws import MarketStream
from engine.clock import SystemClock
from engine.market.health import FeedHealth, FeedSource
from engine.market.markets import MarketInfo
from polyterm.emulator.server import ExchangeEmulator
from tests.kit.feed import FAST_HOT, fast_feed_config

pytestmark = pytest.mark.integration


class Sink:
    def __init__(self) -> None:
        self.store = BookStore()
        self.markets: list[MarketInfo] = []
        self.sources: list[str] = []

    def on_markets(self, markets: Sequence[MarketInfo]) -> None:
        self.markets = list(markets)

    def on_frame(self, raw: bytes | str, recv_ts: float, source: str) -> None:
        self.sources.append(source)
        self.store.apply_frame(raw)


async def wait_for(cond: Callable[[], bool], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not cond():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.fixture
async def running(
    emulator: ExchangeEmulator,
) -> AsyncIterator[tuple[PolymarketFeed, Sink, ExchangeEmulator]]:
    assert emulator.urls is not None
    feed = PolymarketFeed(fast_feed_config(emulator.urls), FAST_HOT, SystemClock())
    sink = Sink()
    task = asyncio.create_task(feed.run(sink))
    try:
        await wait_for(lambda: feed.health.source is FeedSource.WS_LIVE)
        yield feed, sink, emulator
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def fault(emulator: ExchangeEmulator, **spec: object) -> None:
    assert emulator.urls is not None
    async with httpx.AsyncClient() as c:
        r = await c.post(
            f"{emulator.urls.admin}/faults", json=spec, headers=emulator.urls.admin_headers()
        )
        r.raise_for_status()


async def test_discovery_snapshots_and_live_books(
    running: tuple[PolymarketFeed, Sink, ExchangeEmulator],
) -> None:
    feed, sink, emulator = running
    assert len(sink.markets) == 4
    assert sink.sources[0] == "rest"
    fees = {m.condition_id: m.fees.rate for m in sink.markets}
    assert any(rate > 0 for rate in fees.values())  # fee data came from /clob-markets
    await wait_for(lambda: sink.store.counts["price_change"] > 20)
    for market in emulator.exchange.markets:
        ours = sink.store.books[market.yes.asset_id]
        assert ours.has_snapshot
        assert not ours.is_crossed()
    assert feed.health.snapshot(0).subscribed_assets == 8


async def test_ws_drop_falls_back_to_rest_and_recovers(
    running: tuple[PolymarketFeed, Sink, ExchangeEmulator],
) -> None:
    feed, sink, emulator = running
    reconnects = feed.health.ws_reconnects
    await fault(emulator, ws_drop=True)
    await wait_for(lambda: feed.health.ws_reconnects > reconnects)
    assert "rest_only" in [t[1] for t in feed.health.transitions]
    await wait_for(lambda: feed.health.source is FeedSource.WS_LIVE)
    assert feed.health.fallback_reason is None


async def test_ws_stall_goes_stale_uses_rest_then_recovers(
    running: tuple[PolymarketFeed, Sink, ExchangeEmulator],
) -> None:
    feed, sink, emulator = running
    await fault(emulator, ws_stall=2.0)
    await wait_for(lambda: feed.health.source is FeedSource.WS_STALE)
    assert "no WS message" in (feed.health.fallback_reason or "")
    rest_before = feed.health.rest_requests
    await wait_for(lambda: feed.health.rest_requests > rest_before)  # REST sampling meanwhile
    await wait_for(lambda: feed.health.source is FeedSource.WS_LIVE, within=15)


async def test_http_429_and_5xx_are_retried_and_counted(
    running: tuple[PolymarketFeed, Sink, ExchangeEmulator],
) -> None:
    feed, sink, emulator = running
    await fault(emulator, http_429=2, http_5xx=2)
    await fault(emulator, ws_drop=True)  # force REST traffic through the faults
    await wait_for(lambda: feed.health.rest_429 >= 2 and feed.health.rest_5xx >= 2)
    await wait_for(lambda: feed.health.source is FeedSource.WS_LIVE)


async def test_latency_is_measured(running: tuple[PolymarketFeed, Sink, ExchangeEmulator]) -> None:
    feed, sink, emulator = running
    await fault(emulator, latency_ms=150)
    feed.want_snapshot([emulator.exchange.markets[0].yes.asset_id])
    await wait_for(lambda: (feed.health.rest_latency_ms or 0) >= 150)


async def test_malformed_frames_are_counted_and_the_feed_goes_on(
    running: tuple[PolymarketFeed, Sink, ExchangeEmulator],
) -> None:
    feed, sink, emulator = running
    await fault(emulator, malformed=3)
    await wait_for(lambda: sink.store.problems["bad_frame"] >= 3)
    count = sink.store.counts["price_change"]
    await wait_for(lambda: sink.store.counts["price_change"] > count + 5)
    assert feed.health.source is FeedSource.WS_LIVE


@pytest.mark.emulator(events_per_second=400.0)
async def test_a_streaming_socket_always_stops_when_cancelled(emulator: ExchangeEmulator) -> None:
    """Cancel the market WS at many moments of a busy stream; every cancel must land.

    On 3.11 a ``wait_for``-based receive loop lost the cancel that arrived as a frame
    did, and the feed then ran (reconnecting) for ever: the suite's intermittent hang.
    """
    assert emulator.urls is not None
    assets = [t for m in emulator.exchange.markets for t in (m.yes.asset_id, m.no.asset_id)]
    rng = random.Random(5)
    frames: list[str | bytes] = []
    for attempt in range(40):
        frames.clear()
        ws = MarketStream(
            emulator.urls.market_ws,
            SystemClock(),
            FeedHealth(),
            lambda raw, ts, src: frames.append(raw),
            offline=True,
        )
        await ws.update_assets(assets)
        task = asyncio.create_task(ws.run())
        await wait_for(lambda: len(frames) > 0)
        await asyncio.sleep(rng.uniform(0, 0.02))
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2)
        assert task in done, f"cancel #{attempt} was lost after {len(frames)} frames"
        assert task.cancelled()

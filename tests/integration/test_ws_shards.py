"""The sharded market WebSocket against the emulator, checked from the emulator's side:
shards under the venue's token cap, live subscribe/unsubscribe, one shard dropped while
the others stream, new_market and market_resolved through the whole engine, and books
that match the venue's exactly however the frames were cut."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from engine.adapters.polymarket.books import BookStore
from engine.adapters.polymarket.feed import PolymarketFeed
from engine.clock import SystemClock
from engine.config import HotAssetConfig
from engine.market.health import FeedSource
from engine.market.markets import MarketInfo
from polyterm.emulator.server import ExchangeEmulator
from tests.kit.emulator import admin, served_by, until
from tests.kit.emulator import engine_over as _engine
from tests.kit.feed import FAST_HOT, fast_feed_config

pytestmark = pytest.mark.integration


class Sink:
    """Books plus which tokens each WebSocket frame touched."""

    def __init__(self) -> None:
        self.store = BookStore()
        self.markets: list[MarketInfo] = []
        self.ws_touched: dict[str, int] = {}

    def on_markets(self, markets: Sequence[MarketInfo]) -> None:
        self.markets = list(markets)

    def on_frame(self, raw: bytes | str, recv_ts: float, source: str) -> None:
        self.store.apply_frame(raw)
        for asset in self.store.take_dirty():
            if source == "ws":
                self.ws_touched[asset] = self.ws_touched.get(asset, 0) + 1


@pytest.fixture
async def sharded(emulator: ExchangeEmulator) -> AsyncIterator[tuple[PolymarketFeed, Sink]]:
    assert emulator.urls is not None
    config = fast_feed_config(
        emulator.urls,
        max_markets=6,
        ws_shard_size=4,
        # A dropped shard stays down 1.5-3 s: long enough to watch the others stream.
        ws_reconnect_base_s=3.0,
        ws_reconnect_cap_s=3.0,
        ws_stale_after_s=5.0,
    )
    feed = PolymarketFeed(config, FAST_HOT, SystemClock())
    sink = Sink()
    task = asyncio.create_task(feed.run(sink))
    try:
        await until(lambda: feed.health.source is FeedSource.WS_LIVE)
        yield feed, sink
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.emulator(markets=6, ws_token_cap=5)
async def test_a_set_larger_than_one_connection_is_sharded_under_the_cap(
    emulator: ExchangeEmulator, sharded: tuple[PolymarketFeed, Sink]
) -> None:
    feed, sink = sharded
    tokens = {t for m in emulator.exchange.markets for t in (m.yes.asset_id, m.no.asset_id)}
    assert len(tokens) == 12  # more than the emulator serves one connection (5)
    await until(lambda: len(sink.ws_touched) == 12)  # every token streams
    conns = await admin(emulator, "GET", "/connections")
    assert len(conns) == 3
    assert all(len(c["assets"]) <= 4 and c["over_cap"] == 0 for c in conns)
    assert all(c["custom_feature_enabled"] for c in conns)
    assert {a for c in conns for a in c["assets"]} == tokens
    assert sorted(len(c["assets"]) for c in conns) == [4, 4, 4]
    assert feed.health.ws_shards == feed.health.ws_shards_live == 3
    assert feed.health.subscribed_assets == 12


@pytest.mark.emulator(markets=6)
async def test_one_shard_dropped_while_the_others_keep_streaming(
    emulator: ExchangeEmulator, sharded: tuple[PolymarketFeed, Sink]
) -> None:
    feed, sink = sharded
    assert feed.stream is not None
    conns = await admin(emulator, "GET", "/connections")
    victim = conns[0]
    dropped = set(victim["assets"])
    others = {a for c in conns[1:] for a in c["assets"]}
    reconnects = feed.health.ws_reconnects
    await admin(emulator, "POST", f"/connections/{victim['id']}/drop")
    await until(lambda: feed.health.source is FeedSource.REST_ONLY)
    # Only the dropped shard's tokens are sampled over REST; the reason names it.
    assert set(feed.stream.assets_not_live()) == dropped
    assert "shard" in (feed.health.fallback_reason or "")
    assert feed.health.ws_shards_live == 2
    before = {a: sink.ws_touched.get(a, 0) for a in others}
    await until(lambda: all(sink.ws_touched.get(a, 0) > before[a] + 2 for a in others), 5)
    assert feed.health.ws_reconnects == reconnects  # still the outage: nothing came back
    await until(lambda: feed.health.source is FeedSource.WS_LIVE)
    assert feed.health.ws_reconnects == reconnects + 1
    await served_by(emulator, lambda held: held == dropped | others)


@pytest.mark.emulator(markets=6)
async def test_subscriptions_change_live_as_the_registry_does(
    emulator: ExchangeEmulator,
) -> None:
    assert emulator.urls is not None
    config = fast_feed_config(emulator.urls, max_markets=6, ws_shard_size=4)
    hot = HotAssetConfig(asset_limit=6, sticky_s=0, refresh_s=0.2, hit_boost=100.0)
    feed = PolymarketFeed(config, hot, SystemClock())
    sink = Sink()
    task = asyncio.create_task(feed.run(sink))
    try:
        await until(lambda: feed.health.source is FeedSource.WS_LIVE)
        assert feed.stream is not None
        first = list(feed.stream.assets)
        assert len(first) == 6  # asked for fewer tokens than the markets have: ranked
        outside = next(
            m.yes.asset_id for m in emulator.exchange.markets if m.yes.asset_id not in first
        )
        feed.hit(outside)  # an order there: it must stream now
        await until(lambda: outside in feed.stream.assets if feed.stream else False)
        # One left to make room, unsubscribed on the venue.
        served = await served_by(emulator, lambda held: outside in held and len(held) == 6)
        gone = set(first) - served
        assert len(gone) == 1
        updates = sink.ws_touched.get(outside, 0)
        await until(lambda: sink.ws_touched.get(outside, 0) > updates + 2)
        assert sink.store.books[outside].has_snapshot
        assert feed.health.ws_reconnects == 0  # changed on the open connections
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_new_market_and_market_resolved_end_to_end(
    emulator: ExchangeEmulator, tmp_path: Path
) -> None:
    runner, ledger = await _engine(emulator, tmp_path)
    core = runner.core
    feed = runner.feed
    assert isinstance(feed, PolymarketFeed)
    run = asyncio.create_task(runner.run(None, starting_cash=10**16))
    try:
        await until(lambda: feed.health.source is FeedSource.WS_LIVE)
        listed = await admin(emulator, "POST", "/markets/new")
        tokens = listed["token_ids"]
        # Listed while we run: followed, its books streamed and traded like the rest.
        await until(lambda: all(t in core.registry.by_token for t in tokens))
        await until(lambda: all(core.intake.books.books[t].has_snapshot for t in tokens))
        assert core.registry.by_token[tokens[0]].question == listed["question"]
        assert core.registry.by_token[tokens[0]].fees is not None  # refined by /clob-markets
        await served_by(emulator, lambda held: set(tokens) <= held)
        questions = {row.question for row in runner.builder.build().markets}
        assert listed["question"] in questions
        # Resolved: settled by the core, unsubscribed by the feed.
        target = core.registry.markets[0]
        await admin(emulator, "POST", f"/markets/{target.condition_id}/resolve", winner="Yes")
        await until(lambda: core.registry.is_resolved(target.condition_id))
        winner = core.registry.resolved[target.condition_id]
        assert winner == target.token_ids[0]
        await served_by(emulator, lambda held: not set(target.token_ids) & held)
        assert not set(target.token_ids) & set(feed.stream.assets if feed.stream else [])
        feed.hit(target.token_ids[0])  # a position there must not bring it back
        await asyncio.sleep(0.5)
        assert target.token_ids[0] not in (feed.stream.assets if feed.stream else [])
        assert core.intake.counts["markets_listed"] == 1
    finally:
        runner.stop()
        await asyncio.gather(run, return_exceptions=True)
        await ledger.close()


@pytest.mark.emulator(
    markets=6, events_per_second=0.0, mispricings_per_hour=0.0, rate=4000.0, frame_messages=200
)
async def test_books_match_the_venue_exactly_through_shards_and_slices(
    emulator: ExchangeEmulator,
) -> None:
    """Speed never changes an answer: long frames cut into slices, tokens spread over
    shards, and every book ends equal to the emulator's own, level for level."""
    assert emulator.urls is not None
    config = fast_feed_config(emulator.urls, max_markets=6, ws_shard_size=4, ws_slice_bytes=2048)
    feed = PolymarketFeed(config, FAST_HOT, SystemClock())
    sink = Sink()
    task = asyncio.create_task(feed.run(sink))
    try:
        await until(lambda: feed.health.source is FeedSource.WS_LIVE)
        await until(
            lambda: sink.store.counts["price_change"] > 3000 and feed.health.ws_sliced_frames > 10
        )
        await admin(emulator, "POST", "/rate", rate=None)  # the churn stops
        sent = -1
        while sent != emulator.messages_sent:  # until the last message has gone out
            sent = emulator.messages_sent
            await asyncio.sleep(0.3)
        frames = -1
        while frames != sink.store.counts["frames"]:  # ...and been applied here
            frames = sink.store.counts["frames"]
            await asyncio.sleep(0.3)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert sink.store.problems == {}
    assert not sink.store.needs_snapshot
    for market in emulator.exchange.markets:
        for theirs in (market.yes, market.no):
            ours = sink.store.books[theirs.asset_id]
            assert ours.bid_sizes == theirs.bid_sizes
            assert ours.ask_sizes == theirs.ask_sizes
            assert ours.bid_prices == theirs.bid_prices
            assert ours.ask_prices == theirs.ask_prices

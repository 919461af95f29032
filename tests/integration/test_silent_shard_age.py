"""Review of issue 9: a shard that goes silent without closing (the venue's known failure,
which the stale watchdog exists for) keeps its books looking fresh for as long as any
other shard talks: a message on any connection refreshes health.last_ws_message and, while
the silent shard still counts as live, the intake's whole-stream vouching too. With one
connection, the same silence aged every book and the risk gate's max_book_age_s (5 s)
stopped entries; sharded, the silent shard's books pass as fresh until ws_stale_after_s
(20 s) cuts it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.adapters.polymarket.feed import PolymarketFeed
from engine.clock import SystemClock
from engine.config import EngineConfig
from engine.ledger.writer import SqliteLedger
from engine.market.health import FeedSource
from engine.runtime.kernel import build_engine
from polyterm.emulator.server import ExchangeEmulator
from tests.kit.emulator import until
from tests.kit.feed import FAST_HOT, fast_feed_config

pytestmark = pytest.mark.integration


@pytest.mark.emulator(markets=4, events_per_second=40.0)
async def test_books_of_a_silent_shard_age(emulator: ExchangeEmulator, tmp_path: Path) -> None:
    assert emulator.urls is not None
    feed_config = fast_feed_config(
        emulator.urls,
        ws_shard_size=4,  # 4 markets, 8 tokens: two shards
        ws_ping_interval_s=0.5,
        ws_stale_after_s=20.0,  # longer than the test: only the age can show the silence
    )
    config = EngineConfig().model_copy(update={"feed": feed_config, "hot_assets": FAST_HOT})
    clock = SystemClock()
    ledger = await SqliteLedger(tmp_path / "l.sqlite").open()
    feed = PolymarketFeed(config.feed, config.hot_assets, clock)
    engine = build_engine(config, clock, ledger, venue="emulator", feed=feed, health=feed.health)
    runner = engine.live_runner(feed, ledger)
    core = engine.core
    run = asyncio.create_task(runner.run(None, starting_cash=10**16))
    try:
        await until(lambda: feed.health.source is FeedSource.WS_LIVE)
        assert feed.stream is not None
        assert len(feed.stream.shards) == 2
        silent, talking = feed.stream.shards
        # The silent shard's socket delivers nothing from now on (no data, no PONG), as
        # when the venue stops one connection without closing it.
        assert silent._conn is not None
        silent._conn.pause_reading()
        frames = talking.frames
        await asyncio.sleep(3.0)
        assert talking.frames > frames + 10  # the other shard streams on
        assert silent.state is FeedSource.WS_LIVE  # not yet cut (20 s)
        ages = {a: core.book_age(a) for a in silent.assets}
        # Nothing has vouched for these books for 3 s.
        assert min(ages.values()) >= 2.5, f"books of the silent shard look fresh: {ages}"
    finally:
        runner.stop()
        await asyncio.gather(run, return_exceptions=True)
        await ledger.close()

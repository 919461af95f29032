"""Review of issue 9: with ws_compression = "deflate" (the feed reads with websockets), a
shard the watchdog finds silent must reconnect like any other. Closing the connection
cancels its reader task, closed() then re-raises that CancelledError into the shard's
session, and the shard's task ends as if cancelled: the TaskGroup ignores it, the shard
never reconnects, and its books are sampled over REST for the rest of the run."""

from __future__ import annotations

import asyncio

import pytest

from engine.adapters.polymarket.market_ws import MarketStream
from engine.clock import SystemClock
from engine.market.health import FeedHealth, FeedSource
from polyterm.emulator.server import ExchangeEmulator
from tests.kit.emulator import admin, until

pytestmark = pytest.mark.integration


async def test_a_silent_deflate_shard_reconnects(emulator: ExchangeEmulator) -> None:
    assert emulator.urls is not None
    health = FeedHealth()
    frames: list[bytes | str] = []
    stream = MarketStream(
        emulator.urls.market_ws,
        SystemClock(),
        health,
        lambda raw, ts, src: frames.append(raw),
        ping_interval_s=0.2,
        stale_after_s=0.6,
        reconnect_base_s=0.05,
        reconnect_cap_s=0.1,
        compression=True,
        offline=True,
    )
    # What feed.ws_compression = "deflate" gives against the venue (on loopback the
    # stream turns it off, so it is set here to take the same code path).
    stream.compression = True
    tokens = [t for m in emulator.exchange.markets for t in (m.yes.asset_id, m.no.asset_id)]
    await stream.update_assets(tokens)
    task = asyncio.create_task(stream.run())
    try:
        await until(lambda: health.source is FeedSource.WS_LIVE)
        shard_task = next(iter(stream._tasks.values()))
        await admin(emulator, "POST", "/faults", ws_stall=1.0)
        await until(lambda: health.source is FeedSource.WS_STALE, 5)
        # The stall ends after 1 s: the shard should reconnect and stream again.
        try:
            await until(lambda: health.source is FeedSource.WS_LIVE, 8)
        except AssertionError:
            raise AssertionError(
                f"the shard never came back: its task done={shard_task.done()} "
                f"cancelled={shard_task.cancelled()}, reconnects={health.ws_reconnects}"
            ) from None
        assert health.ws_reconnects >= 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

"""Review of issue 9: gc.freeze() is meant to run once the run's long-lived state has
loaded. It also runs on every market the venue lists while we run, so whatever is alive
at that moment (connections, tasks, responses in flight) is exempt from collection for
the rest of the run once it dies: memory grows with every listing."""

from __future__ import annotations

import asyncio
import gc
import weakref
from pathlib import Path

import pytest

from engine.adapters.polymarket.feed import PolymarketFeed
from engine.market.health import FeedSource
from polyterm.emulator.server import ExchangeEmulator
from tests.kit.emulator import admin, until
from tests.kit.emulator import engine_over as _engine

pytestmark = pytest.mark.integration


class InFlight:
    """Stands for any cyclic object alive at a listing and gone soon after (a closed
    connection, a finished task, an answered request)."""

    def __init__(self) -> None:
        self.me = self
        self.payload = bytearray(1 << 20)


async def test_a_market_listed_while_running_does_not_pin_what_dies_later(
    emulator: ExchangeEmulator, tmp_path: Path
) -> None:
    runner, ledger = await _engine(emulator, tmp_path)
    feed = runner.feed
    assert isinstance(feed, PolymarketFeed)
    run = asyncio.create_task(runner.run(None, starting_cash=10**16))
    try:
        await until(lambda: feed.health.source is FeedSource.WS_LIVE)
        alive = [InFlight()]
        ref = weakref.ref(alive[0])
        frozen_before = gc.get_freeze_count()
        listed = await admin(emulator, "POST", "/markets/new")
        await until(lambda: all(t in runner.core.registry.by_token for t in listed["token_ids"]))
        alive.clear()  # it dies after the listing, as in-flight state does
        gc.collect()
        assert ref() is None, (
            f"a cycle that died after the listing is never collected: the listing froze "
            f"{gc.get_freeze_count() - frozen_before} more objects"
        )
    finally:
        runner.stop()
        await asyncio.gather(run, return_exceptions=True)
        await ledger.close()
        gc.unfreeze()

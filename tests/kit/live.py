"""A live engine in this process (the offline emulator, a ledger in a temp dir), running,
for tests of what runs beside it: the control socket, metrics, alerts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path

from engine.config import EngineConfig
from engine.runtime.snapshot import EngineSnapshot
from polyterm.emulator.server import ExchangeEmulator
from polyterm.faces.live_engine import LiveEngine, Venue, open_live_engine, venue
from polyterm.settings.config import AppConfig, load_config
from tests.kit.feed import fast_feed_config


def at_emulator(emulator: ExchangeEmulator) -> Venue:
    """A venue for open_live_engine: an emulator the test holds (to inject faults into),
    with the feed's short test timers (a stall goes stale within a second)."""

    @contextlib.asynccontextmanager
    async def aimed(app: AppConfig) -> AsyncIterator[tuple[EngineConfig, str]]:
        assert emulator.urls is not None
        feed = fast_feed_config(emulator.urls, max_markets=app.engine.feed.max_markets)
        yield app.engine.model_copy(update={"feed": feed}), "emulator"

    return aimed


@contextlib.asynccontextmanager
async def running_engine(
    ledger: Path, env: Mapping[str, str] | None = None, *, venue_for: Venue = venue
) -> AsyncIterator[LiveEngine]:
    """The engine runs while inside; leaving stops it cleanly. `env`: config from the
    environment's names (none of the developer's own environment leaks in); `venue_for`:
    by default the offline emulator in this process."""
    app = load_config(None, env=dict(env or {}))
    async with open_live_engine(app, ledger, venue_for=venue_for) as live:
        run = asyncio.create_task(live.runner.run(starting_cash=live.starting_cash))
        try:
            yield live
        finally:
            live.runner.stop()
            async with asyncio.timeout(30):
                await run


async def snapshot_where(
    live: LiveEngine, predicate: Callable[[EngineSnapshot], bool]
) -> EngineSnapshot:
    """The first published snapshot for which `predicate(snapshot)` holds."""
    async with asyncio.timeout(60):
        async for snap in live.runner.hub.subscribe():
            if predicate(snap):
                return snap
    raise AssertionError("the run ended before the snapshot came")

"""A live engine in this process (the offline emulator, a ledger in a temp dir), running,
for tests of what runs beside it: the control socket, metrics, alerts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path

from engine.runtime.snapshot import EngineSnapshot
from polyterm.faces.live_engine import LiveEngine, open_live_engine
from polyterm.settings.config import load_config


@contextlib.asynccontextmanager
async def running_engine(
    ledger: Path, env: Mapping[str, str] | None = None
) -> AsyncIterator[LiveEngine]:
    """The engine runs while inside; leaving stops it cleanly. `env`: config from the
    environment's names (none of the developer's own environment leaks in)."""
    app = load_config(None, env=dict(env or {}))
    async with open_live_engine(app, ledger) as live:
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

"""The console's live session: the same engine the headless face runs, assembled from the
same public pieces (`venue`, `load_account`, `build_engine`, `LiveRunner`), run inside
the Textual app's own event loop.

``open_live_session`` starts the venue (the in-process emulator when offline), opens the
ledger, resumes its paper account and yields a backend; leaving it stops the emulator
and closes the ledger. The run itself is ``backend.run()``, which the app awaits in a
worker; ``backend.stop()`` ends it the way SIGINT ends a headless run (resting paper
orders cancelled, the ledger flushed, the final snapshot published).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from engine.adapters.net.tasks import cancel_and_wait
from engine.adapters.polymarket.feed import PolymarketFeed
from engine.clock import SystemClock
from engine.config import EngineConfig
from engine.ledger.writer import SqliteLedger
from engine.runtime.core import FlattenScope
from engine.runtime.live import FlattenReport, LiveRunner
from polyterm import locations
from polyterm.config import AppConfig
from polyterm.headless import load_account, venue
from polyterm.tui.backend import EngineBackend
from polyterm.wiring import build_engine, sentiment_source_for

log = logging.getLogger("polyterm.console")


class LiveBackend(EngineBackend):
    def __init__(self, runner: LiveRunner, starting_cash: int, venue_name: str) -> None:
        super().__init__(runner.core, runner.builder, runner.hub, runner.stream, venue_name)
        self.runner = runner
        self.starting_cash = starting_cash

    async def run(self) -> None:
        sampler = asyncio.create_task(self._sample(), name="console-history")
        try:
            await self.runner.run(starting_cash=self.starting_cash)
        finally:
            await cancel_and_wait(sampler)

    async def _sample(self) -> None:
        # The hub hands over every snapshot (about 10 a second); the history keeps one
        # point per second of engine time.
        async for snap in self.hub.subscribe():
            self.history.observe(snap)

    def stop(self) -> None:
        self.runner.stop()

    def pause(self) -> None:
        self.runner.pause()

    def resume(self) -> None:
        self.runner.resume()

    async def flatten(self, scope: FlattenScope) -> FlattenReport:
        return await self.runner.flatten(scope, who="console")

    async def kill(self) -> FlattenReport:
        return await self.runner.kill(who="console")

    def reset(self) -> None:
        self.runner.reset(who="console")


def rate_window_s(config: EngineConfig) -> float:
    """The longest order-rate window: how far back a resumed run reloads its orders."""
    trading = config.trading
    return max(
        [trading.order_frequency.interval_seconds]
        + [s.interval_seconds for s in trading.strategy_order_frequency.values()]
        + [
            w.interval_seconds
            for s in trading.strategy_order_frequency.values()
            for w in (s.window("market"), s.window("side"), s.window("market_side"))
            if w is not None
        ]
    )


Venue = Callable[[AppConfig], AbstractAsyncContextManager[tuple[EngineConfig, str]]]


@contextlib.asynccontextmanager
async def open_live_session(
    app: AppConfig, ledger_path: Path | None = None, *, venue_for: Venue = venue
) -> AsyncIterator[LiveBackend]:
    """`venue_for` aims the engine at its venue (by default the in-process emulator when
    offline, Polymarket otherwise; the benchmark points it at an emulator process)."""
    path = ledger_path or app.ledger or locations.default_ledger_path()
    clock = SystemClock()
    ledger = await SqliteLedger(path).open()
    try:
        resume = await load_account(path, rate_window_s(app.engine), clock.time())
        async with venue_for(app) as (config, venue_name):
            feed = PolymarketFeed(config.feed, config.hot_assets, clock)
            parts = build_engine(
                config,
                clock,
                ledger,
                feed=feed,
                health=feed.health,
                mode="paper",
                venue=venue_name,
                seed=app.emulator_seed,
                state=resume.state,
                restore_rates=resume.recent_orders,
                lot_strategies=resume.strategies,
                known_markets=resume.markets,
            )
            if parts.restored:
                log.info("resumed the paper account in %s (%d records)", path, parts.restored)
            runner = LiveRunner(
                parts.core,
                feed,
                parts.gateway,
                ledger,
                parts.router,
                parts.builder,
                hub=parts.hub,
                sentiment=sentiment_source_for(config, clock, offline=app.offline)
                if parts.core.sentiment is not None
                else None,
            )
            yield LiveBackend(runner, parts.starting_cash, venue_name)
    finally:
        await ledger.close()

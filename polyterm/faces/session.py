"""The console's live session: the same engine the headless face runs, assembled by the
same function (`polyterm.faces.live_engine.open_live_engine`), run inside the Textual
app's own event loop.

``open_live_session`` starts the venue (the in-process emulator when offline), opens the
ledger, resumes its account and yields a backend; leaving it stops the emulator and
closes the ledger. The run itself is ``backend.run()``, which the app awaits in a worker;
``backend.stop()`` ends it the way SIGINT ends a headless run (resting orders cancelled,
the ledger flushed, the final snapshot published).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from engine.config import EngineConfig
from engine.market.markets import MarketInfo
from engine.ports import MarketChooser
from engine.runtime.commands import (
    EngineState,
    FlattenPlan,
    FlattenReport,
    FlattenScope,
    ManualOrder,
    ManualOutcome,
)
from engine.runtime.live import LiveRunner
from polyterm.faces.backend import EngineBackend
from polyterm.faces.live_engine import Venue, open_live_engine, venue
from polyterm.settings.config import AppConfig

log = logging.getLogger("polyterm.console")
WHO = "console"  # who a command was by, as the ledger records it


class LiveBackend(EngineBackend):
    def __init__(
        self, runner: LiveRunner, starting_cash: int, venue_name: str, config: EngineConfig
    ) -> None:
        super().__init__(runner.hub, runner.stream, venue_name, config)
        self.runner = runner
        self.starting_cash = starting_cash

    async def run(self) -> None:
        await self.runner.run(starting_cash=self.starting_cash)

    def stop(self) -> None:
        self.runner.stop()

    @property
    def state(self) -> EngineState:
        return self.runner.state

    def pause(self) -> None:
        self.runner.pause()

    def resume(self) -> None:
        self.runner.resume()

    def flatten_preview(self, scope: FlattenScope) -> FlattenPlan:
        return self.runner.flatten_preview(scope)

    async def flatten(self, scope: FlattenScope) -> FlattenReport:
        return await self.runner.flatten(scope, who=WHO)

    async def kill(self) -> FlattenReport:
        return await self.runner.kill(who=WHO)

    def reset(self) -> None:
        self.runner.reset(who=WHO)

    def watch(self, asset_id: str | None) -> None:
        self.runner.watch(asset_id)

    def manual_preview(self, order: ManualOrder) -> ManualOutcome:
        return self.runner.manual_preview(order)

    async def manual_order(self, order: ManualOrder) -> ManualOutcome:
        return await self.runner.manual_order(order, who=WHO)

    def cancel_order(self, order_id: str) -> bool:
        return self.runner.cancel_order(order_id, who=WHO)

    @property
    def chooses_markets(self) -> bool:
        return isinstance(self.runner.feed, MarketChooser)

    async def search_markets(self, text: str) -> Sequence[MarketInfo]:
        return await self.runner.search_markets(text)

    async def add_market(self, ref: str) -> MarketInfo:
        market = await self.runner.add_market(ref)
        log.warning("console: watching %s", market.slug or market.condition_id)
        return market

    async def remove_market(self, condition_id: str) -> MarketInfo:
        market = await self.runner.remove_market(condition_id)
        log.warning("console: stopped watching %s", market.slug or market.condition_id)
        return market


@contextlib.asynccontextmanager
async def open_live_session(
    app: AppConfig, ledger_path: Path | None = None, *, venue_for: Venue = venue
) -> AsyncIterator[LiveBackend]:
    """`venue_for` aims the engine at its venue (by default the in-process emulator when
    offline, Polymarket otherwise; the benchmark points it at an emulator process)."""
    async with open_live_engine(app, ledger_path, venue_for=venue_for) as live:
        yield LiveBackend(live.runner, live.starting_cash, live.venue, app.engine)

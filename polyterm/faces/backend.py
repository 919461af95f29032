"""What the console drives: an engine core with its snapshot hub, event stream and
commands. The live session (a LiveRunner over the emulator or Polymarket) and the
deterministic replay the snapshot tests use both present this one face to the app.

Reads of the core here (a book's depth, a token's market, the strategies' names) are for
the detail screen and the modals' labels only; they run on the UI's refresh cadence or
on a key press, never per tick.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque

from engine.fixed import price_decimal, size_decimal
from engine.runtime.core import EngineCore, FlattenPlan, FlattenScope
from engine.runtime.live import FlattenReport
from engine.runtime.snapshot import SnapshotHub
from engine.runtime.snapshot_builder import SnapshotBuilder
from engine.runtime.stream import EventStream
from polyterm.tui.history import SessionHistory
from widgets.depth import DepthView, TradePrint

DEPTH_LEVELS = 12
TRADES_KEPT = 20  # per token, for the detail screen


class EngineBackend(ABC):
    """An engine the console can watch and command."""

    def __init__(
        self,
        core: EngineCore,
        builder: SnapshotBuilder,
        hub: SnapshotHub,
        stream: EventStream,
        venue: str,
    ) -> None:
        self.core = core
        self.builder = builder
        self.hub = hub
        self.stream = stream
        self.venue = venue  # "emulator" | "polymarket" | "replay"
        self.history = SessionHistory()
        self._trades: dict[str, deque[TradePrint]] = {}
        core.books.trade_listeners.append(self._on_trade)

    def _on_trade(self, asset_id: str, price: int, size: int, side: str) -> None:
        # One append per print: the detail screen's recent trades, read at refresh time.
        tape = self._trades.get(asset_id)
        if tape is None:
            tape = self._trades[asset_id] = deque(maxlen=TRADES_KEPT)
        tape.appendleft(
            TradePrint(self.core.clock.time(), price_decimal(price), size_decimal(size), side)
        )

    # -- the run -------------------------------------------------------------------------
    @abstractmethod
    async def run(self) -> None:
        """Run until stopped; raise what ended it abnormally."""

    async def news_from_here(self) -> None:
        """Returns once the engine's events are news to a person: at once for a live
        run; after the pre-roll for a replay (its fills are history, not toasts)."""
        return None

    @abstractmethod
    def stop(self) -> None:
        """Ask the run to end cleanly (orders handled, ledger flushed)."""

    @property
    def state(self) -> str:
        """The engine's state: starting, running, paused, stopping, stopped, failed."""
        return self.core.state.value

    # -- commands --------------------------------------------------------------------------
    @abstractmethod
    def pause(self) -> None: ...

    @abstractmethod
    def resume(self) -> None: ...

    def flatten_preview(self, scope: FlattenScope) -> FlattenPlan:
        return self.core.flatten_preview(scope)

    @abstractmethod
    async def flatten(self, scope: FlattenScope) -> FlattenReport: ...

    @abstractmethod
    async def kill(self) -> FlattenReport: ...

    @abstractmethod
    def reset(self) -> None: ...

    @property
    def paused(self) -> bool:
        return self.core.state.value == "paused"

    # -- lookups for labels and the detail screen ------------------------------------------
    def strategies(self) -> list[str]:
        return [s.name for s in self.core.strategies]

    def describe(self, asset_id: str) -> tuple[str, str]:
        market = self.core.by_token.get(asset_id)
        return (market.question, market.outcome_of(asset_id)) if market else (asset_id, "?")

    def market_of(self, asset_id: str) -> str | None:
        """The condition id of the market a token belongs to."""
        market = self.core.by_token.get(asset_id)
        return market.condition_id if market else None

    def complement(self, asset_id: str) -> str | None:
        market = self.core.by_token.get(asset_id)
        return market.complement_of(asset_id) if market else None

    def depth(self, asset_id: str, levels: int = DEPTH_LEVELS) -> DepthView | None:
        book = self.core.books.books.get(asset_id)
        if book is None:
            return None
        return DepthView(
            asset_id=asset_id,
            bids=tuple((price_decimal(p), size_decimal(s)) for p, s in book.top_bids(levels)),
            asks=tuple((price_decimal(p), size_decimal(s)) for p, s in book.top_asks(levels)),
            tick=price_decimal(book.tick),
            trades=tuple(self._trades.get(asset_id, ())),
        )

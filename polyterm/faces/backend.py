"""What the console drives: an engine's snapshot hub, its event stream and its commands.
The live session (a LiveRunner over the emulator or Polymarket) and the deterministic
replay the snapshot tests use both present this one face to the app.

A backend reads the engine through its snapshots only (labels, the strategies' names,
the depth of the market the detail screen watches) and changes it through commands.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from engine.config import EngineConfig
from engine.market.markets import MarketInfo
from engine.ports import MarketChoiceError
from engine.runtime.commands import (
    EngineState,
    FlattenPlan,
    FlattenReport,
    FlattenScope,
    ManualOrder,
    ManualOutcome,
)
from engine.runtime.snapshot import DepthRow, EngineSnapshot, MarketRow, SnapshotHub
from engine.runtime.stream import EventStream
from polyterm.tui.history import SessionHistory


class EngineBackend(ABC):
    """An engine the console can watch and command."""

    def __init__(
        self, hub: SnapshotHub, stream: EventStream, venue: str, config: EngineConfig
    ) -> None:
        self.hub = hub
        self.stream = stream
        self.venue = venue  # "emulator" | "polymarket" | "replay"
        self.history = SessionHistory()
        self.flatten_slippage_ticks = config.execution.flatten_max_slippage_ticks
        self._rows_of: EngineSnapshot | None = None
        self._rows: dict[str, MarketRow] = {}
        self._watched: str | None = None

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

    def observe(self, snap: EngineSnapshot) -> None:
        """A snapshot the console received (its one subscription): one history point a
        second of engine time."""
        self.history.observe(snap)

    @property
    @abstractmethod
    def state(self) -> EngineState:
        """The engine's state now."""

    @property
    def paused(self) -> bool:
        return self.state is EngineState.PAUSED

    # -- commands --------------------------------------------------------------------------
    @abstractmethod
    def pause(self) -> None: ...

    @abstractmethod
    def resume(self) -> None: ...

    @abstractmethod
    def flatten_preview(self, scope: FlattenScope) -> FlattenPlan: ...

    @abstractmethod
    async def flatten(self, scope: FlattenScope) -> FlattenReport: ...

    @abstractmethod
    async def kill(self) -> FlattenReport: ...

    @abstractmethod
    def reset(self) -> None: ...

    @abstractmethod
    def watch(self, asset_id: str | None) -> None:
        """Have the snapshots carry this token's depth (None: none)."""

    @abstractmethod
    def manual_preview(self, order: ManualOrder) -> ManualOutcome:
        """What the risk gate says of a person's order, and what the book would give."""

    @abstractmethod
    async def manual_order(self, order: ManualOrder) -> ManualOutcome:
        """Send a person's order through the risk gate and the gateway (``manual``)."""

    @abstractmethod
    def cancel_order(self, order_id: str) -> bool:
        """Take one open order off the book; False when it is not open."""

    # -- markets by name (a live feed can change them; a replay trades the tape's) -------
    @property
    def chooses_markets(self) -> bool:
        """The markets traded can change while it runs (search, add, remove)."""
        return False

    async def search_markets(self, text: str) -> Sequence[MarketInfo]:
        """Open markets the venue finds for `text` (none: this engine cannot add any)."""
        return ()

    async def add_market(self, ref: str) -> MarketInfo:
        """Trade one more market (slug, condition id or token id) from now on."""
        raise MarketChoiceError("a replay trades the tape's markets: none can be added")

    async def remove_market(self, condition_id: str) -> MarketInfo:
        """Stop trading a market (refused while something is held or resting there)."""
        raise MarketChoiceError("a replay trades the tape's markets: none can be removed")

    def cancel_all(self) -> int:
        """Cancel every open order of the latest snapshot; how many were asked."""
        snap = self.hub.latest
        if snap is None:
            return 0
        return sum(1 for o in snap.orders if self.cancel_order(o.order_id))

    # -- lookups for labels and the detail screen, from the latest snapshot ----------------
    def _row(self, asset_id: str) -> MarketRow | None:
        snap = self.hub.latest
        if snap is None:
            return None
        if snap is not self._rows_of:
            self._rows_of = snap
            self._rows = {row.asset_id: row for row in snap.markets}
        return self._rows.get(asset_id)

    def strategies(self) -> list[str]:
        """The configured strategies (a combined decision is not one)."""
        snap = self.hub.latest
        return [] if snap is None else [r.name for r in snap.strategies if r.weight is not None]

    def describe(self, asset_id: str) -> tuple[str, str]:
        row = self._row(asset_id)
        return (row.question, row.outcome) if row else (asset_id, "?")

    def market_of(self, asset_id: str) -> str | None:
        """The condition id of the market a token belongs to."""
        row = self._row(asset_id)
        return row.market if row else None

    def complement(self, asset_id: str) -> str | None:
        row = self._row(asset_id)
        return row.complement if row else None

    def market_row(self, asset_id: str) -> MarketRow | None:
        """The token's row in the latest snapshot (its book's best prices, its tick)."""
        return self._row(asset_id)

    def depth(self, asset_id: str) -> DepthRow | None:
        """The token's depth as the latest snapshot carries it; asking starts the
        watch, so the next snapshot carries it if this one does not."""
        if self._watched != asset_id:
            self._watched = asset_id
            self.watch(asset_id)
        snap = self.hub.latest
        depth = snap.depth if snap is not None else None
        return depth if depth is not None and depth.asset_id == asset_id else None

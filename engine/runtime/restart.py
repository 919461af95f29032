"""A run that resumes a ledger: the orders it left open, and ``execution.on_restart``.

Orders the ledger says are open but no venue holds any more (the paper exchange's end
with their run) are recorded cancelled when the run starts. With ``on_restart =
"replace"``, each one's remainder goes back through the risk gate like a new decision,
once its market's book is tradeable (or is given up after a grace period).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from msgspec.structs import replace

from engine.clock import Clock
from engine.events import EngineEvent, OrderUpdated
from engine.execution.oms import OrderManager
from engine.exit_reasons import ExitReason
from engine.market.book import OrderBook
from engine.market.registry import MarketRegistry
from engine.orders import OrderRequest, OrderStatus, Side
from engine.risk.entry import EntryScreen
from engine.risk.refusals import Refusals
from engine.runtime.exits import ExitDesk

# After a restart, how long the kill switch (and replaced orders) wait for held positions'
# books before counting them at cost (or giving up on the replacement).
RESTORE_MARK_GRACE_S = 30.0
ORPHANED = "not resting after a restart (paper orders end with their run)"


class Restart:
    def __init__(
        self,
        clock: Clock,
        emit: Callable[[EngineEvent], None],
        *,
        oms: OrderManager,
        screen: EntryScreen,
        exits: ExitDesk,
        refusals: Refusals,
        registry: MarketRegistry,
        tradeable: Callable[[str], OrderBook | None],
        orphans: Sequence[tuple[str, int]] = (),
        replacements: Sequence[OrderRequest] = (),
    ) -> None:
        self._clock = clock
        self._emit = emit
        self._oms = oms
        self._screen = screen
        self._exits = exits
        self._refusals = refusals
        self._registry = registry
        self._tradeable = tradeable
        self._orphans = list(orphans)  # (order id, filled)
        self.waiting = list(replacements)
        self.counts: Counter[str] = Counter()
        self.started_at = clock.time()

    def begin(self, at: float) -> None:
        """The run begins (the grace period for books counts from here)."""
        self.started_at = at

    def close_orphans(self) -> None:
        """Open orders no venue holds any more are closed on the record."""
        for order_id, filled in self._orphans:
            self._emit(
                OrderUpdated(
                    self._clock.time(), order_id, OrderStatus.CANCELLED, filled, 0, ORPHANED
                )
            )
        self._orphans = []

    def in_grace(self, at: float) -> bool:
        return at - self.started_at < RESTORE_MARK_GRACE_S

    def place(self, at: float) -> None:
        """Each replaced order whose book is tradeable goes back through the risk gate."""
        waiting: list[OrderRequest] = []
        refuse = self._refusals.refuse
        for old in self.waiting:
            market = self._registry.market_of(old.asset_id)
            book = self._tradeable(old.asset_id)
            if market is None or book is None:
                if self.in_grace(at):
                    waiting.append(old)
                else:
                    why = f"not replaced: {old.order_id}'s market has no book in this run"
                    refuse(old.asset_id, old.side, old.strategy, why, old.size, "not_replaced")
                continue
            reason = f"replaces {old.order_id} after a restart"
            if old.is_exit or old.side is Side.SELL:
                self._exits.sell_lot(
                    old.asset_id, reason, ExitReason.REPLACED, market, book, old.strategy
                )
                continue
            verdict, scale = self._screen.screen(old.strategy, market, old.asset_id, old.price, at)
            if verdict is not None:
                why = f"not replaced: {verdict.reason}"
                refuse(old.asset_id, Side.BUY, old.strategy, why, old.size, verdict.rule or "risk")
                continue
            inputs = self._screen.inputs(
                old.strategy, market, old.asset_id, old.price, 1.0, old.size, scale, at
            )
            sized = self._screen.gate.size(inputs)
            if sized.size <= 0:
                why = f"not replaced: sized to zero by {sized.rule}"
                refuse(old.asset_id, Side.BUY, old.strategy, why, old.size, "sizing")
                continue
            order = replace(
                old,
                order_id=self._oms.next_order_id(),
                size=sized.size,
                reason=reason,
                created_at=at,
            )
            self._screen.gate.limiter.record(old.strategy, market.condition_id, Side.BUY, at)
            self.counts["entry_orders"] += 1
            self._oms.submit(order, market)
        self.waiting = waiting

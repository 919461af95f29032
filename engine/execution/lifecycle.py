"""The order lifecycle: every order the engine decided, and where it is now.

new → live → partially_filled → filled; or cancelled / expired / rejected (and, from a
live venue, matched → confirmed | failed). Each transition comes back as an
:class:`~engine.events.OrderUpdated` for the ledger's ``order_events``. The tracker also
answers what open orders already promise: shares being sold (so an exit never sells a
share twice), shares being bought (so a position cap counts them) and cash set aside for
open buys (price times size plus the worst-case fee).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.events import OrderUpdated
from engine.exit_reasons import ExitReason
from engine.market.fees import FeeSchedule
from engine.orders import ExitLevels, Fill, OrderRequest, OrderStatus, Side


@dataclass(slots=True)
class TrackedOrder:
    request: OrderRequest
    status: OrderStatus
    fee_schedule: FeeSchedule
    filled: int = 0
    venue_id: str | None = None
    # What the engine knew when it decided the order: the book's mid (fills' slippage is
    # measured against it), the exit levels of the lot an entry opens, why an exit sells.
    decision_mid: int | None = None
    levels: ExitLevels | None = None
    exit_kind: ExitReason | None = None
    venue_status: str = ""  # what a live venue last said of it (live, matched, ...)

    @property
    def remaining(self) -> int:
        return self.request.size - self.filled if self.status.is_open else 0


class OrderTracker:
    def __init__(self) -> None:
        self.open: dict[str, TrackedOrder] = {}
        self.version = 0  # bumps on every change, for the snapshot's orders section
        self._selling: dict[str, int] = {}  # asset -> shares open sells may still sell
        self._buying: dict[str, int] = {}  # asset -> shares open buys may still buy
        self.reserved_cash = 0  # cash units promised to open buys (with taker fee)
        self._buy_cost: dict[str, int] = {}  # market -> price x remaining of open buys

    def add(self, tracked: TrackedOrder) -> None:
        """A new order (status "new"; the ledger records it from OrderSubmitted)."""
        self.open[tracked.request.order_id] = tracked
        self._hold(tracked, +1)
        self.version += 1

    def get(self, order_id: str) -> TrackedOrder | None:
        return self.open.get(order_id)

    def on_fill(self, fill: Fill) -> None:
        """Count a fill against its order (the status follows in on_result/close)."""
        tracked = self.open.get(fill.order_id)
        if tracked is None:
            return
        self._hold(tracked, -1)
        tracked.filled += fill.size
        self._hold(tracked, +1)
        self.version += 1

    def unfill(self, order_id: str, size: int) -> None:
        """A fill of an open order was reversed (its trade failed): the shares work again."""
        tracked = self.open.get(order_id)
        if tracked is None:
            return
        self._hold(tracked, -1)
        tracked.filled = max(0, tracked.filled - size)
        self._hold(tracked, +1)
        self.version += 1

    def update(
        self,
        order_id: str,
        status: OrderStatus,
        reason: str | None,
        now: float,
        venue_id: str | None = None,
    ) -> OrderUpdated | None:
        """The venue says where an open order stands (its fills were counted first)."""
        tracked = self.open.get(order_id)
        if tracked is None:
            return None
        named = venue_id is not None and venue_id != tracked.venue_id
        tracked.venue_id = venue_id or tracked.venue_id
        moved = self._move(tracked, status, reason, now)
        if moved is None and named:
            # A live order's venue id, known before it leaves (its signed hash): recorded
            # at once, so a crash can never leave an order at the venue the ledger cannot
            # name.
            self.version += 1
            return OrderUpdated(
                now, order_id, tracked.status, tracked.filled, tracked.remaining, reason, venue_id
            )
        return moved

    def close(
        self, order_id: str, status: OrderStatus, reason: str, now: float
    ) -> OrderUpdated | None:
        """Cancelled (by us or by settlement) or expired."""
        tracked = self.open.get(order_id)
        if tracked is None:
            return None
        return self._move(tracked, status, reason, now)

    def _move(
        self, tracked: TrackedOrder, status: OrderStatus, reason: str | None, now: float
    ) -> OrderUpdated | None:
        if status is tracked.status and status is not OrderStatus.PARTIALLY_FILLED:
            return None
        self._hold(tracked, -1)
        tracked.status = status
        if status.is_open:
            self._hold(tracked, +1)
        else:
            del self.open[tracked.request.order_id]
        self.version += 1
        return OrderUpdated(
            now,
            tracked.request.order_id,
            status,
            tracked.filled,
            tracked.remaining,
            reason,
            tracked.venue_id,
        )

    def _hold(self, tracked: TrackedOrder, sign: int) -> None:
        req = tracked.request
        left = req.size - tracked.filled
        if left <= 0 or not tracked.status.is_open:
            return
        book = self._buying if req.side is Side.BUY else self._selling
        book[req.asset_id] = book.get(req.asset_id, 0) + sign * left
        if not book[req.asset_id]:
            del book[req.asset_id]
        if req.side is Side.BUY:
            cost = req.price * left + tracked.fee_schedule.taker_fee(req.price, left)
            self.reserved_cash += sign * cost
            market_cost = self._buy_cost.get(req.market, 0) + sign * req.price * left
            if market_cost:
                self._buy_cost[req.market] = market_cost
            else:
                self._buy_cost.pop(req.market, None)

    def buy_cost(self, market: str) -> int:
        """Cash units open buys in this market would pay (price x remaining, no fee)."""
        return self._buy_cost.get(market, 0)

    def selling(self, asset_id: str) -> int:
        return self._selling.get(asset_id, 0)

    def selling_by(self, asset_id: str, strategy: str) -> int:
        """Shares open sells of this strategy's (its lot's) may still sell here."""
        return sum(
            t.remaining
            for t in self.open.values()
            if t.request.asset_id == asset_id
            and t.request.side is Side.SELL
            and t.request.strategy == strategy
        )

    def buying(self, asset_id: str) -> int:
        return self._buying.get(asset_id, 0)

    def expired(self, now: float) -> list[str]:
        return [
            oid
            for oid, t in self.open.items()
            if t.request.expires_at is not None and t.request.expires_at <= now
        ]

    def on_market(self, market: str) -> list[str]:
        return [oid for oid, t in self.open.items() if t.request.market == market]

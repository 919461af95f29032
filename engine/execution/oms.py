"""The order manager: every order the engine sends, and the one door every report about
orders comes in by.

It hands out the engine's client ids (``r<run>-<n>``, unique across runs of a ledger),
tracks each order's lifecycle and what open orders promise (:mod:`.lifecycle`), sends
orders and cancels to the runner's one queue, and takes back what the venue says through
:meth:`OrderManager.on_reports` -- the answer to a request and an unasked report alike,
paper or live:

- fills are counted once per ``fill_id`` (the venue's trade id), whatever repeats them;
- a fill for an order we do not know is still counted (positions and cash must match the
  venue), noted, and blocks new orders until the gateway's reconciliation explains it;
- a fill or answer after the order closed (a cancel racing a fill, an answer after a
  timeout) is applied to the order it belongs to, never dropped;
- a fill may come before the order's ack; the ack then only moves the status;
- a failed trade's fill is reversed.

A gateway can also say that no new orders may go out now (:meth:`block`): every new order
is refused until it lifts the block; cancels still go.
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Protocol

from msgspec.structs import replace

from engine.clock import Clock
from engine.events import (
    EngineEvent,
    OrderSubmitted,
    OrderUpdated,
    OrderVenueStatus,
    Redeemed,
    ShadowRecorded,
    TradingBlockChanged,
    VenueNoted,
)
from engine.execution.attribution import Attribution
from engine.execution.lifecycle import OrderTracker, TrackedOrder
from engine.exit_reasons import ExitReason
from engine.fixed import format_price, format_size
from engine.logbook import Logbook
from engine.market.book import OrderBook
from engine.market.fees import FREE
from engine.market.markets import MarketInfo
from engine.orders import ExitLevels, Fill, OrderRequest, OrderStatus, OrderType, Side
from engine.venue import (
    AdoptedOrder,
    BlockReason,
    FillReport,
    OrderUpdate,
    TradeStatus,
    TradeUpdate,
    TradingBlock,
    VenueReport,
)

log = logging.getLogger("engine.orders")
trades_log = logging.getLogger("engine.trades")  # one readable line per order and fill

RECENTLY_CLOSED = 4096  # closed orders remembered for late fills and answers
# A live venue's order statuses, as the ledger's venue_status words (filled says nothing
# more: each fill's trade said "matched" already).
_VENUE_WORDS = {
    OrderStatus.LIVE: "live",
    OrderStatus.PARTIALLY_FILLED: "live",
    OrderStatus.MATCHED: "matched",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.EXPIRED: "cancelled",
    OrderStatus.REJECTED: "rejected",
}


class OrderOutbound(Protocol):
    """Where orders and cancels leave for the gateway (the runner's queue)."""

    def send(self, order: OrderRequest) -> None: ...

    def send_cancel(self, order_id: str, reason: str) -> None: ...


class FillSink(Protocol):
    """What counts a fill in the account (the accounting implements it)."""

    def apply_fill(self, fill: Fill, order: TrackedOrder | None, final: bool) -> bool:
        """Count the fill; False when it cannot be (a sell larger than the position)."""

    def confirm_fill(self, fill_id: str) -> None:
        """A fill's trade is final: its effect need not be kept for a reversal."""

    def reverse_fill(self, fill_id: str, at: float, reason: str) -> Fill | None:
        """Undo a fill whose trade failed; the fill undone (None: not known)."""


class OrderManager:
    def __init__(
        self,
        clock: Clock,
        emit: Callable[[EngineEvent], None],
        fills: FillSink,
        attribution: Attribution,
        *,
        tracker: OrderTracker,
        market_of: Callable[[str], MarketInfo | None],
        touched: Callable[[str], None],
        hit: Callable[[str], None],
        rejected: Callable[[str], None],
        durable: Callable[[], Awaitable[None]] | None = None,
        venue_statuses: bool = False,
        logbook: Logbook | None = None,
    ) -> None:
        self._clock = clock
        self._logbook = logbook or Logbook()
        self._emit = emit
        self._fills = fills
        self._attribution = attribution
        self.tracker = tracker
        self._market_of = market_of
        self._touched = touched  # exposure: something changed in this market
        self._hit = hit  # the feed: keep this asset subscribed
        self._rejected = rejected  # the reject counters
        self._durable = durable  # waits until everything emitted so far is on disk
        # A live venue's word on each order (live, matched, mined, ...) is recorded beside
        # the lifecycle; paper orders have nothing more to say than their lifecycle.
        self._venue_statuses = venue_statuses
        self._fill_orders: dict[str, str] = {}  # unconfirmed fill id -> its order's id
        self._submit_listeners: list[Callable[[OrderRequest], None]] = []
        self._outbound: OrderOutbound | None = None
        self.run_id = 0
        self._seq = 0
        self._cancel_requested: dict[str, str] = {}  # order id -> why
        self._seen_fills: set[str] = set()
        self._closed: OrderedDict[str, TrackedOrder] = OrderedDict()
        self.blocks: dict[BlockReason, TradingBlock] = {}
        self.counts: Counter[str] = Counter()

    # -- wiring ---------------------------------------------------------------------------
    def bind(self, outbound: OrderOutbound) -> None:
        """The runner that carries orders to the gateway (one queue per order)."""
        self._outbound = outbound

    def start(self, run_id: int) -> None:
        self.run_id = run_id
        for block in self.blocks.values():
            # Blocks a gateway set at assembly, before the run had a row to stamp.
            self._emit(TradingBlockChanged(block.since, block.reason, block.detail, True))

    def seen(self, fill_ids: Sequence[str]) -> None:
        """Fills already in the ledger (a resumed run): a venue repeating them after a
        restart is not counted twice."""
        self._seen_fills.update(fill_ids)

    def unsettled(self, fills: dict[str, str]) -> None:
        """Fills from the ledger whose trades are not final (fill id -> order id): their
        later statuses still reach their order's venue status."""
        self._fill_orders.update(fills)

    def add_submit_listener(self, listener: Callable[[OrderRequest], None]) -> None:
        """Told of every order that leaves for the gateway (live limits count entries)."""
        self._submit_listeners.append(listener)

    # -- orders ---------------------------------------------------------------------------
    def next_order_id(self) -> str:
        """The engine's client id: unique across runs of one ledger."""
        self._seq += 1
        return f"r{self.run_id}-{self._seq}"

    @property
    def accepting(self) -> bool:
        """New orders may go out (no trading block)."""
        return not self.blocks

    @property
    def blocked(self) -> TradingBlock | None:
        """The first block in force, if any."""
        return next(iter(self.blocks.values()), None)

    def submit(
        self,
        order: OrderRequest,
        market: MarketInfo | None = None,
        *,
        decision_mid: int | None = None,
        levels: ExitLevels | None = None,
        exit_kind: ExitReason | None = None,
    ) -> str:
        """Track an order and send it; returns its id. While trading is blocked it is
        recorded refused and never sent (callers check :attr:`accepting` first: this is
        the last line, so nothing slips out)."""
        market = market or self._market_of(order.asset_id)
        self.counts["orders"] += 1
        self._attribution.of(order.strategy).orders += 1
        self._hit(order.asset_id)
        if trades_log.isEnabledFor(logging.INFO):
            self._logbook.write(partial(_log_order, order, market))
        # OrderSubmitted is the order's "new" transition in the ledger.
        tracked = TrackedOrder(
            order,
            OrderStatus.NEW,
            market.fees if market is not None else FREE,
            decision_mid=decision_mid,
            levels=levels,
            exit_kind=exit_kind,
        )
        self.tracker.add(tracked)
        self._touched(order.market)
        self._emit(OrderSubmitted(order.created_at, order))
        block = self.blocked
        if block is not None or self._outbound is None:
            why = f"trading blocked ({block.reason}): {block.detail}" if block else "no gateway"
            self._apply_update(
                OrderUpdate(order.order_id, OrderStatus.REJECTED, order.created_at, why)
            )
            return order.order_id
        for listener in self._submit_listeners:
            listener(order)
        self._outbound.send(order)
        return order.order_id

    def sell(
        self,
        market: MarketInfo,
        asset_id: str,
        price: int,
        size: int,
        strategy: str,
        reason: str,
        book: OrderBook,
        at: float,
        kind: ExitReason,
        order_id: str | None = None,
        *,
        order_type: OrderType = OrderType.FAK,
    ) -> str:
        """Send a closing taking sell (exits, flatten, kill: FAK unless asked otherwise);
        returns its order id (the one given, when the caller had to know it before a
        gateway that answers at once)."""
        order = OrderRequest(
            order_id=order_id or self.next_order_id(),
            asset_id=asset_id,
            market=market.condition_id,
            side=Side.SELL,
            price=price,
            size=size,
            order_type=order_type,
            strategy=strategy,
            reason=reason,
            created_at=at,
            is_exit=True,
        )
        return self.submit(order, market, decision_mid=book.mid_price(), exit_kind=kind)

    def cancel(self, order_id: str, reason: str = "cancelled") -> None:
        """Ask the gateway to take an open order off the book (its answer closes it)."""
        if self.tracker.get(order_id) is None:
            return
        self._cancel_requested[order_id] = reason
        if self._outbound is not None:
            self._outbound.send_cancel(order_id, reason)

    def close(self, order_id: str, status: OrderStatus, reason: str, tell: bool = True) -> None:
        """Close an order here at once (expiry, settlement, the end of a run), then tell
        the gateway (unless it was told already); its answer finds the order closed and
        changes nothing."""
        tracked = self.tracker.get(order_id)
        if tracked is None:
            return
        self._touched(tracked.request.market)
        self._record(self.tracker.close(order_id, status, reason, self._clock.time()), tracked)
        self._cancel_requested.pop(order_id, None)
        if tell and self._outbound is not None:
            self._outbound.send_cancel(order_id, reason)

    def expire_due(self, now: float) -> None:
        for order_id in self.tracker.expired(now):
            self.close(order_id, OrderStatus.EXPIRED, "expired (GTD)")

    def close_market(self, market: str, reason: str) -> None:
        """The market resolved: its open orders are cancelled."""
        for order_id in self.tracker.on_market(market):
            self.close(order_id, OrderStatus.CANCELLED, reason)

    # -- the one entry point -------------------------------------------------------------
    def on_reports(self, reports: Sequence[VenueReport]) -> None:
        """What the venue says, in the order it happened: answers and unasked reports."""
        touched: dict[str, None] = {}
        for report in reports:
            if isinstance(report, FillReport):
                self._apply_fill(report, touched)
            elif isinstance(report, OrderUpdate):
                self._apply_update(report)
            else:
                self._apply_trade(report)
        # An order whose fills reached its size is done, said or not (a live venue's
        # fills and its order updates arrive as separate messages).
        for order_id in touched:
            tracked = self.tracker.get(order_id)
            if tracked is not None and tracked.filled >= tracked.request.size:
                self._apply_update(OrderUpdate(order_id, OrderStatus.FILLED, self._clock.time()))

    def _apply_fill(self, report: FillReport, touched: dict[str, None]) -> None:
        fill = report.fill
        if fill.fill_id in self._seen_fills:
            self.counts["duplicate_fills"] += 1
            self._note("duplicate_fill", "counted once", fill.order_id, fill.fill_id, fill.at)
            return
        self._seen_fills.add(fill.fill_id)
        final = report.status is TradeStatus.CONFIRMED
        if not final:
            self._fill_orders[fill.fill_id] = fill.order_id
        tracked = self.tracker.get(fill.order_id)
        if tracked is not None:
            if self._fills.apply_fill(fill, tracked, final):
                self.tracker.on_fill(fill)
                self._touched(fill.market)
                touched[fill.order_id] = None
                self._venue_status(tracked, str(report.status), fill.at, f"trade {fill.fill_id}")
            return
        closed = self._closed.get(fill.order_id)
        if closed is not None:
            # The order closed before this fill reached us (a cancel raced it, or its
            # answer came after a timeout): the fill is still ours.
            if self._fills.apply_fill(fill, closed, final):
                closed.filled += fill.size
                self._touched(fill.market)
                self._note(
                    "late_fill", "fill after the order closed", fill.order_id, fill.fill_id, fill.at
                )
                self._emit(
                    OrderUpdated(
                        fill.at,
                        fill.order_id,
                        closed.status,
                        closed.filled,
                        0,
                        "fill after the order closed",
                        closed.venue_id,
                    )
                )
            return
        # An order we never sent (or forgot): count it -- the account must match the
        # venue -- and hold new orders until the gateway's reconciliation explains it.
        self.counts["unknown_fills"] += 1
        self._fills.apply_fill(fill, None, final)
        self._touched(fill.market)
        detail = f"fill {fill.fill_id} for an order the engine does not know ({fill.order_id})"
        self._note("unknown_order_fill", detail, fill.order_id, fill.fill_id, fill.at)
        self.block(BlockReason.RECONCILIATION, detail)

    def _apply_update(self, report: OrderUpdate) -> None:
        order_id = report.order_id
        tracked = self.tracker.get(order_id)
        if tracked is None:
            closed = self._closed.get(order_id)
            if closed is not None and report.venue_id is not None and report.status in _VENUE_WORDS:
                # The venue's word on an order the engine closed already (its cancel's
                # answer after a local expiry): the venue status still moves.
                self._venue_status(closed, _VENUE_WORDS[report.status], report.at, report.reason)
            if order_id not in self._closed and report.status.is_open:
                self._note(
                    "unknown_order",
                    f"venue reports {report.status} for it",
                    order_id,
                    None,
                    report.at,
                )
            return
        status = report.status
        if report.venue_id is not None and status in _VENUE_WORDS:
            self._venue_status(tracked, _VENUE_WORDS[status], report.at, report.reason)
        if status is OrderStatus.LIVE and tracked.filled:
            # The ack of an order some of whose fills came first (a live venue's user
            # channel can beat the answer to the request): it rests part filled.
            status = OrderStatus.PARTIALLY_FILLED
        update = self.tracker.update(order_id, status, report.reason, report.at, report.venue_id)
        self._touched(tracked.request.market)
        self._record(update, tracked)
        if not status.is_open:
            self._cancel_requested.pop(order_id, None)
            if status is OrderStatus.REJECTED:
                self._rejected(report.reason or "rejected by the gateway")
                self._logbook.write(
                    partial(trades_log.info, "REJECTED %s: %s", order_id, report.reason)
                )
        elif order_id in self._cancel_requested and self._outbound is not None:
            # Cancelled while it was on its way: now the venue holds it, cancel it.
            self._outbound.send_cancel(order_id, self._cancel_requested[order_id])

    def _apply_trade(self, report: TradeUpdate) -> None:
        order_id = self._fill_orders.get(report.fill_id)
        if report.status.is_final:
            self._fill_orders.pop(report.fill_id, None)
        if order_id is not None and report.status is not TradeStatus.FAILED:
            order = self.tracker.get(order_id) or self._closed.get(order_id)
            if order is not None:
                self._venue_status(order, str(report.status), report.at, f"trade {report.fill_id}")
        if report.status is TradeStatus.CONFIRMED:
            self._fills.confirm_fill(report.fill_id)
        elif report.status is TradeStatus.FAILED:
            why = f"trade failed: {report.reason or 'the venue could not settle it'}"
            fill = self._fills.reverse_fill(report.fill_id, report.at, why)
            if fill is None:
                self._note("unknown_trade", why, None, report.fill_id, report.at)
                return
            self.counts["failed_fills"] += 1
            self._touched(fill.market)
            self._note("trade_failed", why, fill.order_id, fill.fill_id, report.at)
            tracked = self.tracker.get(fill.order_id)
            if tracked is not None:
                self.tracker.unfill(fill.order_id, fill.size)
                filled, status, venue_id = tracked.filled, tracked.status, tracked.venue_id
            else:
                closed = self._closed.get(fill.order_id)
                if closed is None:
                    return
                closed.filled = max(0, closed.filled - fill.size)
                filled, status, venue_id = closed.filled, closed.status, closed.venue_id
            self._emit(OrderUpdated(report.at, fill.order_id, status, filled, 0, why, venue_id))
            order = tracked or self._closed.get(fill.order_id)
            if order is not None:
                self._venue_status(order, str(TradeStatus.FAILED), report.at, why)

    def _venue_status(self, order: TrackedOrder, word: str, at: float, detail: str | None) -> None:
        """Record what a live venue says of an order, when it says something new."""
        if not self._venue_statuses or order.venue_status == word and word != "matched":
            return
        order.venue_status = word
        self.tracker.version += 1
        self._emit(
            OrderVenueStatus(at, order.request.order_id, word, order.filled, detail, order.venue_id)
        )

    def _record(self, update: OrderUpdated | None, tracked: TrackedOrder) -> None:
        if update is None:
            return
        self._emit(update)
        if not update.status.is_open:
            closed = self._closed
            closed[tracked.request.order_id] = tracked
            if len(closed) > RECENTLY_CLOSED:
                closed.popitem(last=False)

    # -- trading blocks (the gateway's say) ------------------------------------------------
    def block(self, reason: BlockReason, detail: str) -> None:
        """No new orders until :meth:`unblock` with this reason."""
        current = self.blocks.get(reason)
        if current is not None and current.detail == detail:
            return
        at = self._clock.time()
        self.blocks[reason] = TradingBlock(reason, detail, current.since if current else at)
        if current is None:
            log.warning("trading blocked (%s): %s", reason, detail)
        if self.run_id:
            self._emit(TradingBlockChanged(at, reason, detail, True))

    def unblock(self, reason: BlockReason) -> None:
        if self.blocks.pop(reason, None) is None:
            return
        log.warning("trading unblocked (%s)", reason)
        if self.run_id:
            self._emit(TradingBlockChanged(self._clock.time(), reason, "", False))

    # -- what a live gateway needs besides (LiveVenueSink) ----------------------------------
    def note(self, kind: str, detail: str, order_id: str | None = None) -> None:
        self._note(kind, detail, order_id, None, self._clock.time())

    async def recorded(self) -> None:
        """Once everything emitted so far is on disk (at once without a ledger)."""
        if self._durable is not None:
            await self._durable()

    def knows_fill(self, fill_id: str) -> bool:
        return fill_id in self._seen_fills

    def adopt(self, adopted: AdoptedOrder) -> str:
        """Track an order the venue still holds (a restart found it); its engine id.

        One the ledger knows keeps its id, strategy and reason; one it does not is
        recorded now as an order of its own, under a new id."""
        order = adopted.order
        if self.tracker.get(order.order_id) is not None:
            return order.order_id
        if not adopted.known:
            order = replace(order, order_id=self.next_order_id())
        market = self._market_of(order.asset_id)
        tracked = TrackedOrder(
            order,
            OrderStatus.NEW,
            market.fees if market is not None else FREE,
            filled=adopted.filled,
            venue_id=adopted.venue_id,
        )
        self.tracker.add(tracked)
        self._touched(order.market)
        self._hit(order.asset_id)
        if not adopted.known:
            self._emit(OrderSubmitted(self._clock.time(), order))
        at = self._clock.time()
        update = self.tracker.update(
            order.order_id, adopted.status, adopted.reason, at, adopted.venue_id
        )
        self._record(update, tracked)
        if tracked.status is OrderStatus.NEW:
            # Adopted as it was (still "new" in the ledger): say where it now stands.
            self._emit(
                OrderUpdated(
                    at,
                    order.order_id,
                    tracked.status,
                    tracked.filled,
                    tracked.remaining,
                    adopted.reason,
                    adopted.venue_id,
                )
            )
        word = _VENUE_WORDS.get(adopted.status)
        if word is not None and adopted.venue_id:
            self._venue_status(tracked, word, at, adopted.reason)
        return order.order_id

    def redeemed(
        self, market: str, asset_id: str, shares: int, payout: int, transaction: str
    ) -> None:
        """A redemption on chain (the account settled at resolution; this is the pUSD)."""
        self._emit(Redeemed(self._clock.time(), market, asset_id, shares, payout, transaction))

    def on_shadow(self, reports: Sequence[VenueReport]) -> None:
        """The paper model's view of live orders: recorded apart, never in the account."""
        for report in reports:
            at = self._clock.time()
            if isinstance(report, FillReport):
                f = report.fill
                self._emit(
                    ShadowRecorded(
                        f.at,
                        f.order_id,
                        "filled",
                        f.size,
                        f.fill_id,
                        f.price,
                        f.size,
                        f.fee,
                        str(f.liquidity),
                    )
                )
            elif isinstance(report, OrderUpdate):
                self._emit(
                    ShadowRecorded(
                        report.at or at,
                        report.order_id,
                        str(report.status),
                        0,
                        None,
                        reason=report.reason,
                    )
                )

    def _note(
        self, kind: str, detail: str, order_id: str | None, fill_id: str | None, at: float
    ) -> None:
        log.warning("venue: %s: %s (order %s, fill %s)", kind, detail, order_id, fill_id)
        self._emit(VenueNoted(at, kind, detail, order_id, fill_id))

    # -- views ------------------------------------------------------------------------------
    def get(self, order_id: str) -> TrackedOrder | None:
        return self.tracker.get(order_id)

    def open_ids(self) -> list[str]:
        return list(self.tracker.open)


def _log_order(order: OrderRequest, market: MarketInfo | None) -> None:
    trades_log.info(
        "ORDER %s %s %s %s @ %s %s%s '%s' strategy=%s reason=%s",
        order.order_id,
        order.side.value,
        format_size(order.size),
        market.outcome_of(order.asset_id) if market else order.asset_id[:12],
        format_price(order.price),
        order.order_type.value,
        " post-only" if order.post_only else "",
        market.question if market else "",
        order.strategy or "-",
        order.reason or "-",
    )

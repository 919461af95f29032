"""Reconciliation: the venue's open orders, trades and balances against what the engine
holds, at start and after every reconnect (the user channel replays nothing it missed).

- Trades since the last look become fills (counted once per trade id) or their new
  status; a trade of an order the engine does not know is still counted, and flagged.
- At start, orders the ledger shows open are found at the venue by their venue id: still
  resting, they are adopted or cancelled (``execution.on_restart``); finished, their end
  is reported; never signed (no venue id), they never left. Orders resting at the venue
  that the ledger does not know are adopted or cancelled the same way.
- Every token the engine holds or has traded is checked against the venue's balance.
  A difference that the fills still settling do not explain is recorded and blocks new
  orders (a ``RECONCILIATION`` trading block) until a later reconciliation finds none;
  entries stay refused meanwhile, exits and cancels go on. pUSD differences (a deposit, a
  withdrawal, a settlement not redeemed yet) are recorded; sizing already uses the
  venue's figure when it is the smaller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.adapters.polymarket.live.balances import Balances
from engine.adapters.polymarket.live.orders import VenueOrders
from engine.adapters.polymarket.live.wire import VenueOrder, VenueTrade
from engine.clock import Clock
from engine.fixed import format_cash, format_size
from engine.orders import OrderRequest, OrderStatus, OrderType, Side
from engine.venue import AdoptedOrder, BlockReason, LiveVenueSink, OrderUpdate, VenueReport

log = logging.getLogger("engine.live.reconcile")

CASH_TOLERANCE = 10**8  # 0.01 USDC in cash units: fee rounding is not a difference


@dataclass(frozen=True, slots=True)
class LedgerOrder:
    """An order the ledger shows open, as the last run left it."""

    order: OrderRequest
    filled: int
    venue_id: str | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one reconciliation found."""

    trades: int
    reports: int
    adopted: int
    cancelled: int
    differences: tuple[str, ...]


class Reconciler:
    def __init__(
        self,
        client: Any,
        clock: Clock,
        orders: VenueOrders,
        balances: Balances,
        *,
        sink: Callable[[], LiveVenueSink],
        holdings: Callable[[], Mapping[str, int]],
        cash: Callable[[], int],
        on_restart: str,
        ledger_open: Sequence[LedgerOrder] = (),
        since: float,
    ) -> None:
        self._client = client
        self._clock = clock
        self._orders = orders
        self._balances = balances
        self._sink = sink
        self._holdings = holdings
        self._cash = cash
        self._adopt = on_restart in ("adopt", "replace")
        self._ledger_open = list(ledger_open)
        self.since = since  # trades from this time on are read (unix seconds)
        self.runs = 0
        self.last: Outcome | None = None
        self.traded_assets: set[str] = set()
        self._last_gap = 0  # the pUSD difference last recorded

    async def run(self, why: str) -> Outcome:
        """Reconcile once; raises the SDK's errors when the venue cannot be read (the
        caller keeps trading blocked and tries again)."""
        sink = self._sink()
        start = self.runs == 0
        now = self._clock.time()
        venue_open = [VenueOrder.from_rest(o, now) async for o in self._open_orders()]
        adopted = cancelled = 0
        trades = await self._trades()
        reports: list[VenueReport] = []
        if start:
            adopted, cancelled = await self._restart(venue_open, sink)
        else:
            cancelled += await self._strangers(venue_open, sink)
        for trade in trades:
            self.traded_assets.add(trade.asset_id)
            reports.extend(self._orders.trade_reports(trade, sink.knows_fill))
        if reports:
            sink.on_reports(reports)
        finished = await self._finished(venue_open, sink)
        self.since = max(self.since, now - 60.0)
        differences = await self._balances_differ(sink)
        self.runs += 1
        outcome = Outcome(len(trades), len(reports) + finished, adopted, cancelled, differences)
        self.last = outcome
        if differences:
            detail = "; ".join(differences)
            sink.note("reconciliation_difference", f"{why}: {detail}")
            sink.block(
                BlockReason.RECONCILIATION,
                f"the venue and the ledger differ ({detail}); entries wait for a "
                "reconciliation that finds them equal",
            )
        else:
            if reports or adopted or cancelled:
                sink.note(
                    "reconciled",
                    f"{why}: {len(trades)} trades read, {len(reports)} reports, "
                    f"{adopted} orders adopted, {cancelled} cancelled",
                )
            sink.unblock(BlockReason.RECONCILIATION)
        log.info(
            "reconciled (%s): %d trades, %d reports, %d adopted, %d cancelled, %d differences",
            why,
            len(trades),
            len(reports),
            adopted,
            cancelled,
            len(differences),
        )
        return outcome

    # -- reads --------------------------------------------------------------------------
    def _open_orders(self) -> Any:
        return self._client.list_open_orders().iter_items()

    async def _trades(self) -> list[VenueTrade]:
        now = self._clock.time()
        after = str(int(self.since)) if self.since > 0 else None
        found = [
            VenueTrade.from_rest(t, now)
            async for t in self._client.list_account_trades(after=after).iter_items()
        ]
        found.sort(key=lambda t: t.at)
        return found

    async def order(self, venue_id: str) -> VenueOrder | None:
        """One order at the venue by its id (any status); None when the venue has none."""
        from polymarket.errors import RequestRejectedError, UnexpectedResponseError

        try:
            found = await self._client.get_order(order_id=venue_id)
        except UnexpectedResponseError:
            return None  # answered with nothing: no such order
        except RequestRejectedError as exc:
            if exc.status in (400, 404):
                return None
            raise
        if found is None:
            return None
        return VenueOrder.from_rest(found, self._clock.time())

    async def trades_of(self, order: VenueOrder) -> list[VenueTrade]:
        now = self._clock.time()
        found: list[VenueTrade] = []
        for trade_id in dict.fromkeys(order.trades):
            page = await self._client.list_account_trades(id=trade_id).first_page()
            found.extend(VenueTrade.from_rest(t, now) for t in page.items)
        return found

    # -- orders -------------------------------------------------------------------------
    async def _restart(self, venue_open: list[VenueOrder], sink: LiveVenueSink) -> tuple[int, int]:
        """The ledger's open orders and the venue's, after a restart."""
        adopted = cancelled = 0
        resting = {o.id: o for o in venue_open}
        ours: list[tuple[str, str]] = []  # (our id, venue id) to cancel
        for known in self._ledger_open:
            order, venue_id = known.order, known.venue_id
            if venue_id is None:
                # Its venue id is written before an order leaves: without one it never did.
                sink.adopt(AdoptedOrder(order, known.filled, "", OrderStatus.NEW, True, "restart"))
                sink.on_reports(
                    [
                        OrderUpdate(
                            order.order_id,
                            OrderStatus.REJECTED,
                            self._clock.time(),
                            "never reached the venue (the run stopped before sending it)",
                        )
                    ]
                )
                continue
            at_venue = resting.pop(venue_id, None)
            status = OrderStatus.PARTIALLY_FILLED if known.filled else OrderStatus.LIVE
            order_id = sink.adopt(
                AdoptedOrder(
                    order, known.filled, venue_id, status, True, "found at the venue on restart"
                )
            )
            working = self._orders.add(order_id, venue_id, order.size, order.asset_id, known.filled)
            if at_venue is None:
                continue  # finished while we were away: _finished reports how
            working.size = at_venue.original_size
            if self._adopt:
                adopted += 1
            else:
                ours.append((order_id, venue_id))
        strangers = [o for o in resting.values() if o.id not in self._orders.by_venue]
        if self._adopt:
            for stranger in strangers:
                self._adopt_stranger(stranger, sink)
            adopted += len(strangers)
        else:
            cancelled += await self._cancel(ours, strangers, sink, "cancelled on restart")
        return adopted, cancelled

    async def _strangers(self, venue_open: list[VenueOrder], sink: LiveVenueSink) -> int:
        """Orders resting at the venue that this run never placed (another process on
        the same key): adopted or cancelled as at a restart; the number cancelled."""
        strangers = [
            o
            for o in venue_open
            if o.id not in self._orders.by_venue and not self._orders.order_id(o.id)
        ]
        if self._adopt:
            for stranger in strangers:
                self._adopt_stranger(stranger, sink)
            return 0
        return await self._cancel([], strangers, sink, "cancelled on restart")

    def _adopt_stranger(self, order: VenueOrder, sink: LiveVenueSink) -> None:
        request = OrderRequest(
            order_id="",
            asset_id=order.asset_id,
            market=order.market,
            side=order.side,
            price=order.price,
            size=order.original_size,
            order_type=order.order_type_enum,
            strategy="",
            reason=f"adopted from the venue ({order.id})",
            created_at=order.created_at,
            expires_at=order.expires_at if order.order_type_enum is OrderType.GTD else None,
        )
        status = OrderStatus.PARTIALLY_FILLED if order.size_matched else OrderStatus.LIVE
        order_id = sink.adopt(
            AdoptedOrder(request, order.size_matched, order.id, status, False, request.reason)
        )
        self._orders.add(
            order_id, order.id, order.original_size, order.asset_id, order.size_matched
        )

    async def _cancel(
        self,
        ours: list[tuple[str, str]],
        strangers: list[VenueOrder],
        sink: LiveVenueSink,
        why: str,
    ) -> int:
        """Cancel our orders (our id, venue id) and strangers in one request (the venue's
        batch cancel); the number cancelled."""
        if not ours and not strangers:
            return 0
        venue_ids = [v for _, v in ours] + [o.id for o in strangers]
        answer = await self._client.cancel_orders(order_ids=venue_ids)
        canceled = {str(v) for v in answer.canceled or ()}
        now = self._clock.time()
        reports: list[VenueReport] = []
        for order_id, venue_id in ours:
            if venue_id not in canceled:
                continue  # it finished meanwhile: _finished reports how
            working = self._orders.by_venue.get(venue_id)
            if working is not None:
                working.done = True
            reports.append(OrderUpdate(order_id, OrderStatus.CANCELLED, now, why, venue_id))
            log.info("cancelled %s (%s) at the venue: %s", order_id, venue_id, why)
        if reports:
            sink.on_reports(reports)
        for stranger in strangers:
            sink.note(
                "unknown_order_cancelled",
                f"an order the ledger does not know was resting at the venue ({stranger.id}): "
                "cancelled (execution.on_restart = cancel)",
            )
        return len(reports) + len(strangers)

    async def _finished(self, venue_open: list[VenueOrder], sink: LiveVenueSink) -> int:
        """Our orders that are no longer resting at the venue, while the engine still has
        them working: their end (and any fills the sweep did not bring) reported."""
        resting = {o.id for o in venue_open}
        count = 0
        for working in list(self._orders.by_order.values()):
            if working.done or not working.venue_id or working.venue_id in resting:
                continue
            found = await self.order(working.venue_id)
            if found is None:
                continue  # not landed yet (a post in flight): its own look-up decides
            reports: list[VenueReport] = []
            for trade in await self.trades_of(found):
                reports.extend(self._orders.trade_reports(trade, sink.knows_fill))
            reports.extend(self._orders.order_reports(found, self._clock.time()))
            if reports:
                sink.on_reports(reports)
                count += len(reports)
        return count

    # -- balances -----------------------------------------------------------------------
    def _pending(self) -> dict[str, tuple[int, int]]:
        """Per token, shares bought and sold by fills whose trades are not final: the
        venue's balance may or may not show them yet."""
        pending: dict[str, tuple[int, int]] = {}
        for fill_id in self._orders.unsettled():
            part = self._orders.fill_parts.get(fill_id)
            if part is None:
                continue
            asset, side, size = part
            bought, sold = pending.get(asset, (0, 0))
            if side is Side.BUY:
                bought += size
            else:
                sold += size
            pending[asset] = (bought, sold)
        return pending

    async def _balances_differ(self, sink: LiveVenueSink) -> tuple[str, ...]:
        held = dict(self._holdings())
        assets = sorted(set(held) | self.traded_assets | self._orders.assets())
        if not await self._balances.refresh(assets, update=True):
            raise ConnectionError("the venue's balances could not be read")
        pending = self._pending()
        differences = []
        for asset in assets:
            ours = held.get(asset, 0)
            theirs = self._balances.shares.get(asset, 0)
            bought, sold = pending.get(asset, (0, 0))
            if ours - bought <= theirs <= ours + sold:
                continue
            differences.append(
                f"token {asset[:12]}…: the venue holds {format_size(theirs)} shares, the "
                f"ledger {format_size(ours)}"
            )
        venue_cash = self._balances.cash()
        if venue_cash is not None:
            gap = venue_cash - self._cash()
            if abs(gap) > CASH_TOLERANCE and abs(gap - self._last_gap) > CASH_TOLERANCE:
                self._last_gap = gap
                sink.note(
                    "collateral_difference",
                    f"the venue holds {format_cash(venue_cash)} pUSD, the ledger "
                    f"{format_cash(self._cash())} (a deposit, a withdrawal or a settlement "
                    "not redeemed yet); sizing uses the smaller",
                )
        return tuple(differences)

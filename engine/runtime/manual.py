"""A person's own order (the console's order form, ``polyterm order`` through ``ctl``):
through the same risk gate and the same gateway as a strategy's, recorded as ``manual``.

A buy passes the entry screen (trading blocks, the kill switch, the feed, the book's age,
rate windows) and every sizing cap; a size a cap would cut is refused naming the cap,
never resized behind the person's back. A sell needs shares no open sell promises, and
never leaves dust (a remainder below the market's minimum order size, which could never
be sold). The lot a manual buy opens gets no automatic exits: a person manages it
(flatten, kill and settlement still close it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.clock import Clock
from engine.execution.matching import check_order, match_taker
from engine.execution.oms import OrderManager
from engine.exit_reasons import ExitReason
from engine.fixed import format_size
from engine.market.book import OrderBook
from engine.market.markets import MarketInfo
from engine.market.registry import MarketRegistry
from engine.orders import MANUAL, NO_EXITS, TAKING_TYPES, OrderRequest, OrderType, Side
from engine.risk.entry import EntryScreen
from engine.risk.refusals import Refusals
from engine.runtime.account import AccountView


@dataclass(frozen=True, slots=True)
class ManualOrder:
    asset_id: str
    side: Side
    size: int  # shares, 1e-6
    price: int  # limit price, 1e-4: the worst it may fill at
    order_type: OrderType = OrderType.FAK
    post_only: bool = False
    expires_at: float | None = None  # GTD: clock time


@dataclass(frozen=True, slots=True)
class ManualOutcome:
    """What became of a manual order, or what would (a preview): sent (its id), or
    refused by a named rule; and what the book would give a taking order now."""

    order_id: str | None
    rule: str | None = None  # the rule that refused it (None: approved)
    reason: str | None = None
    expected_filled: int = 0  # shares the current book would fill at once
    expected_cost: int = 0  # cash units: price x size of those fills
    expected_fee: int = 0  # cash units

    @property
    def approved(self) -> bool:
        return self.rule is None


class ManualDesk:
    def __init__(
        self,
        clock: Clock,
        *,
        oms: OrderManager,
        screen: EntryScreen,
        refusals: Refusals,
        account: AccountView,
        registry: MarketRegistry,
        tradeable: Callable[[str], OrderBook | None],
    ) -> None:
        self._clock = clock
        self._oms = oms
        self._screen = screen
        self._refusals = refusals
        self._account = account
        self._registry = registry
        self._tradeable = tradeable

    def preview(self, order: ManualOrder) -> ManualOutcome:
        """What the risk gate says, and what the book would give, without sending."""
        return self._check(order, self._clock.time(), record=False)[0]

    def place(self, order: ManualOrder, who: str) -> ManualOutcome:
        """Send it if every rule lets it through; a refusal is recorded like any other."""
        at = self._clock.time()
        outcome, market, book = self._check(order, at, record=True)
        if not outcome.approved or market is None or book is None:
            return outcome
        request = OrderRequest(
            order_id=self._oms.next_order_id(),
            asset_id=order.asset_id,
            market=market.condition_id,
            side=order.side,
            price=order.price,
            size=order.size,
            order_type=order.order_type,
            strategy=MANUAL,
            reason=f"manual (by {who})",
            created_at=at,
            post_only=order.post_only,
            expires_at=order.expires_at,
            is_exit=order.side is Side.SELL,
        )
        if order.side is Side.BUY:
            self._screen.gate.limiter.record(MANUAL, market.condition_id, Side.BUY, at)
        self._oms.submit(
            request,
            market,
            decision_mid=book.mid_price(),
            levels=NO_EXITS if order.side is Side.BUY else None,
            exit_kind=ExitReason.MANUAL if order.side is Side.SELL else None,
        )
        return ManualOutcome(
            request.order_id,
            expected_filled=outcome.expected_filled,
            expected_cost=outcome.expected_cost,
            expected_fee=outcome.expected_fee,
        )

    def _check(
        self, order: ManualOrder, at: float, *, record: bool
    ) -> tuple[ManualOutcome, MarketInfo | None, OrderBook | None]:
        asset = order.asset_id
        market = self._registry.market_of(asset)
        book = self._tradeable(asset)

        def refuse(rule: str, why: str) -> tuple[ManualOutcome, None, None]:
            if record:
                self._refusals.refuse(asset, order.side, MANUAL, why, order.size, rule)
            return ManualOutcome(None, rule, why), None, None

        if market is None:
            return refuse("unknown_token", "this run lists no market with that token")
        if self._registry.is_resolved(market.condition_id):
            return refuse("resolved", "the market resolved: it no longer trades")
        if book is None:
            return refuse("book", "the book is not tradeable yet (no snapshot)")
        if order.order_type is OrderType.GTD and order.expires_at is None:
            return refuse("order", "a GTD order needs an expiry")
        problem = check_order(order.price, order.size, book.tick, market.min_order_size)
        if problem:
            return refuse("order", problem)
        if order.side is Side.BUY:
            verdict, scale = self._screen.screen(MANUAL, market, asset, order.price, at)
            if verdict is not None:
                return refuse(verdict.rule or "risk", verdict.reason or "")
            inputs = self._screen.inputs(
                MANUAL, market, asset, order.price, 1.0, order.size, scale, at
            )
            sized = self._screen.gate.size(inputs)
            if sized.size < order.size:
                rule = sized.rule or "sizing"
                return refuse(rule, f"{rule} allows at most {format_size(sized.size)} shares")
        else:
            block = self._oms.blocked
            if block is not None:
                return refuse(
                    "trading_blocked", f"trading blocked ({block.reason}): {block.detail}"
                )
            sellable = self._account.sellable(asset)
            if order.size > sellable:
                why = f"only {format_size(max(0, sellable))} shares held and not being sold"
                return refuse("no_position", why)
            rest = self._account.held(asset) - order.size
            if 0 < rest < market.min_order_size:
                why = (
                    f"it would leave {format_size(rest)} shares, below the market's minimum "
                    f"order size: sell all {format_size(self._account.held(asset))} instead"
                )
                return refuse("dust", why)
        fills = match_taker(book, order.side, order.price, order.size, market.fees)
        taking = order.order_type in TAKING_TYPES or not order.post_only
        outcome = ManualOutcome(
            None,
            expected_filled=fills.filled if taking else 0,
            expected_cost=fills.notional if taking else 0,
            expected_fee=fills.fee if taking else 0,
        )
        return outcome, market, book

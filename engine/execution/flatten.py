"""Flatten: cancel every open order in scope, then close every position in scope with a
FAK sell capped at the bid less ``execution.flatten_max_slippage_ticks``.

The preview is the same plan without sending anything: each cancel, each closing order
with the price and PnL the current book would give, and what cannot be closed and why
(nothing to sell into, already being sold, below the market's minimum order size: dust,
held to settlement, or trading blocked by the venue).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from engine.clock import Clock
from engine.execution.accounting import Accounting
from engine.execution.matching import match_taker
from engine.execution.oms import OrderManager
from engine.exit_reasons import ExitReason
from engine.market.book import OrderBook
from engine.market.markets import MarketInfo
from engine.orders import Side, StrategyId

log = logging.getLogger("engine")

DUST = "below the market's minimum order size"


@dataclass(frozen=True, slots=True)
class FlattenScope:
    """What a flatten covers: everything, one strategy's lots and orders, or a market
    (a condition id, or one token of it)."""

    kind: Literal["all", "strategy", "market"] = "all"
    value: str = ""

    def covers(self, strategy: str, market: str, asset_id: str) -> bool:
        if self.kind == "strategy":
            return StrategyId(strategy).includes(self.value)
        if self.kind == "market":
            return self.value in (market, asset_id)
        return True


@dataclass(frozen=True, slots=True)
class PlannedClose:
    asset_id: str
    shares: int
    limit_price: int  # the worst price it may sell at
    expected_price: int | None  # average price the current book would give
    expected_pnl: int | None  # cash units against the position's cost, fee included
    expected_filled: int
    strategy: str = ""  # whose lot it closes ("": the whole position)


@dataclass(frozen=True, slots=True)
class FlattenPlan:
    scope: FlattenScope
    cancels: tuple[str, ...]  # order ids
    closes: tuple[PlannedClose, ...]
    left: tuple[tuple[str, int, str], ...]  # (asset, shares, why it cannot be closed)
    orders: tuple[str, ...] = ()  # the closing orders sent (empty for a preview)


@dataclass(frozen=True, slots=True)
class FlattenReport:
    """An executed flatten once its closing orders are done (or the wait ran out)."""

    plan: FlattenPlan
    left: tuple[tuple[str, int, str], ...]  # (asset, shares still held, why)


KIND_OF = {"flatten": ExitReason.FLATTEN, "kill": ExitReason.KILL}


class Flattener:
    def __init__(
        self,
        clock: Clock,
        oms: OrderManager,
        accounting: Accounting,
        *,
        books: Mapping[str, OrderBook],
        market_of: Callable[[str], MarketInfo | None],
        slippage_ticks: int,
    ) -> None:
        self._clock = clock
        self._oms = oms
        self._accounting = accounting
        self._books = books
        self._market_of = market_of
        self._ticks = slippage_ticks

    def preview(self, scope: FlattenScope | None = None) -> FlattenPlan:
        """What flatten would do: every cancel and every closing order, with its expected
        price and PnL at the current book, and what it could not close (and why)."""
        scope = scope or FlattenScope()
        tracker = self._oms.tracker
        cancels = tuple(
            oid
            for oid, t in tracker.open.items()
            if scope.covers(t.request.strategy, t.request.market, t.request.asset_id)
        )
        closes: list[PlannedClose] = []
        left: list[tuple[str, int, str]] = []
        block = self._oms.blocked
        lots = self._accounting.lots
        for asset, pos in self._accounting.portfolio.positions.items():
            if not pos.shares:
                continue
            # (owner, shares held, shares to sell, their cost): one strategy's lots, or the
            # whole position (owner "": a sell that reduces every lot).
            groups: list[tuple[str, int, int, int]]
            if scope.kind == "strategy":
                groups = [
                    (
                        lot.strategy,
                        lot.shares,
                        lot.shares - tracker.selling_by(asset, lot.strategy),
                        lot.cost,
                    )
                    for lot in lots.of(asset).values()
                    if scope.covers(lot.strategy, pos.market, asset)
                ]
            elif scope.covers("", pos.market, asset):
                groups = [("", pos.shares, pos.shares - tracker.selling(asset), pos.cost)]
            else:
                groups = []
            market = self._market_of(asset)
            book = self._books.get(asset)
            for owner, held, shares, basis in groups:
                if shares <= 0:
                    left.append((asset, held, "already being sold"))
                    continue
                if block is not None:
                    left.append(
                        (asset, shares, f"trading blocked ({block.reason}): {block.detail}")
                    )
                    continue
                if market is None or book is None or book.best_bid is None:
                    left.append((asset, shares, "no bid to sell into"))
                    continue
                if shares < market.min_order_size:
                    left.append((asset, shares, DUST))
                    continue
                limit = max(book.best_bid - self._ticks * book.tick, book.tick)
                match = match_taker(book, Side.SELL, limit, shares, market.fees)
                filled = match.filled
                expected = int(match.notional // filled) if filled else None
                pnl = match.notional - match.fee - basis * filled // held if filled else None
                closes.append(PlannedClose(asset, shares, limit, expected, pnl, filled, owner))
                if filled < shares:
                    left.append((asset, shares - filled, "not enough bids within the cap"))
        return FlattenPlan(scope, cancels, tuple(closes), tuple(left))

    def execute(
        self,
        scope: FlattenScope | None = None,
        *,
        who: str = "user",
        reason: str = "flatten",
        kind: ExitReason | None = None,
    ) -> FlattenPlan:
        """Cancel every open order in scope, then send every closing order of the plan."""
        plan = self.preview(scope)
        log.warning(
            "flatten (%s, by %s): %d cancels, %d closes",
            reason,
            who,
            len(plan.cancels),
            len(plan.closes),
        )
        oms = self._oms
        for order_id in plan.cancels:
            oms.cancel(order_id)
        at = self._clock.time()
        sent: list[str] = []
        exit_kind = kind or KIND_OF.get(reason, ExitReason.FLATTEN)
        for close in plan.closes:
            market = self._market_of(close.asset_id)
            assert market is not None  # the plan only closes listed markets
            order_id = oms.sell(
                market,
                close.asset_id,
                close.limit_price,
                close.shares,
                close.strategy,
                reason,
                self._books[close.asset_id],
                at,
                exit_kind,
            )
            sent.append(order_id)
        return replace(plan, orders=tuple(sent))

    def outcome(self, plan: FlattenPlan) -> tuple[tuple[str, int, str], ...]:
        """After an executed flatten: what is still held in its scope, and why."""
        left = {asset: (shares, why) for asset, shares, why in plan.left}
        lots = self._accounting.lots
        positions = self._accounting.portfolio
        for close in plan.closes:
            if close.strategy:
                lot = lots.get(close.asset_id, close.strategy)
                held = lot.shares if lot is not None else 0
            else:
                held = positions.position(close.asset_id)
            if held:
                left[close.asset_id] = (held, "not filled within the price cap")
        return tuple((asset, shares, why) for asset, (shares, why) in left.items())

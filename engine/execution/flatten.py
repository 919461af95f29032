"""Flatten: cancel every open order in scope, then close every position in scope with a
FAK sell capped at the bid less ``execution.flatten_max_slippage_ticks``.

The preview is the same plan without sending anything: each cancel, each closing order
with the price and PnL the current book would give, and what cannot be closed and why
(nothing to sell into, already being sold, below the market's minimum order size: dust,
held to settlement, or trading blocked by the venue).

A kill (or a trip that flattens) also watches what is bought after it: a resting entry
can fill at the venue before its cancel lands, and that position is in no plan. Each
housekeeping tick, :meth:`Flattener.sweep` closes shares bought since the kill the same
way, once per late fill, until the switch is reset.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
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
# Flattens after which nothing bought may stay held (a late fill is closed too).
HOLD_FLAT = frozenset({"kill", "kill switch trip"})


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
        # After a kill: shares bought per token when it flattened, and its reason/kind
        # (None: not watching).
        self._bought_at_kill: dict[str, int] | None = None
        self._kill_reason = ("kill", ExitReason.KILL)

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
        exit_kind = kind or KIND_OF.get(reason, ExitReason.FLATTEN)
        if reason in HOLD_FLAT:
            self._bought_at_kill = {
                asset: pos.bought for asset, pos in self._accounting.portfolio.positions.items()
            }
            self._kill_reason = (reason, exit_kind)
        log.warning(
            "flatten (%s, by %s): %d cancels, %d closes",
            reason,
            who,
            len(plan.cancels),
            len(plan.closes),
        )
        for order_id in plan.cancels:
            self._oms.cancel(order_id)
        sent = self._send(plan.closes, reason, exit_kind)
        return replace(plan, orders=tuple(sent))

    @property
    def watching(self) -> bool:
        """Whether a kill is watching for shares bought after it."""
        return self._bought_at_kill is not None

    def stop_watching(self) -> None:
        """The kill switch was reset: what is bought from now on may be held."""
        self._bought_at_kill = None

    def sweep(self) -> tuple[str, ...]:
        """After a kill: close what a late fill bought (an entry that filled before its
        cancel landed); returns the closing orders sent."""
        watch = self._bought_at_kill
        if watch is None:
            return ()
        late = [
            asset
            for asset, pos in self._accounting.portfolio.positions.items()
            if pos.bought > watch.get(asset, 0)
        ]
        if not late:
            return ()
        closes: list[PlannedClose] = []
        for asset in late:
            watch[asset] = self._accounting.portfolio.positions[asset].bought
            closes.extend(self.preview(FlattenScope("market", asset)).closes)
        reason, kind = self._kill_reason
        log.warning("%s: %d position(s) bought after it, closing them", reason, len(closes))
        return tuple(self._send(closes, reason, kind))

    def _send(self, closes: Sequence[PlannedClose], reason: str, kind: ExitReason) -> list[str]:
        at = self._clock.time()
        sent: list[str] = []
        for close in closes:
            market = self._market_of(close.asset_id)
            assert market is not None  # the plan only closes listed markets
            order_id = self._oms.sell(
                market,
                close.asset_id,
                close.limit_price,
                close.shares,
                close.strategy,
                reason,
                self._books[close.asset_id],
                at,
                kind,
            )
            sent.append(order_id)
        return sent

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

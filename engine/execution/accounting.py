"""The accounting: what fills and settlements do to cash, positions and lots, and what
the account is worth.

Every fill the order manager accepts is counted here, once: cash and the position
(:mod:`.portfolio`), its owner's lot (:mod:`.lots`), the holding's value at its mark
(:mod:`.valuation`), the owner's attribution, and the ledger's rows (``Filled``,
``PositionChanged``; a sell's ``PositionClosed`` per lot it reduced, each with its exit
reason). Settlement pays resolved markets. A run on an existing ledger starts from
:meth:`Accounting.restore`. A fill whose trade is not final yet keeps its exact effect
until it is, so a failed trade can be undone to the unit.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from functools import partial

import msgspec

from engine.clock import Clock
from engine.events import (
    EngineEvent,
    Filled,
    FillReversed,
    PositionChanged,
    PositionClosed,
    PositionSettled,
)
from engine.execution.attribution import Attribution
from engine.execution.lifecycle import TrackedOrder
from engine.execution.lots import LotBook, Reduced
from engine.execution.portfolio import Portfolio
from engine.execution.valuation import ValueBook
from engine.exit_reasons import ExitReason, classify
from engine.fixed import ONE, format_cash, format_price, format_size
from engine.logbook import Logbook
from engine.market.book import OrderBook
from engine.market.markets import MarketInfo
from engine.orders import NO_EXITS, Fill, Side, StrategyId

log = logging.getLogger("engine")
trades_log = logging.getLogger("engine.trades")  # one readable line per order and fill

UNKNOWN_ORDER = "not an order of this engine (to reconcile)"

FillListener = Callable[[Fill], None]


class _Effect(msgspec.Struct, frozen=True):
    """What one fill not yet final did, so a failed trade can be undone exactly."""

    fill: Fill
    strategy: StrategyId
    reason: str
    released: int  # cost a sell released (0 for a buy)


class Accounting:
    def __init__(
        self,
        clock: Clock,
        emit: Callable[[EngineEvent], None],
        portfolio: Portfolio,
        lots: LotBook,
        attribution: Attribution,
        *,
        books: Mapping[str, OrderBook],
        market_of: Callable[[str], MarketInfo | None],
        complement: Callable[[str], str | None],
        touched: Callable[[str], None],
        logbook: Logbook | None = None,
    ) -> None:
        self._clock = clock
        self._emit = emit
        self._logbook = logbook or Logbook()
        self.portfolio = portfolio
        self.lots = lots
        self.attribution = attribution
        self._books = books
        self._market_of = market_of
        self._touched = touched  # exposure: something changed in this market
        self.values = ValueBook(portfolio, self._mark, complement)
        self._listeners: list[FillListener] = []
        self.version = 0  # bumps whenever cash or a position changes
        self.counts: Counter[str] = Counter()
        self.telemetry: Counter[str] = Counter()
        self.exit_reasons: Counter[str] = Counter()  # by the exit's detail text
        self.exit_kinds: Counter[ExitReason] = Counter()
        self._unconfirmed: dict[str, _Effect] = {}
        # Holdings restored from the ledger whose books have not been seen yet: the kill
        # switch waits a grace period for their marks (counted at cost until then).
        self.awaiting_marks: set[str] = set()

    def add_fill_listener(self, listener: FillListener) -> None:
        """Told of every fill counted (the basket desk counts its legs)."""
        self._listeners.append(listener)

    # -- fills -------------------------------------------------------------------------------
    def apply_fill(self, fill: Fill, order: TrackedOrder | None, final: bool) -> bool:
        """Count one fill of `order` (None: an order this engine does not know)."""
        portfolio = self.portfolio
        asset = fill.asset_id
        before = portfolio.positions.get(asset)
        if fill.side is Side.SELL and fill.size > (before.shares if before else 0):
            # Never happens while open sells are reserved; if it does it is a bug (or a
            # venue that disagrees with us) that must not corrupt the account.
            log.error("dropping a sell fill larger than the position: %s", fill)
            self.counts["dropped_fills"] += 1
            return False
        if order is not None:
            req = order.request
            strategy, reason, mid = StrategyId(req.strategy), req.reason, order.decision_mid
        else:
            strategy, reason, mid = StrategyId(""), UNKNOWN_ORDER, None
        realized_before = before.realized if before is not None else 0
        released = portfolio.released_by(fill)
        if not final:
            self._unconfirmed[fill.fill_id] = _Effect(fill, strategy, reason, released)
        pos = portfolio.apply(fill)
        self.version += 1
        self.counts["fills"] += 1
        slippage = _slippage_bps(fill, mid)
        self._telemetry(fill, slippage)
        self.attribution.of(strategy).on_fill(fill, mid)
        for listener in self._listeners:
            listener(fill)
        self._emit(Filled(fill.at, fill, strategy, reason, mid, slippage))
        self._emit(
            PositionChanged(
                fill.at, asset, fill.market, pos.shares, pos.cost, pos.realized, pos.fees
            )
        )
        self._log_fill(fill, strategy, reason)
        lots = self.lots
        if fill.side is Side.BUY:
            _, opened = lots.buy(asset, fill.market, strategy, fill.price, fill.size, fill.at)
            levels = order.levels if order is not None else None
            if levels is not None and opened:
                # The lot this entry opened exits on its strategy's own levels.
                lots.set_levels(asset, strategy, levels)
            book = self._books.get(asset)
            if book is not None:
                lots.mark(asset, book.best_bid)  # marked at the bid from the start
            self.values.revalue(asset)
            return True
        reduced = lots.sell(asset, strategy, fill.size)
        self.values.revalue(asset)
        self.exit_reasons[reason] += 1
        kind = order.exit_kind if order is not None and order.exit_kind else classify(reason)
        self.exit_kinds[kind] += 1
        self._closed(fill, reason, kind, reduced, pos.realized - realized_before, slippage)
        return True

    def _log_fill(self, fill: Fill, strategy: str, reason: str) -> None:
        if trades_log.isEnabledFor(logging.INFO):
            # After the pass's ORDER lines, as they are written (see engine.logbook).
            market = self._market_of(fill.asset_id)
            self._logbook.write(partial(_log_fill, fill, market, strategy, reason))

    def _closed(
        self,
        fill: Fill,
        reason: str,
        kind: ExitReason,
        reduced: list[Reduced],
        realized: int,
        slippage: float | None,
    ) -> None:
        """A sell closed (part of) one or more lots: each gets its share of the fill's
        realised PnL and fee, by shares (the last the remainder, so they sum exactly), and
        its exit row with its own entry, holding time and excursions."""
        total = sum(r.shares for r in reduced)
        realized_left, fee_left = realized, fill.fee
        for i, r in enumerate(reduced):
            last = i == len(reduced) - 1
            part = realized_left if last else realized * r.shares // total
            fee = fee_left if last else fill.fee * r.shares // total
            realized_left -= part
            fee_left -= fee
            owner = r.lot.strategy
            self.attribution.of(owner).realized += part
            self._emit(
                PositionClosed(
                    fill.at,
                    fill.asset_id,
                    fill.market,
                    owner,
                    reason,
                    r.shares,
                    r.entry_price,
                    fill.price,
                    part,
                    fee,
                    holding_s=round(fill.at - r.opened_at, 3),
                    mae=r.excursions[0],
                    mfe=r.excursions[1],
                    slippage_bps=slippage,
                    kind=kind,
                )
            )

    def _telemetry(self, fill: Fill, slippage: float | None) -> None:
        t = self.telemetry
        t["exits" if fill.side is Side.SELL else "entries"] += 1
        t[fill.liquidity.value] += 1
        t["notional"] += fill.price * fill.size
        t["fees"] += fill.fee
        if slippage is not None:
            t["slippage_fills"] += 1
            t["slippage_bps_x100"] += round(slippage * 100)

    def confirm_fill(self, fill_id: str) -> None:
        self._unconfirmed.pop(fill_id, None)

    def reverse_fill(self, fill_id: str, at: float, reason: str) -> Fill | None:
        """Undo a fill whose trade failed: cash, position and lot as if it never happened
        (its exit rows, if it was a sell, stay as recorded: the reversal row says why)."""
        effect = self._unconfirmed.pop(fill_id, None)
        if effect is None:
            return None
        fill = effect.fill
        realized_before = self.portfolio.positions[fill.asset_id].realized
        pos = self.portfolio.reverse(fill, effect.released)
        lots = self.lots
        if fill.side is Side.BUY:
            lots.sell(fill.asset_id, effect.strategy, fill.size)
        else:
            lots.buy(
                fill.asset_id,
                fill.market,
                effect.strategy,
                effect.released // fill.size if fill.size else 0,
                fill.size,
                fill.at,
            )
        self.version += 1
        self.counts["reversals"] += 1
        self.values.revalue(fill.asset_id)
        self._touched(fill.market)
        value = fill.price * fill.size
        cash = value + fill.fee if fill.side is Side.BUY else -(value - fill.fee)
        cost = -value if fill.side is Side.BUY else effect.released
        undone = pos.realized - realized_before
        self.attribution.of(effect.strategy).realized += undone
        self._emit(FillReversed(at, fill, effect.strategy, reason, cash, cost, undone))
        self._emit(
            PositionChanged(
                at, fill.asset_id, fill.market, pos.shares, pos.cost, pos.realized, pos.fees
            )
        )
        return fill

    # -- marks -------------------------------------------------------------------------------
    def on_books(self, changed: dict[str, None], now: float) -> None:
        """Books changed: lots on them see the new bid, holdings there are revalued."""
        lots = self.lots.lots
        if not lots:
            return
        books = self._books
        values = self.values
        for asset in changed:
            if asset in lots:
                self.lots.mark(asset, books[asset].best_bid)
                values.revalue(asset)
                self.awaiting_marks.discard(asset)

    def _mark(self, asset_id: str) -> int | None:
        book = self._books.get(asset_id)
        if book is None:
            return None
        return book.best_bid if book.best_bid is not None else book.last_trade_price

    def marks(self) -> dict[str, int]:
        """Mark each holding where it could be sold now: best bid, else last trade."""
        marks: dict[str, int] = {}
        books = self._books
        for asset, pos in self.portfolio.positions.items():
            if not pos.shares:
                continue
            book = books.get(asset)
            if book is None:
                continue
            mark = book.best_bid if book.best_bid is not None else book.last_trade_price
            if mark is not None:
                marks[asset] = mark
        return marks

    def unmarked_restored(self) -> int:
        """Restored holdings still without a mark (their books not seen in this run)."""
        return len(self.awaiting_marks & self.values.unmarked)

    # -- settlement --------------------------------------------------------------------------
    def settle(self, market: MarketInfo, winner: str) -> None:
        """The winning token pays 1, the others 0; every lot there closes."""
        at = self._clock.time()
        for token in market.token_ids:
            payout = ONE if token == winner else 0
            lots = self.lots.close_all(token)
            shares, cash, realized, avg = self.portfolio.settle(token, payout)
            if not shares:
                continue
            self.version += 1
            self.counts["settlements"] += 1
            pos = self.portfolio.positions[token]
            self._emit(
                PositionSettled(at, token, market.condition_id, shares, payout, cash, realized)
            )
            # Each lot settles on its own exit row, its share of the realised PnL by shares.
            owned = [(lot.strategy, lot.shares, lot.entry_price) for lot in lots if lot.shares]
            held = sum(n for _, n, _ in owned)
            if held != shares:  # lots always cover the position; if not, one row says all
                owned, held = [(StrategyId(""), shares, avg)], shares
            left = realized
            for i, (owner, n, entry) in enumerate(owned):
                part = left if i == len(owned) - 1 else realized * n // held
                left -= part
                self.attribution.of(owner).realized += part
                self.exit_kinds[ExitReason.SETTLEMENT] += 1
                self._emit(
                    PositionClosed(
                        at,
                        token,
                        market.condition_id,
                        owner,
                        "settlement",
                        n,
                        entry,
                        payout,
                        part,
                        0,
                        kind=ExitReason.SETTLEMENT,
                    )
                )
            self._emit(
                PositionChanged(
                    at, token, market.condition_id, pos.shares, pos.cost, pos.realized, pos.fees
                )
            )
            self.values.revalue(token)
        self._touched(market.condition_id)

    # -- a resumed run ---------------------------------------------------------------------------
    def restore(
        self,
        history: Iterable[Fill | PositionSettled | FillReversed],
        owners: Mapping[str, str],
        hedged: frozenset[str],
        unsettled: frozenset[str] = frozenset(),
    ) -> int:
        """Rebuild cash, positions and lots from the ledger's fills, reversals and
        settlements, in time order; `owners` maps an order id to the strategy that placed
        it, `hedged` names the orders that bought basket legs (their lots keep no exits),
        `unsettled` the live fills whose trades are not final yet (kept undoable).
        Returns how many records were replayed."""
        count = 0
        portfolio, lots = self.portfolio, self.lots
        for item in history:
            count += 1
            if isinstance(item, Fill):
                owner = owners.get(item.order_id, "")
                if item.fill_id in unsettled:
                    # Its trade may still fail on chain: keep what it did, to undo it.
                    released = portfolio.released_by(item)
                    reason = UNKNOWN_ORDER if not owner else ""
                    self._unconfirmed[item.fill_id] = _Effect(
                        item, StrategyId(owner), reason, released
                    )
                portfolio.apply(item)
                if item.side is Side.BUY:
                    _, opened = lots.buy(
                        item.asset_id, item.market, owner, item.price, item.size, item.at
                    )
                    if opened and item.order_id in hedged:
                        # A basket's leg stays hedged after a restart too.
                        lots.set_levels(item.asset_id, owner, NO_EXITS)
                else:
                    lots.sell(item.asset_id, owner, item.size)
            elif isinstance(item, FillReversed):
                fill = item.fill
                portfolio.reverse(fill, item.cost if fill.side is Side.SELL else 0)
                if fill.side is Side.BUY:
                    lots.sell(fill.asset_id, item.strategy, fill.size)
                else:
                    price = item.cost // fill.size if fill.size else 0
                    lots.buy(fill.asset_id, fill.market, item.strategy, price, fill.size, fill.at)
            else:
                portfolio.settle(item.asset_id, item.payout_price)
                lots.close_all(item.asset_id)
        self.version += 1
        for asset, pos in portfolio.positions.items():
            self._touched(pos.market)
            self.values.revalue(asset)
            if pos.shares:
                self.awaiting_marks.add(asset)
        return count


def _slippage_bps(fill: Fill, mid: int | None) -> float | None:
    """The fill against the mid at decision, in basis points; positive costs us."""
    if not mid:
        return None
    diff = fill.price - mid if fill.side is Side.BUY else mid - fill.price
    return round(diff * 10_000 / mid, 2)


def _log_fill(fill: Fill, market: MarketInfo | None, strategy: str, reason: str) -> None:
    trades_log.info(
        "FILL %s %s %s %s @ %s fee %s %s '%s' strategy=%s reason=%s",
        fill.fill_id,
        fill.side.value,
        format_size(fill.size),
        market.outcome_of(fill.asset_id) if market else fill.asset_id[:12],
        format_price(fill.price),
        format_cash(fill.fee),
        fill.liquidity.value,
        market.question if market else "",
        strategy or "-",
        reason or "-",
    )

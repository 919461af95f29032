"""The exit desk: lots that reached an exit rule, and strategies' exit signals, become
closing sells.

A lot is sold by its own owner's exit only (a hedged basket leg is never sold by a
bystander's exit), for the shares no open sell already promises, at the bid less the
slippage cap. An exit is held (and recorded, once a minute) when the book is stale and
the policy says hold, when there is no bid, when the sell would be dust, when selling one
leg of a hedge alone would break an exposure cap, or while the venue blocks new orders.

Dust: a position below the market's minimum order size can never be sold. An exit never
leaves one: it first takes its lot's resting entry bids off the book (one filling after
the lot was sold would open dust); it sells the whole position when what would stay is
below the minimum (no one could sell it alone); it sends fill-and-kill only while any
fill leaves at least the minimum, and the last shares of a position fill-or-kill (all or
none) -- or, when the bids show too little, the part that leaves the minimum.
"""

from __future__ import annotations

from collections.abc import Callable

from msgspec.structs import replace

from engine.clock import Clock
from engine.config import EngineConfig
from engine.decisions import NO_EXIT_ORDER, ORDER, Decision, DecisionKind
from engine.execution.lots import LotBook
from engine.execution.matching import match_taker
from engine.execution.oms import OrderManager
from engine.exit_reasons import ExitReason
from engine.fixed import SHARE_STEP, format_size
from engine.market.book import OrderBook
from engine.market.markets import MarketInfo
from engine.orders import OrderType, Side
from engine.risk.entry import EntryScreen
from engine.risk.gate import RiskGate
from engine.risk.refusals import Refusals
from engine.runtime.account import AccountView
from engine.strategies.aggregator import Intent


class ExitDesk:
    def __init__(
        self,
        config: EngineConfig,
        clock: Clock,
        oms: OrderManager,
        lots: LotBook,
        account: AccountView,
        screen: EntryScreen,
        gate: RiskGate,
        refusals: Refusals,
        book_age: Callable[[str], float],
    ) -> None:
        self._config = config
        self._clock = clock
        self._oms = oms
        self._lots = lots
        self._account = account
        self._screen = screen
        self._gate = gate
        self._refusals = refusals
        self._book_age = book_age
        self._all_or_none: dict[str, int] = {}  # asset -> book version of the last FOK

    def on_intent(
        self, intent: Intent, market: MarketInfo, book: OrderBook
    ) -> tuple[Decision, str | None]:
        """An exit signal closes its own strategies' lots (and lots of no known owner);
        another strategy's lot is left to that strategy."""
        asset = intent.asset_id
        lots = self._lots.of(asset)
        mine = [lot for lot in lots.values() if not lot.strategy or lot.owned_by(intent.strategies)]
        if not mine:
            if lots:
                owners = " and ".join(f"{owner}'s" for owner in lots)
                return Decision(DecisionKind.EXIT_IGNORED, detail=f"the lot is {owners}"), None
            return NO_EXIT_ORDER, None
        sent = [
            self.sell_lot(asset, intent.reason, ExitReason.SIGNAL, market, book, lot.strategy)
            for lot in mine
        ]
        order_id = next((oid for oid in sent if oid is not None), None)
        return (ORDER, order_id) if order_id is not None else (NO_EXIT_ORDER, None)

    def due(self, asset: str, market: MarketInfo, book: OrderBook, at: float) -> bool:
        """Sell every lot on this token that reached an exit rule; whether one was sent."""
        sent = False
        lots = self._lots
        for lot in list(lots.of(asset).values()):
            if lot.shares < market.min_order_size:
                continue  # dust cannot be sold; settlement will close it
            rule = lots.due(lot, book.best_bid, at)
            if rule is not None and self.sell_lot(asset, rule, rule, market, book, lot.strategy):
                sent = True
        return sent

    def sell_lot(
        self,
        asset: str,
        reason: str,
        kind: ExitReason,
        market: MarketInfo,
        book: OrderBook,
        strategy: str,
    ) -> str | None:
        """Sell the lot `strategy` owns here, what is not already being sold, at the bid
        less the slippage; returns the order's id (None: no order)."""
        account = self._account
        if self._lots.get(asset, strategy) is None:
            return None
        sellable = min(account.sellable(asset), account.lot_sellable(asset, strategy))
        if sellable <= 0:
            return None
        refuse = self._refusals.refuse
        block = self._oms.blocked
        if block is not None:
            why = f"trading blocked ({block.reason}): {block.detail}"
            refuse(asset, Side.SELL, strategy, why, sellable, "trading_blocked")
            return None
        cfg = self._config.strategy
        if cfg.stale_book_exits == "hold" and self._book_age(asset) > cfg.max_book_age_s:
            refuse(asset, Side.SELL, strategy, "stale book: exit held", sellable, "stale_book")
            return None
        best = book.best_bid
        if best is None:
            refuse(asset, Side.SELL, strategy, "no bid to sell into", sellable, "no_price")
            return None
        price = max(best - cfg.max_slippage_ticks * book.tick, book.tick)
        decision = self._gate.check_sell(sellable, sellable, market.min_order_size)
        if not decision.approved:
            why, rule = decision.reason or "", decision.rule or "sell"
            refuse(asset, Side.SELL, strategy, why, sellable, rule)
            return None
        size = self._screen.unhedge_limit(asset, market, decision.size)
        if size < decision.size:
            why = (
                "exposure: selling this leg alone would unhedge the market past a cap "
                f"(sells {format_size(size)} of {format_size(decision.size)})"
            )
            refuse(asset, Side.SELL, strategy, why, decision.size, "exposure")
            if size < market.min_order_size or size <= 0:
                return None
            decision = replace(decision, size=size)
        planned = self._without_dust(asset, market, book, price, decision.size, strategy)
        if planned is None:
            return None
        size, order_type = planned
        self._cancel_entries(asset, strategy)
        at = self._clock.time()
        return self._oms.sell(
            market, asset, price, size, strategy, reason, book, at, kind, order_type=order_type
        )

    def _without_dust(
        self,
        asset: str,
        market: MarketInfo,
        book: OrderBook,
        price: int,
        size: int,
        strategy: str,
    ) -> tuple[int, OrderType] | None:
        """How to sell `size` without leaving dust: the size and the order type (None:
        hold the exit for now). A fill-and-kill is safe while whatever fills leaves at
        least the minimum; the last shares of a position go fill-or-kill, all or none."""
        minimum = market.min_order_size
        free = self._account.sellable(asset)  # held, not promised to open sells
        if 0 < free - size < minimum:
            size = free  # what would stay could never be sold alone: it goes too
        if size <= free - minimum:
            return size, OrderType.FAK  # any fill leaves at least the minimum
        shown = match_taker(book, Side.SELL, price, size, market.fees).filled
        if shown >= size or not shown:
            # All or none (with no bids at all the venue refuses it, as it would a FAK);
            # one that found too little is not sent again into the same book.
            if self._all_or_none.get(asset) == book.updates:
                return None
            self._all_or_none[asset] = book.updates
            return size, OrderType.FOK
        part = min(shown, free - minimum)
        part -= part % SHARE_STEP
        if part >= minimum:
            return part, OrderType.FAK  # what the bids take now, leaving the minimum
        why = (
            f"the bids take only {format_size(shown)} of {format_size(size)} within the cap: "
            "selling part would leave less than the market's minimum order size"
        )
        self._refusals.refuse(asset, Side.SELL, strategy, why, size, "dust")
        return None

    def _cancel_entries(self, asset: str, strategy: str) -> None:
        """The lot's owner's resting entries on this token come off the book first."""
        oms = self._oms
        for order_id, tracked in list(oms.tracker.open.items()):
            req = tracked.request
            if (
                req.asset_id == asset
                and req.side is Side.BUY
                and not req.is_exit
                and req.strategy == strategy
            ):
                oms.cancel(order_id, "its lot is being sold")

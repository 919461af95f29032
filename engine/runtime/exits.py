"""The exit desk: lots that reached an exit rule, and strategies' exit signals, become
closing sells.

A lot is sold by its own owner's exit only (a hedged basket leg is never sold by a
bystander's exit), for the shares no open sell already promises, at the bid less the
slippage cap. An exit is held (and recorded, once a minute) when the book is stale and
the policy says hold, when there is no bid, when the sell would be dust, when selling one
leg of a hedge alone would break an exposure cap, or while the venue blocks new orders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from engine.clock import Clock
from engine.config import EngineConfig
from engine.decisions import NO_EXIT_ORDER, ORDER, Decision, DecisionKind
from engine.execution.lots import LotBook
from engine.execution.oms import OrderManager
from engine.exit_reasons import ExitReason
from engine.fixed import format_size
from engine.market.book import OrderBook
from engine.market.markets import MarketInfo
from engine.orders import Side
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
        at = self._clock.time()
        return self._oms.sell(market, asset, price, decision.size, strategy, reason, book, at, kind)

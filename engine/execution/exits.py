"""Exits: the lots the engine holds, and the exits every position gets.

A lot opens with the first entry fill of a position and closes when the position is
flat again. It remembers the strategy that opened it, when, and how far the price went
against it (MAE) and for it (MFE) while held, marked at the best bid: what exit
analytics needs. The exit rules every lot gets, whatever the strategy says, are
take-profit and stop-loss (a price move from the average entry) and a maximum holding
time; each exit carries its reason. A strategy may give a lot its own levels instead
(:meth:`ExitBook.set_levels`, from its signal's exit levels): a scalper's tight
take-profit and short holding time, or none at all for an arbitrage basket's legs, which
are hedged and held to resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.config import ExitConfig
from engine.fixed import PRICE_DIGITS, decimal_to_fixed

TAKE_PROFIT = "take_profit"
STOP_LOSS = "stop_loss"
MAX_HOLDING = "max_holding_time"


@dataclass(slots=True)
class Lot:
    asset_id: str
    market: str
    strategy: str
    opened_at: float  # clock time of the first entry fill
    entry_price: int  # average entry (1e-4), refreshed on every fill
    shares: int
    high: int  # best bid seen while held
    low: int
    # The opening strategy's own levels (None: the global [exits] rule; 0 turns one off).
    take_profit: int | None = None  # price rise from entry, 1e-4
    stop_loss: int | None = None
    max_holding_s: float | None = None

    def excursions(self) -> tuple[int, int]:
        """(MAE, MFE) in price units per share, both >= 0."""
        return max(0, self.entry_price - self.low), max(0, self.high - self.entry_price)


class ExitBook:
    def __init__(self, config: ExitConfig) -> None:
        self.config = config
        self.lots: dict[str, Lot] = {}
        self._tp = decimal_to_fixed(config.take_profit, PRICE_DIGITS)
        self._sl = decimal_to_fixed(config.stop_loss, PRICE_DIGITS)

    def on_position(
        self, asset_id: str, market: str, strategy: str, shares: int, avg: int | None, at: float
    ) -> Lot | None:
        """A fill changed a position; returns the lot when it just closed."""
        lot = self.lots.get(asset_id)
        if shares <= 0:
            return self.lots.pop(asset_id, None)
        if lot is None:
            price = avg or 0
            lot = self.lots[asset_id] = Lot(
                asset_id, market, strategy, at, price, shares, price, price
            )
        lot.shares = shares
        if avg is not None:
            lot.entry_price = avg
        return None

    def set_levels(
        self,
        asset_id: str,
        take_profit: int | None,
        stop_loss: int | None,
        max_holding_s: float | None,
    ) -> None:
        """The lot's own exit levels (None keeps the global rule for that one)."""
        lot = self.lots.get(asset_id)
        if lot is not None:
            lot.take_profit = take_profit
            lot.stop_loss = stop_loss
            lot.max_holding_s = max_holding_s

    def mark(self, asset_id: str, bid: int | None) -> None:
        lot = self.lots.get(asset_id)
        if lot is None or bid is None:
            return
        if bid > lot.high:
            lot.high = bid
        if bid < lot.low:
            lot.low = bid

    def due(self, asset_id: str, bid: int | None, now: float) -> str | None:
        """The exit rule a lot has reached at this bid and time, if any."""
        lot = self.lots.get(asset_id)
        if lot is None:
            return None
        tp = self._tp if lot.take_profit is None else lot.take_profit
        sl = self._sl if lot.stop_loss is None else lot.stop_loss
        hold = self.config.max_holding_s if lot.max_holding_s is None else lot.max_holding_s
        if bid is not None:
            if tp and bid >= lot.entry_price + tp:
                return TAKE_PROFIT
            if sl and bid <= lot.entry_price - sl:
                return STOP_LOSS
        if hold and now - lot.opened_at >= hold:
            return MAX_HOLDING
        return None

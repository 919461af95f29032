"""The lot book: the lots the engine holds, and the exit rules every lot gets.

A token's position is split into lots, one per owner: the strategy (or combined decision
"a+b", or a person: "manual") whose buys made it. Every share held belongs to exactly
one lot, so one strategy's exit sells only its own shares and never the leg of another's
hedged basket.
A lot remembers when it opened, its cost, and how far the price went against it (MAE)
and for it (MFE) while held, marked at the best bid: what exit analytics needs.

The exit rules every lot gets, whatever its strategy says, are take-profit and stop-loss
(a price move from the lot's average entry) and a maximum holding time; each exit carries
its reason. A strategy may give its lot its own levels instead (:meth:`LotBook.
set_levels`, from its signal's exit levels): a scalper's tight take-profit and short
holding time, or none at all for an arbitrage basket's legs, which are hedged and held to
resolution.

A sell reduces its owner's lot first; what it sells beyond that (a flatten, a kill, a
restored sell whose strategy is unknown) reduces the other lots, oldest first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import msgspec

from engine.config import ExitConfig
from engine.exit_reasons import ExitReason
from engine.fixed import PRICE_DIGITS, decimal_to_fixed
from engine.orders import ExitLevels, StrategyId


@dataclass(slots=True)
class Lot:
    asset_id: str
    market: str
    strategy: StrategyId  # the owner: a strategy, a combined decision, or "" (unknown)
    opened_at: float  # clock time of the first entry fill
    shares: int
    cost: int  # cash units (price x size) of the shares held, released pro rata on sells
    high: int  # best bid seen while held
    low: int
    # The opening strategy's own levels (None: the global [exits] rule; 0 turns one off).
    take_profit: int | None = None  # price rise from entry, 1e-4
    stop_loss: int | None = None
    max_holding_s: float | None = None

    @property
    def entry_price(self) -> int:
        """Average entry price, 1e-4 units (rounded down)."""
        return self.cost // self.shares if self.shares else 0

    def owned_by(self, names: tuple[str, ...] | list[str]) -> bool:
        """Whether any of these strategies owns (a part of) this lot."""
        return any(name in self.strategy.names for name in names)

    def excursions(self) -> tuple[int, int]:
        """(MAE, MFE) in price units per share, both >= 0."""
        entry = self.entry_price
        return max(0, entry - self.low), max(0, self.high - entry)


class Reduced(msgspec.Struct, frozen=True):
    """What one sell took from one lot, with the lot as it was before."""

    lot: Lot
    shares: int
    entry_price: int
    opened_at: float
    excursions: tuple[int, int]
    closed: bool


_NONE: dict[str, Lot] = {}


class LotBook:
    def __init__(self, config: ExitConfig) -> None:
        self.config = config
        self.lots: dict[str, dict[str, Lot]] = {}  # asset -> owner -> lot, oldest first
        self._tp = decimal_to_fixed(config.take_profit, PRICE_DIGITS)
        self._sl = decimal_to_fixed(config.stop_loss, PRICE_DIGITS)

    # -- reading --------------------------------------------------------------------------
    def of(self, asset_id: str) -> dict[str, Lot]:
        """The lots on this token by owner, oldest first (empty when none)."""
        return self.lots.get(asset_id, _NONE)

    def get(self, asset_id: str, owner: str) -> Lot | None:
        return self.lots.get(asset_id, _NONE).get(owner)

    def all(self) -> Iterator[Lot]:
        for lots in self.lots.values():
            yield from lots.values()

    # -- fills ----------------------------------------------------------------------------
    def buy(
        self, asset_id: str, market: str, owner: str, price: int, size: int, at: float
    ) -> tuple[Lot, bool]:
        """A buy fill adds to its owner's lot; returns the lot and whether it just opened."""
        lots = self.lots.setdefault(asset_id, {})
        lot = lots.get(owner)
        opened = lot is None
        if lot is None:
            lot = lots[owner] = Lot(asset_id, market, StrategyId(owner), at, 0, 0, price, price)
        lot.shares += size
        lot.cost += price * size
        return lot, opened

    def sell(self, asset_id: str, owner: str, size: int) -> list[Reduced]:
        """A sell fill reduces its owner's lot, then the others oldest first; returns what
        it took from each (a lot taken to zero is closed and dropped)."""
        lots = self.lots.get(asset_id)
        if not lots:
            return []
        order = [owner] if owner in lots else []
        order += [o for o in lots if o != owner]
        out: list[Reduced] = []
        left = size
        for name in order:
            if left <= 0:
                break
            lot = lots[name]
            take = min(left, lot.shares)
            if take <= 0:
                continue
            before = (lot.entry_price, lot.opened_at, lot.excursions())
            released = lot.cost if take == lot.shares else lot.cost * take // lot.shares
            lot.shares -= take
            lot.cost -= released
            left -= take
            closed = lot.shares == 0
            if closed:
                del lots[name]
            out.append(Reduced(lot, take, before[0], before[1], before[2], closed))
        if not lots:
            del self.lots[asset_id]
        return out

    def close_all(self, asset_id: str) -> list[Lot]:
        """The position went (settlement): every lot on the token, closed."""
        return list(self.lots.pop(asset_id, _NONE).values())

    # -- levels and marks -----------------------------------------------------------------
    def set_levels(self, asset_id: str, owner: str, levels: ExitLevels) -> None:
        """The lot's own exit levels (None keeps the global rule for that one)."""
        lot = self.get(asset_id, owner)
        if lot is not None:
            lot.take_profit = levels.take_profit
            lot.stop_loss = levels.stop_loss
            lot.max_holding_s = levels.max_holding_s

    def mark(self, asset_id: str, bid: int | None) -> None:
        if bid is None:
            return
        for lot in self.lots.get(asset_id, _NONE).values():
            if bid > lot.high:
                lot.high = bid
            if bid < lot.low:
                lot.low = bid

    def due(self, lot: Lot, bid: int | None, now: float) -> ExitReason | None:
        """The exit rule a lot has reached at this bid and time, if any."""
        tp = self._tp if lot.take_profit is None else lot.take_profit
        sl = self._sl if lot.stop_loss is None else lot.stop_loss
        hold = self.config.max_holding_s if lot.max_holding_s is None else lot.max_holding_s
        if bid is not None:
            entry = lot.entry_price
            if tp and bid >= entry + tp:
                return ExitReason.TAKE_PROFIT
            if sl and bid <= entry - sl:
                return ExitReason.STOP_LOSS
        if hold and now - lot.opened_at >= hold:
            return ExitReason.MAX_HOLDING
        return None

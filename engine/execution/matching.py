"""The matching core: one truth for fills.

Pure functions over an :class:`OrderBook`, used by the paper gateway, the backtester and
the exchange emulator alike. A taker order walks the book from the best level up to its
limit price, taking partial levels; a resting order keeps its place in the queue behind
the size that was there before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import msgspec

from engine.fixed import PRICE_DIGITS, PRICE_SCALE, format_price, format_size
from engine.market.book import OrderBook
from engine.market.fees import FeeSchedule
from engine.orders import Side


def check_order(price: int, size: int, tick: int, min_size: int) -> str | None:
    """Why the venue would refuse this order, or None. Mirrors the CLOB's checks."""
    if not 0 < price < PRICE_SCALE:
        return f"price {format_price(price)} outside (0, 1)"
    if tick > 0 and price % tick:
        return f"price {format_price(price)} is not on the {format_price(tick)} tick"
    if size <= 0:
        return "size must be positive"
    if min_size and size < min_size:
        return f"size {format_size(size)} below the market minimum {format_size(min_size)}"
    return None


class MatchResult(msgspec.Struct, frozen=True):
    fills: tuple[tuple[int, int], ...]  # (price, size) per level taken, best first
    filled: int
    remaining: int
    notional: int  # cash units
    fee: int  # cash units
    reject: str | None = None

    @property
    def avg_price(self) -> Decimal | None:
        if not self.filled:
            return None
        return (Decimal(self.notional) / Decimal(self.filled)).scaleb(-PRICE_DIGITS)


def match_taker(
    book: OrderBook,
    side: Side,
    limit_price: int,
    size: int,
    fees: FeeSchedule,
    *,
    fill_or_kill: bool = False,
    consumed: Mapping[int, int] | None = None,
) -> MatchResult:
    """Walk the opposite side of `book` up to `limit_price`.

    `consumed` is liquidity already taken at each price that the book does not show yet
    (the paper gateway's own earlier fills), so one level is never filled twice.
    """
    if side is Side.BUY:
        prices = book.ask_prices
        sizes = book.ask_sizes
        walk = iter(prices)
        crosses = limit_price.__ge__
    else:
        prices = book.bid_prices
        sizes = book.bid_sizes
        walk = reversed(prices)
        crosses = limit_price.__le__
    fills: list[tuple[int, int]] = []
    left = size
    notional = 0
    fee = 0
    for price in walk:
        if left <= 0 or not crosses(price):
            break
        available = sizes[price] - (consumed.get(price, 0) if consumed else 0)
        if available <= 0:
            continue
        take = available if available < left else left
        fills.append((price, take))
        left -= take
        notional += price * take
    filled = size - left
    if fill_or_kill and left:
        return MatchResult((), 0, size, 0, 0, reject="FOK order could not be fully filled")
    for price, take in fills:
        fee += fees.taker_fee(price, take)
    return MatchResult(tuple(fills), filled, left, notional, fee)


@dataclass(slots=True)
class RestingOrder:
    """A maker order in a price level's queue: it fills only after `queue_ahead` trades."""

    order_id: str
    side: Side
    price: int
    remaining: int
    queue_ahead: int
    filled: int = 0
    fills: list[tuple[int, int]] = field(default_factory=list)

    def on_level_size(self, visible_without_us: int) -> None:
        """The level shrank (cancels): whoever cancelled, we cannot be further back."""
        if visible_without_us < self.queue_ahead:
            self.queue_ahead = visible_without_us

    def on_trade(self, price: int, size: int) -> int:
        """A trade printed at our level against our side; returns what it filled of us."""
        if price != self.price or self.remaining <= 0:
            return 0
        if size <= self.queue_ahead:
            self.queue_ahead -= size
            return 0
        through = size - self.queue_ahead
        self.queue_ahead = 0
        return self._fill(min(through, self.remaining))

    def fill_rest(self) -> int:
        """The opposite side moved through our price: all that is left fills at it."""
        return self._fill(self.remaining)

    def _fill(self, take: int) -> int:
        self.remaining -= take
        self.filled += take
        self.fills.append((self.price, take))
        return take

    def crossed_by(self, best_opposite: int | None) -> bool:
        """The opposite side moved through our price: we would be filled as a maker."""
        if best_opposite is None:
            return False
        if self.side is Side.BUY:
            return best_opposite <= self.price
        return best_opposite >= self.price

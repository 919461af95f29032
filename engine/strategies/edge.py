"""Edge arithmetic the strategies share: taker fees per share, spreads in basis points,
and the one test every strategy applies before reading a book.

Fees are money, so they are computed exactly (FeeSchedule, Decimal) and rounded up to the
1e-4 price unit (a cost is never flattered); the Decimal work is cached per (schedule,
price), because strategies ask on every book update and prices repeat. Basis points are
indicator floats.
"""

from __future__ import annotations

from engine.fixed import SIZE_SCALE
from engine.market.book_view import BookView
from engine.market.fees import FeeSchedule

_CASH_PER_PRICE_UNIT = SIZE_SCALE  # 1e-10 cash units in one 1e-4 price unit per share


# id(schedule) -> (schedule, price -> fee): the schedule is kept alive by its entry, so
# its id cannot be reused while cached. Keyed by identity, not equality: hashing a
# schedule hashes three Decimals, which would cost more than the lookup saves.
_FEE_TABLES: dict[int, tuple[FeeSchedule, dict[int, int]]] = {}
_MAX_SCHEDULES = 4096  # markets are re-listed with new schedules: start over past this


def fee_per_share(fees: FeeSchedule, price: int) -> int:
    """Taker fee for one share at `price`, in 1e-4 price units, rounded up."""
    entry = _FEE_TABLES.get(id(fees))
    if entry is None:
        if len(_FEE_TABLES) >= _MAX_SCHEDULES:
            _FEE_TABLES.clear()
        entry = _FEE_TABLES[id(fees)] = (fees, {})
    table = entry[1]
    fee = table.get(price)
    if fee is None:
        fee = 0 if fees.is_free else -(-fees.taker_fee(price, SIZE_SCALE) // _CASH_PER_PRICE_UNIT)
        table[price] = fee
    return fee


def fee_bps(fees: FeeSchedule, price: int) -> float:
    """Taker fee at `price` in basis points of that price."""
    if price <= 0:
        return 0.0
    return fee_per_share(fees, price) * 10_000 / price


def spread_bps(book: BookView) -> float | None:
    """Spread over mid, in basis points; None for a one-sided or empty book."""
    bid, ask = book.best_bid, book.best_ask
    if bid is None or ask is None or bid + ask <= 0:
        return None
    return (ask - bid) * 20_000 / (ask + bid)


def bps_of(amount: float, price: int) -> float:
    """`amount` (1e-4 price units) in basis points of `price`."""
    return amount * 10_000 / price if price > 0 else 0.0


def tradeable(book: BookView | None) -> bool:
    """A book a strategy may price off: snapshot taken and trusted, not crossed, both
    sides present, prices strictly inside (0, 1)."""
    return book is not None and book.top() is not None

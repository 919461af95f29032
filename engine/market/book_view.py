"""A read-only view of one L2 book: what strategies see, never the live mutable book.

A view wraps its book without copying (strategies run on every book update, so a copy
per evaluation would be the hot path's main cost) and exposes only queries: a strategy
cannot change a book it is handed. Lists it returns are fresh, so keeping or mutating
them is harmless.
"""

from __future__ import annotations

from engine.fixed import PRICE_SCALE
from engine.market.book import OrderBook


class BookView:
    __slots__ = ("_book",)

    def __init__(self, book: OrderBook) -> None:
        self._book = book

    @property
    def asset_id(self) -> str:
        return self._book.asset_id

    @property
    def market(self) -> str:
        return self._book.market

    @property
    def tick(self) -> int:
        return self._book.tick

    @property
    def min_order_size(self) -> int:
        return self._book.min_order_size

    @property
    def best_bid(self) -> int | None:
        return self._book.best_bid

    @property
    def best_ask(self) -> int | None:
        return self._book.best_ask

    def best_bid_size(self) -> int:
        return self._book.best_bid_size()

    def best_ask_size(self) -> int:
        return self._book.best_ask_size()

    def spread(self) -> int | None:
        return self._book.spread()

    def mid(self) -> float | None:
        return self._book.mid()

    def is_crossed(self) -> bool:
        return self._book.is_crossed()

    def top(self) -> tuple[int, int] | None:
        """(best bid, best ask) when a strategy may price off this book: a trusted
        snapshot, both sides, not crossed, prices strictly inside (0, 1); else None.
        One call for what strategies read first on every book they are asked about."""
        book = self._book
        if not book.has_snapshot or book.needs_snapshot:
            return None
        bids, asks = book.bid_prices, book.ask_prices
        if not bids or not asks:
            return None
        bid, ask = bids[-1], asks[0]
        return (bid, ask) if 0 < bid < ask < PRICE_SCALE else None

    @property
    def usable(self) -> bool:
        """Snapshot taken and trusted: a book that needs a re-snapshot gives no signal."""
        book = self._book
        return book.has_snapshot and not book.needs_snapshot and not book.is_crossed()

    @property
    def last_trade_price(self) -> int | None:
        return self._book.last_trade_price

    @property
    def last_trade_side(self) -> str:
        return self._book.last_trade_side

    def top_bids(self, n: int) -> list[tuple[int, int]]:
        return self._book.top_bids(n)

    def top_asks(self, n: int) -> list[tuple[int, int]]:
        return self._book.top_asks(n)

    def depth(self, is_bid: bool, n: int) -> int:
        return self._book.depth(is_bid, n)

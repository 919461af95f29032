"""One L2 order book per token, in exact integer prices and sizes.

Each side keeps a dict price -> size and an ascending list of prices, so a size update
on an existing level is one dict store and only a new or vanished level pays a bisect
insert/delete (a memmove of ~100 ints). Best bid is the last bid price, best ask the
first ask price; top-N depth is a slice.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable

from engine.fixed import PRICE_SCALE, format_price, format_size

# The venue's tick sizes, in price units: 0.1, 0.01, 0.001, 0.0001. No other exists.
VENUE_TICKS = frozenset((1000, 100, 10, 1))
# 0.1 is only ever learnt from metadata: a sparse book on a 0.01 grid can look like 0.1.
INFERABLE_TICKS = (100, 10, 1)  # 0.01, 0.001, 0.0001 in price units


def infer_tick(prices: Iterable[int]) -> int:
    """The coarsest valid tick that puts every price on the grid (0.01 if no prices)."""
    prices = list(prices)
    if not prices:
        return 100
    for tick in INFERABLE_TICKS:
        if all(p % tick == 0 for p in prices):
            return tick
    return 1


class OrderBook:
    __slots__ = (
        "asset_id",
        "market",
        "tick",
        "min_order_size",
        "bid_prices",
        "bid_sizes",
        "ask_prices",
        "ask_sizes",
        "timestamp_ms",
        "hash",
        "last_trade_price",
        "last_trade_size",
        "last_trade_side",
        "tick_known",
        "has_snapshot",
        "needs_snapshot",
        "updates",
    )

    def __init__(self, asset_id: str, market: str = "", tick: int = 100) -> None:
        self.asset_id = asset_id
        self.market = market
        self.tick = tick
        self.tick_known = False
        self.min_order_size = 0
        self.bid_prices: list[int] = []
        self.bid_sizes: dict[int, int] = {}
        self.ask_prices: list[int] = []
        self.ask_sizes: dict[int, int] = {}
        self.timestamp_ms = 0
        self.hash = ""
        self.last_trade_price: int | None = None
        self.last_trade_size = 0
        self.last_trade_side = ""
        self.has_snapshot = False
        # Set when we know the book may be wrong (gap, crossed, re-grid); cleared by a
        # fresh snapshot. Strategies must not trade a book in this state.
        self.needs_snapshot = False
        self.updates = 0

    # -- mutation -----------------------------------------------------------------
    def replace(
        self,
        bids: Iterable[tuple[int, int]],
        asks: Iterable[tuple[int, int]],
        timestamp_ms: int = 0,
        book_hash: str = "",
    ) -> None:
        bid_sizes = {p: s for p, s in bids if s > 0}
        ask_sizes = {p: s for p, s in asks if s > 0}
        self.bid_sizes = bid_sizes
        self.ask_sizes = ask_sizes
        self.bid_prices = sorted(bid_sizes)
        self.ask_prices = sorted(ask_sizes)
        if not self.tick_known:
            self.tick = infer_tick(self.bid_prices + self.ask_prices)
        self.timestamp_ms = timestamp_ms
        self.hash = book_hash
        self.has_snapshot = True
        self.needs_snapshot = False
        self.updates += 1

    def set_level(self, is_bid: bool, price: int, size: int) -> None:
        """Set the aggregate size at a price; size 0 removes the level."""
        if is_bid:
            sizes, prices = self.bid_sizes, self.bid_prices
        else:
            sizes, prices = self.ask_sizes, self.ask_prices
        if size > 0:
            if price not in sizes:
                insort(prices, price)
            sizes[price] = size
        elif price in sizes:
            del sizes[price]
            del prices[bisect_left(prices, price)]
        self.updates += 1

    def set_tick(self, tick: int) -> int:
        """Re-grid to a new tick size; returns how many off-grid levels were dropped.

        A finer tick keeps every level. A coarser one makes off-grid levels impossible,
        so they are dropped and the caller should re-snapshot to learn the venue's truth.
        A tick the venue does not have raises ValueError, the book untouched.
        """
        if tick not in VENUE_TICKS:
            raise ValueError(f"tick {tick} is not one of the venue's (0.1, 0.01, 0.001, 0.0001)")
        self.tick = tick
        self.tick_known = True
        dropped = 0
        for sizes, prices in (
            (self.bid_sizes, self.bid_prices),
            (self.ask_sizes, self.ask_prices),
        ):
            off = [p for p in prices if p % tick]
            for p in off:
                del sizes[p]
            if off:
                prices[:] = [p for p in prices if not p % tick]
                dropped += len(off)
        return dropped

    # -- queries ------------------------------------------------------------------
    @property
    def best_bid(self) -> int | None:
        prices = self.bid_prices
        return prices[-1] if prices else None

    @property
    def best_ask(self) -> int | None:
        prices = self.ask_prices
        return prices[0] if prices else None

    def best_bid_size(self) -> int:
        prices = self.bid_prices
        return self.bid_sizes[prices[-1]] if prices else 0

    def best_ask_size(self) -> int:
        prices = self.ask_prices
        return self.ask_sizes[prices[0]] if prices else 0

    def spread(self) -> int | None:
        if not self.bid_prices or not self.ask_prices:
            return None
        return self.ask_prices[0] - self.bid_prices[-1]

    def mid_price(self) -> int | None:
        """Mid price in 1e-4 units (rounded down), None unless both sides show."""
        if not self.bid_prices or not self.ask_prices:
            return None
        return (self.ask_prices[0] + self.bid_prices[-1]) // 2

    def mid(self) -> float | None:
        """Mid price as a float, for indicators only (money stays integer)."""
        if not self.bid_prices or not self.ask_prices:
            return None
        return (self.ask_prices[0] + self.bid_prices[-1]) / (2 * PRICE_SCALE)

    def is_crossed(self) -> bool:
        """True when best bid >= best ask (crossed or locked): never valid on a CLOB."""
        return bool(
            self.bid_prices and self.ask_prices and self.bid_prices[-1] >= self.ask_prices[0]
        )

    def top_bids(self, n: int) -> list[tuple[int, int]]:
        sizes = self.bid_sizes
        return [(p, sizes[p]) for p in self.bid_prices[: -n - 1 : -1]]

    def top_asks(self, n: int) -> list[tuple[int, int]]:
        sizes = self.ask_sizes
        return [(p, sizes[p]) for p in self.ask_prices[:n]]

    def levels(self, is_bid: bool) -> list[tuple[int, int]]:
        """All levels of a side, best first."""
        return (
            self.top_bids(len(self.bid_prices)) if is_bid else self.top_asks(len(self.ask_prices))
        )

    def depth(self, is_bid: bool, n: int) -> int:
        """Total size over the best n levels of a side."""
        # map over the dict's lookup, not a generator: strategies ask on every update.
        if is_bid:
            return sum(map(self.bid_sizes.__getitem__, self.bid_prices[: -n - 1 : -1]))
        return sum(map(self.ask_sizes.__getitem__, self.ask_prices[:n]))

    def to_dict(self, levels: int | None = None) -> dict[str, object]:
        """A JSON-ready view with decimal strings, best level first on each side."""
        bids = self.top_bids(levels) if levels else self.levels(True)
        asks = self.top_asks(levels) if levels else self.levels(False)
        bb, ba = self.best_bid, self.best_ask
        return {
            "asset_id": self.asset_id,
            "market": self.market,
            "tick_size": format_price(self.tick),
            "best_bid": format_price(bb) if bb is not None else None,
            "best_ask": format_price(ba) if ba is not None else None,
            "spread": format_price(s) if (s := self.spread()) is not None else None,
            "last_trade_price": (
                format_price(self.last_trade_price) if self.last_trade_price is not None else None
            ),
            "last_trade_size": format_size(self.last_trade_size),
            "last_trade_side": self.last_trade_side or None,
            "timestamp": self.timestamp_ms,
            "hash": self.hash,
            "needs_snapshot": self.needs_snapshot,
            "bids": [{"price": format_price(p), "size": format_size(s)} for p, s in bids],
            "asks": [{"price": format_price(p), "size": format_size(s)} for p, s in asks],
        }

"""The quote board: each token's best ask while its book is one a strategy may price off.

Strategies that watch prices across books (a market's YES + NO asks, an event's asks)
keep their sums current from this board instead of reading every book on every pass: it
is refreshed with the books a frame changed (and any a venue message flagged as
untrusted), and tells its listeners only which tokens' tradeable ask moved.

"Tradeable" is the strategies' test (``engine/strategies/edge.py``): a trusted snapshot,
both sides present, not crossed, prices strictly inside (0, 1). A token whose book is not
tradeable has no entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from engine.fixed import PRICE_SCALE
from engine.market.book import OrderBook

QuoteListener = Callable[[list[str]], None]  # the tokens whose tradeable ask moved


def tradeable_ask(book: OrderBook | None) -> int | None:
    """The best ask when the book may be priced off (see the module's note), else None."""
    if book is None or not book.has_snapshot or book.needs_snapshot:
        return None
    bids, asks = book.bid_prices, book.ask_prices
    if not bids or not asks:
        return None
    ask = asks[0]
    return ask if 0 < bids[-1] < ask < PRICE_SCALE else None


class QuoteBoard:
    def __init__(self, books: Mapping[str, OrderBook]) -> None:
        self._books = books
        self.asks: dict[str, int] = {}  # token -> best ask, while its book is tradeable
        self._listeners: list[QuoteListener] = []

    def add_listener(self, listener: QuoteListener) -> None:
        self._listeners.append(listener)

    def on_books(self, changed: Iterable[str], now: float = 0.0) -> None:
        """Books changed (a data intake's book listener): re-read their tops."""
        books = self._books
        asks = self.asks
        moved: list[str] = []
        for asset in changed:
            # tradeable_ask inlined: this runs for every changed book of every frame.
            book = books.get(asset)
            ask = None
            if book is not None and book.has_snapshot and not book.needs_snapshot:
                bid_prices, ask_prices = book.bid_prices, book.ask_prices
                if bid_prices and ask_prices:
                    best = ask_prices[0]
                    if 0 < bid_prices[-1] < best < PRICE_SCALE:
                        ask = best
            if asks.get(asset) != ask:
                if ask is None:
                    del asks[asset]
                else:
                    asks[asset] = ask
                moved.append(asset)
        if moved:
            for listener in self._listeners:
                listener(moved)

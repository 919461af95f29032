"""The paper shadow: the paper model prices every live order beside the venue.

Each live order is also placed on a paper exchange over the same books and prints; what
the paper model would have done with it (filled how much, at what price, when) is
recorded in tables of its own (``shadow_orders``, ``shadow_fills``), never in the account
or in ``orders``/``fills``. A report of where the venue filled differently from the model
(size, price, time) reads those tables beside the live ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from engine.clock import Clock
from engine.execution.paper import PaperExchange
from engine.market.book import OrderBook
from engine.market.markets import MarketInfo
from engine.orders import OrderRequest
from engine.venue import VenueReport


class PaperShadow:
    def __init__(
        self,
        clock: Clock,
        book_of: Callable[[str], OrderBook | None],
        market_of: Callable[[str], MarketInfo | None],
        report: Callable[[Sequence[VenueReport]], None],
    ) -> None:
        self._clock = clock
        self._exchange = PaperExchange(book_of, market_of)
        self._report = report

    def on_markets(self, markets: Sequence[MarketInfo]) -> None:
        self._exchange.add_markets(markets)

    def on_trade(self, asset_id: str, price: int, size: int, taker_side: str) -> None:
        self._exchange.on_trade(asset_id, price, size, taker_side, self._clock.time())

    def on_books(self, changed: dict[str, None], now: float) -> None:
        exchange = self._exchange
        if exchange.watching:
            watched = exchange.watched(changed)
            if watched:
                exchange.after_frame(watched, now)
        if exchange.has_fills:
            self._report(exchange.take_reports(now))

    def place(self, order: OrderRequest) -> None:
        self._report(self._exchange.place(order, self._clock.time()))

    def cancel(self, order_id: str, reason: str) -> None:
        reports = self._exchange.withdraw(order_id, self._clock.time(), reason)
        if reports:
            self._report(reports)

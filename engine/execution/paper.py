"""The paper gateway: orders filled against the real book by the matching core.

Taking orders walk the current book (partial fills, fees, tick and minimum size). The
liquidity a paper order took stays taken until the venue changes that level, so two
orders never fill against the same shares. Resting orders join the back of their level's
queue and fill only once trades at that price have eaten through the size ahead of them,
or when the opposite side moves through their price. Optional latency delays matching,
so the book can move between decision and fill, as it does live.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from engine.adapters.polymarket.books import BookStore
from engine.clock import Clock
from engine.execution.matching import RestingOrder, check_order, match_taker
from engine.market.book import OrderBook
from engine.market.markets import MarketInfo
from engine.orders import (
    TAKING_TYPES,
    Fill,
    OrderRequest,
    OrderResult,
    OrderStatus,
    OrderType,
    Side,
)


@dataclass(slots=True)
class _Resting:
    request: OrderRequest
    queue: RestingOrder


class PaperGateway:
    name = "paper"

    def __init__(
        self,
        books: BookStore,
        market_of: Callable[[str], MarketInfo | None],
        clock: Clock,
        latency_s: float = 0.0,
    ) -> None:
        self._books = books
        self._market_of = market_of
        self._clock = clock
        self._latency = latency_s
        self._ids = itertools.count(1)
        # (asset, took asks?) -> price -> (shares taken by us, level size the venue showed)
        self._consumed: dict[tuple[str, bool], dict[int, tuple[int, int]]] = {}
        self._resting: dict[str, _Resting] = {}
        self._fills: list[Fill] = []
        books.trade_listeners.append(self._on_trade)

    # -- the port -----------------------------------------------------------------
    async def submit(self, order: OrderRequest) -> OrderResult:
        if self._latency:
            await self._clock.sleep(self._latency)
        order_id = f"paper-{next(self._ids)}"
        market = self._market_of(order.asset_id)
        book = self._books.books.get(order.asset_id)
        if market is None or book is None or not book.has_snapshot:
            return OrderResult(order_id, OrderStatus.REJECTED, reason="no book for this token")
        if book.needs_snapshot:
            return OrderResult(
                order_id, OrderStatus.REJECTED, reason="book is being re-snapshotted"
            )
        reason = check_order(order.price, order.size, book.tick, market.min_order_size)
        if reason:
            return OrderResult(order_id, OrderStatus.REJECTED, reason=reason)
        takes_asks = order.side is Side.BUY
        consumed = self._live_consumed(book, takes_asks)
        result = match_taker(
            book,
            order.side,
            order.price,
            order.size,
            market.fees,
            fill_or_kill=order.order_type is OrderType.FOK,
            consumed=consumed,
        )
        if result.reject:
            return OrderResult(
                order_id, OrderStatus.REJECTED, remaining=order.size, reason=result.reject
            )
        now = self._clock.time()
        fills = []
        taken = self._consumed.setdefault((order.asset_id, takes_asks), {})
        opposite = book.ask_sizes if takes_asks else book.bid_sizes
        for price, size in result.fills:
            prior = consumed.get(price, 0)
            taken[price] = (prior + size, opposite[price])
            fee = market.fees.taker_fee(price, size)
            fills.append(
                Fill(
                    order_id,
                    order.asset_id,
                    order.market,
                    order.side,
                    price,
                    size,
                    fee,
                    "taker",
                    now,
                )
            )
        remaining = result.remaining
        if remaining and order.order_type not in TAKING_TYPES:
            own = book.bid_sizes if order.side is Side.BUY else book.ask_sizes
            queue = RestingOrder(
                order_id, order.side, order.price, remaining, own.get(order.price, 0)
            )
            self._resting[order_id] = _Resting(order, queue)
            return OrderResult(order_id, OrderStatus.LIVE, tuple(fills), remaining)
        if remaining:
            status = OrderStatus.CANCELLED if fills else OrderStatus.REJECTED
            why = (
                "no liquidity within the limit price" if not fills else "remainder cancelled (FAK)"
            )
            return OrderResult(order_id, status, tuple(fills), remaining, why)
        return OrderResult(order_id, OrderStatus.CONFIRMED, tuple(fills), 0)

    async def cancel(self, order_id: str) -> bool:
        return self._resting.pop(order_id, None) is not None

    def take_fills(self) -> list[Fill]:
        self._check_crossed()
        fills, self._fills = self._fills, []
        return fills

    def open_orders(self) -> list[OrderRequest]:
        return [r.request for r in self._resting.values()]

    # -- internals ----------------------------------------------------------------
    def _live_consumed(self, book: OrderBook, takes_asks: bool) -> dict[int, int]:
        """What we took that the venue still shows; forgotten once a level changes."""
        taken = self._consumed.get((book.asset_id, takes_asks))
        if not taken:
            return {}
        sizes = book.ask_sizes if takes_asks else book.bid_sizes
        live: dict[int, int] = {}
        for price, (amount, seen) in list(taken.items()):
            if sizes.get(price) == seen:
                live[price] = amount
            else:
                del taken[price]
        return live

    def _on_trade(self, asset_id: str, price: int, size: int, taker_side: str) -> None:
        for resting in list(self._resting.values()):
            req = resting.request
            # A taker BUY lifts asks: it can fill our resting SELL, and vice versa.
            if req.asset_id != asset_id or req.side.value == taker_side:
                continue
            took = resting.queue.on_trade(price, size)
            if took:
                self._maker_fill(resting, price, took)

    def _check_crossed(self) -> None:
        """Levels shrink (queue moves up) and prices move through resting orders."""
        for resting in list(self._resting.values()):
            req, queue = resting.request, resting.queue
            book = self._books.books.get(req.asset_id)
            if book is None:
                continue
            own = book.bid_sizes if req.side is Side.BUY else book.ask_sizes
            queue.on_level_size(own.get(req.price, 0))
            best = book.best_ask if req.side is Side.BUY else book.best_bid
            if queue.remaining and queue.crossed_by(best):
                self._maker_fill(resting, req.price, queue.fill_rest())

    def _maker_fill(self, resting: _Resting, price: int, size: int) -> None:
        req = resting.request
        self._fills.append(
            Fill(
                resting.queue.order_id,
                req.asset_id,
                req.market,
                req.side,
                price,
                size,
                0,
                "maker",
                self._clock.time(),
            )
        )
        if resting.queue.remaining == 0:
            self._resting.pop(resting.queue.order_id, None)

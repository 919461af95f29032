"""The paper exchange: orders filled against the venue's real book, honestly.

Taking orders walk the current book with the matching core (partial fills, fees, tick and
minimum size), minus what earlier paper orders already took (:mod:`.liquidity`: YES and
NO are one pool). Resting orders join one FIFO queue per canonical level, behind the
venue size shown there when they arrive, and fill only when the venue shows it:

- a trade print at our level eats the size ahead of us first, then paper orders in the
  order they arrived; one print never fills more than its size;
- a decrease of the level (others cancelled or traded) moves us up only as far as the new
  size; when a decrease arrives before the trade print that caused it (feeds differ on
  the order), the print does not move us a second time;
- a trade printing through our price (a sweep) fills us, up to the print's size; orders
  at better prices share a print before its own level does (price priority);
- the opposite side showing size at or through our price fills us at our price, up to
  the size shown there that nobody (paper) took already — and that size is then taken.

Makers pay no fee; takers pay the market's fee in USDC on buys and sells alike (V2).

:class:`PaperExchange` is synchronous so a backtest can step it; :class:`PaperGateway` is
the OrderGateway over it (paper mode), with the configured latency. Like a live venue's
user channel, it reports what happens to resting orders unasked, through the order
manager's one entry point: the fills a frame or a trade print caused, then each touched
order's status, once per frame.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from engine.clock import Clock
from engine.execution.liquidity import ConsumedLiquidity, Level, Mirror, shown_size
from engine.execution.matching import check_order, match_taker
from engine.market.book import OrderBook
from engine.market.markets import MarketInfo
from engine.orders import (
    TAKING_TYPES,
    Fill,
    Liquidity,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from engine.venue import (
    FillReport,
    OrderUpdate,
    TradingMode,
    VenueReport,
    VenueSink,
)

# A level decrease is matched to a trade print arriving within this long (feeds send the
# print and the book change as separate messages, in either order).
PRINT_MATCH_WINDOW_S = 1.0


@dataclass(slots=True)
class PaperOrder:
    request: OrderRequest
    level: Level  # canonical level it rests at
    remaining: int
    ahead: int  # venue size ahead of it (paper orders ahead are counted separately)
    filled: int = 0
    fills: int = 0  # how many fills so far (for fill ids)
    credit: int = 0  # how far a level decrease moved it, not yet explained by a print
    credit_at: float = 0.0


class PaperExchange:
    """A simulated exchange over the real books; every method takes the clock's `now`."""

    def __init__(
        self,
        book_of: Callable[[str], OrderBook | None],
        market_of: Callable[[str], MarketInfo | None],
        resolved: Callable[[str], bool] = lambda market: False,
    ) -> None:
        self._book_of = book_of
        self._market_of = market_of
        self._resolved = resolved
        self.mirror = Mirror()
        self.pool = ConsumedLiquidity(self.mirror, book_of)
        self.orders: dict[str, PaperOrder] = {}
        self._queues: dict[Level, list[PaperOrder]] = {}  # FIFO per canonical level
        self._resting_tokens: dict[str, int] = {}  # token -> resting orders on its canon
        self._fills: list[Fill] = []  # resting orders' fills not reported yet

    def add_markets(self, markets: Iterable[MarketInfo]) -> None:
        for market in markets:
            self.mirror.add_market(market)

    def watches(self, token: str) -> bool:
        """True when a change of this token's book can matter to paper orders."""
        return token in self._resting_tokens or self.pool.watches(token)

    def watched(self, tokens: Iterable[str]) -> list[str]:
        """Those of `tokens` whose book changes can matter (one call per frame)."""
        resting, taken = self._resting_tokens, self.pool.by_token
        return [t for t in tokens if t in resting or t in taken]

    @property
    def watching(self) -> bool:
        """Whether any book change can matter now (one check per frame, not per token)."""
        return bool(self._resting_tokens) or self.pool.watching

    @property
    def has_fills(self) -> bool:
        return bool(self._fills)

    # -- orders -----------------------------------------------------------------------
    def place(self, order: OrderRequest, now: float) -> list[VenueReport]:
        """An order reaches the book: what filled at once, then where it stands."""
        venue_id = f"paper-{order.order_id}"
        market = self._market_of(order.asset_id)
        book = self._book_of(order.asset_id)

        def refuse(reason: str) -> list[VenueReport]:
            return [OrderUpdate(order.order_id, OrderStatus.REJECTED, now, reason, venue_id)]

        if market is None or book is None or not book.has_snapshot:
            return refuse("no book for this token")
        if self._resolved(market.condition_id):
            return refuse("market resolved: it no longer trades")
        if book.needs_snapshot:
            return refuse("book is being re-snapshotted")
        reason = check_order(order.price, order.size, book.tick, market.min_order_size)
        if reason:
            return refuse(reason)
        takes_asks = order.side is Side.BUY
        consumed = self.pool.view(order.asset_id, takes_asks)
        if order.post_only:
            probe = match_taker(book, order.side, order.price, 1, market.fees, consumed=consumed)
            if probe.filled:
                return refuse("post-only order would take liquidity")
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
            return refuse(result.reject)
        fills: list[VenueReport] = []
        for n, (price, size) in enumerate(result.fills, 1):
            # A buy takes asks, a sell takes bids: consume the side it took.
            self.pool.consume(order.asset_id, not takes_asks, price, size)
            fill = Fill(
                f"{order.order_id}#{n}",
                order.order_id,
                order.asset_id,
                order.market,
                order.side,
                price,
                size,
                market.fees.taker_fee(price, size),
                Liquidity.TAKER,
                now,
            )
            fills.append(FillReport(fill))
        remaining = result.remaining
        if not remaining:
            return [*fills, OrderUpdate(order.order_id, OrderStatus.FILLED, now, None, venue_id)]
        if order.order_type in TAKING_TYPES:
            if fills:
                why = "remainder cancelled (FAK)"
                done = OrderUpdate(order.order_id, OrderStatus.CANCELLED, now, why, venue_id)
                return [*fills, done]
            return refuse("no liquidity within the limit price")
        self._rest(order, book, remaining, len(fills))
        status = OrderStatus.PARTIALLY_FILLED if fills else OrderStatus.LIVE
        return [*fills, OrderUpdate(order.order_id, status, now, None, venue_id)]

    def _rest(self, order: OrderRequest, book: OrderBook, remaining: int, fills: int) -> None:
        is_bid = order.side is Side.BUY
        level = self.mirror.level(order.asset_id, is_bid, order.price)
        paper = PaperOrder(
            order,
            level,
            remaining,
            ahead=shown_size(book, is_bid, order.price),
            filled=order.size - remaining,
            fills=fills,
        )
        self.orders[order.order_id] = paper
        self._queues.setdefault(level, []).append(paper)
        for token in self.mirror.tokens(level.token):
            self._resting_tokens[token] = self._resting_tokens.get(token, 0) + 1

    def cancel(self, order_id: str) -> PaperOrder | None:
        """Take a resting order off the book; returns it (None if it was not resting)."""
        paper = self.orders.pop(order_id, None)
        if paper is None:
            return None
        queue = self._queues.get(paper.level)
        if queue is not None:
            queue.remove(paper)
            if not queue:
                del self._queues[paper.level]
        for token in self.mirror.tokens(paper.level.token):
            left = self._resting_tokens.get(token, 0) - 1
            if left > 0:
                self._resting_tokens[token] = left
            else:
                self._resting_tokens.pop(token, None)
        return paper

    def open_orders(self) -> list[PaperOrder]:
        return list(self.orders.values())

    # -- what the venue shows -----------------------------------------------------------
    def on_trade(self, token: str, price: int, size: int, taker_side: str, now: float) -> None:
        """A trade print: advance queues at its level, fill orders it swept through."""
        if size <= 0 or token not in self._resting_tokens:
            return
        # A taker BUY lifted asks (resting sells); a taker SELL hit bids.
        hit_bids = taker_side == "SELL"
        printed = self.mirror.level(token, hit_bids, price)
        # Price priority: orders resting at prices the print went through would have met
        # the taker first, so they share the print's size before its own level does.
        budget = size
        for level in self._swept_levels(printed):
            for paper in list(self._queues.get(level, ())):
                if budget <= 0:
                    return
                take = min(paper.remaining, budget)
                paper.ahead = 0
                budget -= take
                self._maker_fill(paper, take, now)
        at_level = self._queues.get(printed)
        if at_level and budget > 0:
            self._advance(at_level, budget, now)

    def _swept_levels(self, printed: Level) -> list[Level]:
        """Levels with resting paper orders strictly through a print, best first."""
        if printed.is_bid:  # bids above the print's price were consumed before it
            found = [lv for lv in self._queues if lv[:2] == printed[:2] and lv[2] > printed[2]]
            found.sort(key=lambda lv: -lv.price)
        else:
            found = [lv for lv in self._queues if lv[:2] == printed[:2] and lv[2] < printed[2]]
            found.sort(key=lambda lv: lv.price)
        return found

    def _advance(self, queue: list[PaperOrder], size: int, now: float) -> None:
        paper_ahead = 0
        hits: list[tuple[PaperOrder, int]] = []
        for paper in queue:
            if now - paper.credit_at > PRINT_MATCH_WINDOW_S:
                paper.credit = 0
            explained = min(size, paper.credit)  # the decrease already moved it this far
            paper.credit -= explained
            effective = size - explained
            reach = effective - paper.ahead - paper_ahead
            paper_ahead += paper.remaining
            paper.ahead = max(0, paper.ahead - effective)
            if reach > 0:
                hits.append((paper, min(reach, paper.remaining)))
        for paper, take in hits:
            self._maker_fill(paper, take, now)

    def after_frame(self, tokens: Iterable[str], now: float) -> None:
        """Books of `tokens` changed: shrink what we took, move queues, fill crossed orders."""
        for token in tokens:
            book = self._book_of(token)
            if book is None or not book.has_snapshot or book.needs_snapshot:
                continue
            self.pool.reconcile(book)
            if token in self._resting_tokens:
                self._reconcile_queues(book, now)

    def _reconcile_queues(self, book: OrderBook, now: float) -> None:
        token = book.asset_id
        canon = self.mirror.canonical(token)
        for level, queue in list(self._queues.items()):
            if level.token != canon:
                continue
            is_bid, price = self.mirror.local(level, token)
            shown = shown_size(book, is_bid, price)
            for paper in queue:
                if shown < paper.ahead:
                    paper.credit += paper.ahead - shown
                    paper.credit_at = now
                    paper.ahead = shown
            self._fill_if_crossed(book, level, now)

    def _fill_if_crossed(self, book: OrderBook, level: Level, now: float) -> None:
        """The opposite side shows size at or through the level: those sellers (buyers)
        would have met our resting orders first."""
        queue = self._queues.get(level)
        if not queue:
            return
        is_bid, price = self.mirror.local(level, book.asset_id)
        if is_bid:  # our bids meet asks at or below our price, best (lowest) first
            crossing = [p for p in book.ask_prices if p <= price]
        else:  # our asks meet bids at or above our price, best (highest) first
            crossing = [p for p in reversed(book.bid_prices) if p >= price]
        for opposite in crossing:
            available = self.pool.available(book, not is_bid, opposite)
            for paper in list(queue):
                if available <= 0:
                    break
                take = min(paper.remaining, available)
                available -= take
                self.pool.consume(book.asset_id, not is_bid, opposite, take)
                paper.ahead = 0
                self._maker_fill(paper, take, now)
            if not self._queues.get(level):
                return

    def _maker_fill(self, paper: PaperOrder, size: int, now: float) -> None:
        if size <= 0:
            return
        req = paper.request
        paper.remaining -= size
        paper.filled += size
        paper.fills += 1
        self._fills.append(
            Fill(
                f"{req.order_id}#{paper.fills}",
                req.order_id,
                req.asset_id,
                req.market,
                req.side,
                req.price,
                size,
                0,
                Liquidity.MAKER,
                now,
            )
        )
        if paper.remaining <= 0:
            self.cancel(req.order_id)

    def withdraw(self, order_id: str, now: float, reason: str = "cancelled") -> list[VenueReport]:
        """A cancel: the order's CANCELLED update when it was resting, else nothing."""
        if self.cancel(order_id) is None:
            return []
        return [OrderUpdate(order_id, OrderStatus.CANCELLED, now, reason)]

    def take_reports(self, now: float) -> list[VenueReport]:
        """What resting orders did since the last call: their fills in the order they
        happened, then each touched order's status (filled, or still partly working)."""
        fills, self._fills = self._fills, []
        if not fills:
            return []
        reports: list[VenueReport] = [FillReport(fill) for fill in fills]
        touched = dict.fromkeys(fill.order_id for fill in fills)
        for order_id in touched:
            resting = order_id in self.orders
            status = OrderStatus.PARTIALLY_FILLED if resting else OrderStatus.FILLED
            reports.append(OrderUpdate(order_id, status, now))
        return reports


class PaperGateway:
    """The order gateway over a :class:`PaperExchange` (paper mode), with seeded latency.

    The kernel hands it the frames' book changes and trade prints; it reports resting
    orders' fills to the sink once per frame, as a venue's user channel would.
    """

    name = "paper"
    mode = TradingMode.PAPER
    keeps_orders = False  # paper orders end with the run that placed them

    def __init__(
        self,
        exchange: PaperExchange,
        clock: Clock,
        latency_s: float = 0.0,
        jitter_s: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.exchange = exchange
        self._clock = clock
        self._latency = latency_s
        self._jitter = jitter_s
        self._rng = random.Random(f"paper-latency:{seed}")
        self._sink: VenueSink | None = None

    def bind(self, sink: VenueSink, markets: object = None) -> None:
        """Its market data comes from the kernel's wiring (books, prints, listings)."""
        self._sink = sink

    async def run(self) -> None:
        return None  # nothing runs in the background: fills come with the frames

    # -- the market data it fills against ---------------------------------------------------
    def on_markets(self, markets: Sequence[MarketInfo]) -> None:
        self.exchange.add_markets(markets)

    def on_trade(self, asset_id: str, price: int, size: int, taker_side: str) -> None:
        self.exchange.on_trade(asset_id, price, size, taker_side, self._clock.time())

    def on_books(self, changed: dict[str, None], now: float) -> None:
        """A frame changed these books: move queues, fill what crossed, report it."""
        exchange = self.exchange
        if exchange.watching:
            watched = exchange.watched(changed)
            if watched:
                exchange.after_frame(watched, now)
        if exchange.has_fills and self._sink is not None:
            self._sink.on_reports(exchange.take_reports(now))

    # -- orders ------------------------------------------------------------------------------
    def latency(self) -> float:
        """How long the next order takes to reach the book (seeded, so replays agree)."""
        if not self._jitter:
            return self._latency
        return self._latency + self._rng.uniform(0.0, self._jitter)

    def place(self, order: OrderRequest, now: float) -> Sequence[VenueReport]:
        return self.exchange.place(order, now)

    def withdraw(
        self, order_id: str, now: float, reason: str = "cancelled"
    ) -> Sequence[VenueReport]:
        return self.exchange.withdraw(order_id, now, reason)

    async def submit(self, order: OrderRequest) -> Sequence[VenueReport]:
        delay = self.latency()
        if delay > 0:
            await self._clock.sleep(delay)
        return self.exchange.place(order, self._clock.time())

    async def cancel(self, order_id: str, reason: str = "cancelled") -> Sequence[VenueReport]:
        return self.exchange.withdraw(order_id, self._clock.time(), reason)

    async def cancel_many(
        self, order_ids: Sequence[str], reason: str = "cancelled"
    ) -> Sequence[VenueReport]:
        now = self._clock.time()
        return [r for oid in order_ids for r in self.exchange.withdraw(oid, now, reason)]

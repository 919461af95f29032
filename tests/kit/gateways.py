"""A fake live venue behind the order seam, and a feed that says what a test tells it.

:class:`FakeLiveGateway` is an ``OrderGateway`` in live mode that answers asynchronously
(the answer to a submit comes after a loop turn, or later) and speaks unasked the way a
venue's user channel does: fills with trade ids (before an order's ack, for an order the
engine never sent, twice), cancels of its own, trade statuses, and "no new orders now".
It matches nothing itself: each test scripts what the venue says.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from engine.clock import Clock, SystemClock
from engine.ledger.writer import SqliteLedger
from engine.market.health import FeedHealth, FeedSource
from engine.market.markets import MarketInfo
from engine.orders import Fill, Liquidity, OrderRequest, OrderStatus, Side
from engine.ports import MarketDataSink, MarketLookup
from engine.runtime.kernel import build_engine
from engine.runtime.live import LiveRunner
from engine.strategies.base import Strategy
from engine.venue import (
    BlockReason,
    FillReport,
    OrderUpdate,
    TradeStatus,
    TradeUpdate,
    TradingMode,
    VenueReport,
    VenueSink,
)
from tests.kit.engine import MARKET, OPEN, engine_config

# What the venue does with an order when it arrives: reports it sends unasked first (on
# its user channel), then the answer to the request.
Script = Callable[[OrderRequest], tuple[Sequence[VenueReport], Sequence[VenueReport]]]


class FakeLiveGateway:
    name = "fake-live"
    mode = TradingMode.LIVE
    keeps_orders = True

    def __init__(self, clock: Clock, *, answer_after_s: float = 0.0) -> None:
        self._clock = clock
        self.answer_after_s = answer_after_s
        self.sink: VenueSink | None = None
        self.markets: MarketLookup | None = None
        self.orders: list[OrderRequest] = []  # every order that reached the venue
        self.in_flight = 0  # requests sent and not answered yet
        self.most_in_flight = 0
        self.cancels: list[str] = []  # every order a cancel named
        self.cancel_requests: list[tuple[str, ...]] = []  # each cancel request: its orders
        self.script: Script = self.rest
        # What the venue says to a cancel (None: cancelled at once).
        self.cancel_script: Callable[[str], Sequence[VenueReport]] | None = None
        self._ids = itertools.count(1)
        self._trades = itertools.count(1)

    # -- the port ---------------------------------------------------------------------------
    def bind(self, sink: VenueSink, markets: MarketLookup) -> None:
        self.sink = sink
        self.markets = markets

    async def run(self) -> None:
        await asyncio.Event().wait()  # a venue's background work: until cancelled

    async def submit(self, order: OrderRequest) -> Sequence[VenueReport]:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)  # the request's way to the venue (a test may script it)
            self.orders.append(order)
            unasked, answer = self.script(order)
            await asyncio.sleep(0)  # the user channel's message arrives first...
            if unasked:
                self.push(*unasked)
            await asyncio.sleep(self.answer_after_s)  # ...then the answer to the request
            return answer
        finally:
            self.in_flight -= 1

    async def cancel(self, order_id: str, reason: str = "cancelled") -> Sequence[VenueReport]:
        return await self.cancel_many((order_id,), reason)

    async def cancel_many(
        self, order_ids: Sequence[str], reason: str = "cancelled"
    ) -> Sequence[VenueReport]:
        """One request, however many orders it names (the venue's batch cancel)."""
        self.cancel_requests.append(tuple(order_ids))
        self.cancels.extend(order_ids)
        await asyncio.sleep(0)
        reports: list[VenueReport] = []
        for order_id in order_ids:
            if self.cancel_script is not None:
                reports.extend(self.cancel_script(order_id))
            else:
                reports.append(
                    OrderUpdate(order_id, OrderStatus.CANCELLED, self._clock.time(), reason)
                )
        return reports

    # -- what the venue says unasked ----------------------------------------------------------
    def push(self, *reports: VenueReport) -> None:
        """Reports on the user channel, as they arrive."""
        assert self.sink is not None, "the kernel binds the gateway"
        self.sink.on_reports(list(reports))

    def block(self, reason: BlockReason, detail: str) -> None:
        assert self.sink is not None
        self.sink.block(reason, detail)

    def unblock(self, reason: BlockReason) -> None:
        assert self.sink is not None
        self.sink.unblock(reason)

    # -- building reports --------------------------------------------------------------------
    def venue_id(self) -> str:
        return f"0xv{next(self._ids)}"

    def fill(
        self,
        order_id: str,
        asset_id: str,
        side: Side,
        price: int,
        size: int,
        *,
        market: str = "0xm",
        fee: int = 0,
        trade_id: str | None = None,
        status: TradeStatus = TradeStatus.MATCHED,
    ) -> FillReport:
        """A fill of `order_id` (any id: the engine may not know it) with a trade id."""
        fill = Fill(
            trade_id or f"t{next(self._trades)}",
            order_id,
            asset_id,
            market,
            side,
            price,
            size,
            fee,
            Liquidity.TAKER,
            self._clock.time(),
        )
        return FillReport(fill, status)

    def update(self, order_id: str, status: OrderStatus, reason: str | None = None) -> OrderUpdate:
        return OrderUpdate(order_id, status, self._clock.time(), reason)

    def trade(self, fill_id: str, status: TradeStatus, reason: str | None = None) -> TradeUpdate:
        return TradeUpdate(fill_id, status, self._clock.time(), reason)

    # -- scripts: what the venue does with an order ------------------------------------------
    def rest(self, order: OrderRequest) -> tuple[Sequence[VenueReport], Sequence[VenueReport]]:
        """Acknowledged and resting, nothing filled."""
        answer = OrderUpdate(
            order.order_id, OrderStatus.LIVE, self._clock.time(), None, self.venue_id()
        )
        return (), [answer]


class TellFeed:
    """A market feed that lists the markets and books it is given, then delivers whatever
    the test hands :meth:`frame`; its health says the stream is live."""

    def __init__(self, clock: Clock, markets: Iterable[MarketInfo], books: Sequence[Any]) -> None:
        self._clock = clock
        self._markets = list(markets)
        self._books = list(books)
        self.health = FeedHealth()
        self.health.set_source(FeedSource.REPLAY, clock.monotonic())
        self.sink: MarketDataSink | None = None
        self.ready = asyncio.Event()

    async def run(self, sink: MarketDataSink) -> None:
        import json

        self.sink = sink
        sink.on_markets(self._markets)
        sink.on_frame(json.dumps(self._books), self._clock.time(), "ws")
        self.ready.set()
        await asyncio.Event().wait()

    def frame(self, *messages: Any) -> None:
        import json

        assert self.sink is not None
        self.sink.on_frame(json.dumps(list(messages)), self._clock.time(), "ws")

    def want_snapshot(self, asset_ids: Iterable[str]) -> None:
        return None

    def hit(self, asset_id: str) -> None:
        return None

    def market_listed(self, event: object) -> None:
        return None

    def market_resolved(self, condition_id: str) -> None:
        return None


@contextlib.asynccontextmanager
async def live_run(
    path: Path,
    strategies: list[Strategy],
    cfg: dict[str, Any] | None = None,
    *,
    markets: Sequence[MarketInfo] = (MARKET,),
    books: Sequence[Any] = OPEN,
) -> AsyncIterator[tuple[LiveRunner, FakeLiveGateway, TellFeed]]:
    """The live runner over a fake live venue and a feed the test tells what to say, on
    the system clock and a real ledger at `path`; stopped and closed on the way out."""
    clock = SystemClock()
    ledger = await SqliteLedger(path).open()
    gateway = FakeLiveGateway(clock)
    feed = TellFeed(clock, markets, books)
    engine = build_engine(
        engine_config(cfg),
        clock,
        ledger,
        venue="fake",
        feed=feed,
        health=feed.health,
        gateway=gateway,
        strategies=strategies,
    )
    runner = engine.live_runner(feed, ledger)
    task = asyncio.create_task(runner.run(starting_cash=engine.starting_cash))
    try:
        async with asyncio.timeout(10):
            await feed.ready.wait()
        yield runner, gateway, feed
    finally:
        runner.stop()
        await asyncio.gather(task, return_exceptions=True)
        await ledger.close()

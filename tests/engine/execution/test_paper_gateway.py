"""The paper gateway behind the order seam: cancels one at a time or many at once, and
resting orders' fills told with their frame (a backtest) or a loop turn later (a live run)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from engine.clock import SimClock
from engine.execution.paper import PaperExchange, PaperGateway
from engine.market.book import OrderBook
from engine.market.markets import MarketInfo, Outcome
from engine.orders import Fill, OrderRequest, OrderStatus, OrderType, Side
from engine.venue import FillReport, OrderUpdate, VenueReport

S = 1_000_000  # one share


def gateway() -> PaperGateway:
    yes, no = OrderBook("Y", "0xm"), OrderBook("N", "0xm")
    yes.replace([(4000, 100 * S)], [(4200, 100 * S)])
    no.replace([(5800, 100 * S)], [(6000, 100 * S)])
    books = {"Y": yes, "N": no}
    market = MarketInfo("0xm", "Q?", "q", (Outcome("Y", "Yes"), Outcome("N", "No")))
    exchange = PaperExchange(books.get, lambda t: market if t in books else None)
    exchange.add_markets([market])
    return PaperGateway(exchange, SimClock(1_000.0))


def bid(order_id: str, price: int) -> OrderRequest:
    return OrderRequest(order_id, "Y", "0xm", Side.BUY, price, 5 * S, OrderType.GTC, "s", "r", 0.0)


def statuses(reports: object) -> list[tuple[str, OrderStatus]]:
    assert isinstance(reports, list | tuple)
    return [(r.order_id, r.status) for r in reports if isinstance(r, OrderUpdate)]


async def test_cancel_many_takes_every_resting_order_off_and_skips_the_unknown() -> None:
    paper = gateway()
    for order_id, price in (("a", 3900), ("b", 3800), ("c", 3700)):
        assert statuses(await paper.submit(bid(order_id, price))) == [(order_id, OrderStatus.LIVE)]
    done = await paper.cancel_many(["a", "c", "nope"], "cancel all")
    assert statuses(done) == [("a", OrderStatus.CANCELLED), ("c", OrderStatus.CANCELLED)]
    assert all(r.reason == "cancel all" for r in done if isinstance(r, OrderUpdate))
    assert statuses(await paper.cancel("b")) == [("b", OrderStatus.CANCELLED)]
    assert await paper.cancel_many(["a", "b"]) == []


class Sink:
    """A venue sink that keeps what it is told, in order."""

    def __init__(self) -> None:
        self.told: list[tuple[str, OrderStatus]] = []
        self.fills: list[Fill] = []

    def on_reports(self, reports: Sequence[VenueReport]) -> None:
        self.fills.extend(r.fill for r in reports if isinstance(r, FillReport))
        self.told.extend(statuses(list(reports)))


def crossing(paper: PaperGateway) -> None:
    """The YES asks come down through a 0.41 bid (a frame that fills it)."""
    yes = paper.exchange._book_of("Y")
    assert yes is not None
    yes.replace([(4000, 100 * S)], [(4050, 100 * S)])
    paper.on_books({"Y": None}, 1_000.5)


async def resting(paper: PaperGateway) -> Sink:
    sink = Sink()
    paper.bind(sink)
    assert statuses(await paper.submit(bid("a", 4100))) == [("a", OrderStatus.LIVE)]
    return sink


async def test_outside_a_run_a_resting_orders_fill_is_told_with_the_frame_that_made_it() -> None:
    # A backtest never runs the gateway: its fills come with the frames, as always.
    paper = gateway()
    sink = await resting(paper)
    crossing(paper)
    assert sink.told == [("a", OrderStatus.FILLED)]
    assert [f.size for f in sink.fills] == [5 * S]


async def test_while_running_a_resting_orders_fill_is_told_on_the_next_loop_turn() -> None:
    paper = gateway()
    sink = await resting(paper)
    running = asyncio.create_task(paper.run())
    await asyncio.sleep(0)
    crossing(paper)
    # The frames read with this one are applied (and decided) before the fill is told.
    assert sink.told == []
    assert sink.fills == []
    await asyncio.sleep(0)
    assert sink.told == [("a", OrderStatus.FILLED)]
    assert [(f.order_id, f.price, f.size) for f in sink.fills] == [("a", 4100, 5 * S)]
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert sink.told == [("a", OrderStatus.FILLED)]  # told once


async def test_a_cancel_tells_a_held_fill_before_its_own_answer() -> None:
    # Told after the cancel, the fill would reach an order the manager had just closed.
    paper = gateway()
    sink = await resting(paper)
    assert statuses(await paper.submit(bid("b", 3900))) == [("b", OrderStatus.LIVE)]
    running = asyncio.create_task(paper.run())
    await asyncio.sleep(0)
    crossing(paper)
    assert sink.told == []
    answer = await paper.cancel_many(["a", "b"], "cancel all")
    assert sink.told == [("a", OrderStatus.FILLED)]
    assert statuses(answer) == [("b", OrderStatus.CANCELLED)]
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)


async def test_a_run_that_ends_tells_the_fills_it_held() -> None:
    paper = gateway()
    sink = await resting(paper)
    running = asyncio.create_task(paper.run())
    await asyncio.sleep(0)
    crossing(paper)
    running.cancel()  # the run stops before the next turn
    await asyncio.gather(running, return_exceptions=True)
    assert sink.told == [("a", OrderStatus.FILLED)]

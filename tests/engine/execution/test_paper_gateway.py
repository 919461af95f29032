"""The paper gateway behind the order seam: cancels one at a time or many at once."""

from __future__ import annotations

from engine.clock import SimClock
from engine.execution.paper import PaperExchange, PaperGateway
from engine.market.book import OrderBook
from engine.market.markets import MarketInfo, Outcome
from engine.orders import OrderRequest, OrderStatus, OrderType, Side
from engine.venue import OrderUpdate

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

"""The paper venue against scenarios that each reproduced a bug in an earlier version.

Written from the venue's contract, not its code: a paper venue must never fill more than
the real venue could have given us. Liquidity our paper orders took stays taken until the
venue shows new size, YES and NO of a binary market are one pool, paper orders at a price
share one FIFO queue behind the venue's size, and a trade print together with the level
decrease it caused is counted once, whichever of the two the feed delivers first.

The YES and NO books are always kept exact mirrors (a YES bid at p of size s is a NO ask at
1 - p of size s), as the real venue shows them.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import pytest

from engine.execution.paper import PaperExchange
from engine.fixed import ONE
from engine.market.book import OrderBook
from engine.market.fees import FREE, FeeSchedule
from engine.market.markets import MarketInfo, Outcome
from engine.orders import (
    Fill,
    Liquidity,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from tests.kit.paper import Answer, answer, fills_of

S = 1_000_000  # one share
YES, NO = "YES", "NO"
BOTH = [YES, NO]

# How the feed delivers a print and the level decrease it caused. after_frame follows
# every frame; a frame may carry both (the print's listener fires inside the frame).
PRINT_THEN_CHANGE = "print|frame|change|frame"
CHANGE_THEN_PRINT = "change|frame|print|frame"
PRINT_CHANGE_ONE_FRAME = "print,change|frame"
CHANGE_PRINT_ONE_FRAME = "change,print|frame"
DELIVERIES = [PRINT_THEN_CHANGE, CHANGE_THEN_PRINT, PRINT_CHANGE_ONE_FRAME, CHANGE_PRINT_ONE_FRAME]


def mirror(levels: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(ONE - p, s) for p, s in levels]


class Env:
    """One binary market (YES/NO), its two mirrored books and a paper venue over them."""

    def __init__(self, fees: FeeSchedule = FREE) -> None:
        self.market = MarketInfo(
            "0xm",
            "Q?",
            "q",
            (Outcome(YES, "Yes"), Outcome(NO, "No")),
            tick=100,
            min_order_size=0,
            fees=fees,
        )
        self.books: dict[str, OrderBook] = {}
        for token in BOTH:
            book = OrderBook(token, "0xm")
            book.tick = 100
            book.tick_known = True
            self.books[token] = book
        market = self.market
        self.venue = PaperExchange(
            self.books.get, lambda token: market if token in (YES, NO) else None
        )
        self.venue.add_markets([market])
        self.now = 1_000.0
        self.ids = 0
        self.maker: list[Fill] = []

    @property
    def yes(self) -> OrderBook:
        return self.books[YES]

    # -- what the venue shows -----------------------------------------------------------
    def snapshot(self, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> None:
        """A YES book snapshot (and its NO mirror), then the frame's after_frame."""
        ts = int(self.now * 1000)
        self.books[YES].replace(bids, asks, ts, "h")
        self.books[NO].replace(mirror(asks), mirror(bids), ts, "h")
        self.frame()

    def set_yes(self, is_bid: bool, price: int, size: int) -> None:
        """One YES level (and its NO mirror) changes; no after_frame."""
        self.books[YES].set_level(is_bid, price, size)
        self.books[NO].set_level(not is_bid, ONE - price, size)

    def level(self, is_bid: bool, price: int, size: int) -> None:
        self.set_yes(is_bid, price, size)
        self.frame()

    def frame(self) -> None:
        self.now += 0.1
        self.venue.after_frame(BOTH, self.now)
        self.maker.extend(fills_of(self.venue.take_reports(self.now)))

    def print_(self, token: str, price: int, size: int, taker_side: str) -> None:
        self.venue.on_trade(token, price, size, taker_side, self.now)

    def trade(
        self,
        delivery: str,
        token: str,
        price: int,
        size: int,
        taker_side: str,
        changes: list[tuple[bool, int, int]],
    ) -> None:
        """A print and the YES level changes it caused, delivered as `delivery` says."""
        for frame in delivery.split("|"):
            for part in frame.split(","):
                if part == "print":
                    self.print_(token, price, size, taker_side)
                elif part == "change":
                    for is_bid, p, s in changes:
                        self.set_yes(is_bid, p, s)
                else:
                    assert part == "frame"
                    self.frame()

    # -- what we do -----------------------------------------------------------------------
    def submit(
        self,
        side: Side,
        price: int,
        size: int,
        order_type: OrderType = OrderType.FAK,
        token: str = YES,
        *,
        post_only: bool = False,
    ) -> Answer:
        self.ids += 1
        request = OrderRequest(
            order_id=f"o{self.ids}",
            asset_id=token,
            market="0xm",
            side=side,
            price=price,
            size=size,
            order_type=order_type,
            strategy="t",
            reason="r",
            created_at=self.now,
            post_only=post_only,
            expires_at=None,
        )
        self.now += 0.1
        result = answer(self.venue.place(request, self.now), request.size)
        assert result.order_id == request.order_id
        for fill in result.fills:
            assert fill.liquidity is Liquidity.TAKER
            assert fill.order_id == request.order_id
            assert fill.asset_id == token
            assert fill.side is side
            if side is Side.BUY:
                assert fill.price <= price
            else:
                assert fill.price >= price
        # Whatever filled at once is no longer a resting order's business.
        self.maker.extend(fills_of(self.venue.take_reports(self.now)))
        return result

    def take_maker(self) -> list[Fill]:
        self.maker.extend(fills_of(self.venue.take_reports(self.now)))
        fills, self.maker = self.maker, []
        for fill in fills:
            assert fill.liquidity is Liquidity.MAKER
            assert fill.fee == 0
        return fills

    def open(self, order_id: str) -> tuple[int, int] | None:
        """(filled, remaining) of an open order, or None when it is not open."""
        for order in self.venue.open_orders():
            if order.request.order_id == order_id:
                return order.filled, order.remaining
        return None


def filled(fills: Iterable[Fill], order_id: str | None = None) -> int:
    return sum(f.size for f in fills if order_id is None or f.order_id == order_id)


def assert_nothing_taken(result: Answer) -> None:
    assert result.fills == ()
    assert result.status in (OrderStatus.REJECTED, OrderStatus.CANCELLED)


# -- 1 -------------------------------------------------------------------------------------
def test_taken_liquidity_stays_taken_until_the_venue_shows_new_size() -> None:
    env = Env()
    env.snapshot([(3800, 50 * S)], [(4000, 100 * S)])
    first = env.submit(Side.BUY, 4000, 100 * S)
    assert first.status is OrderStatus.FILLED
    assert filled(first.fills) == 100 * S
    assert {f.price for f in first.fills} == {4000}

    # Someone else traded 10 of the real 100: the rest is still the liquidity we took.
    env.level(False, 4000, 90 * S)
    assert_nothing_taken(env.submit(Side.BUY, 4000, 100 * S))

    # One new share joins the level: that share, and only that share, is ours to take.
    env.level(False, 4000, 91 * S)
    third = env.submit(Side.BUY, 4000, 100 * S)
    assert filled(third.fills) == 1 * S
    assert third.status is OrderStatus.CANCELLED
    assert_nothing_taken(env.submit(Side.BUY, 4000, 100 * S))

    # Separately: 100 shown, we take 100, the venue grows to 101 -> one more share.
    env = Env()
    env.snapshot([(3800, 50 * S)], [(4000, 100 * S)])
    assert filled(env.submit(Side.BUY, 4000, 100 * S).fills) == 100 * S
    env.level(False, 4000, 101 * S)
    more = env.submit(Side.BUY, 4000, 100 * S)
    assert filled(more.fills) == 1 * S
    assert [f.price for f in more.fills] == [4000]
    assert_nothing_taken(env.submit(Side.BUY, 4000, 100 * S))


# -- 2 -------------------------------------------------------------------------------------
def test_gtc_remainder_never_fills_against_the_liquidity_its_taking_part_consumed() -> None:
    env = Env()
    env.snapshot([(3800, 50 * S)], [(4000, 10 * S), (4200, 50 * S)])
    result = env.submit(Side.BUY, 4000, 30 * S, OrderType.GTC)
    assert result.status is OrderStatus.PARTIALLY_FILLED
    assert filled(result.fills) == 10 * S
    assert [(f.price, f.size) for f in result.fills] == [(4000, 10 * S)]
    assert result.remaining == 20 * S
    assert env.open(result.order_id) == (10 * S, 20 * S)

    # The venue still shows the 10 at 0.40 (our taking was paper): nothing new crossed.
    env.frame()
    assert env.take_maker() == []
    env.frame()
    assert env.take_maker() == []
    # A re-snapshot showing the very same book is no new liquidity either.
    env.snapshot([(3800, 50 * S)], [(4000, 10 * S), (4200, 50 * S)])
    assert env.take_maker() == []
    assert env.open(result.order_id) == (10 * S, 20 * S)


# -- 3 -------------------------------------------------------------------------------------
def test_crossed_resting_order_fills_only_the_size_that_crossed() -> None:
    env = Env()
    env.snapshot([(3800, 50 * S)], [(4000, 100 * S)])
    bid = env.submit(Side.BUY, 3900, 1000 * S, OrderType.GTC)
    assert bid.status is OrderStatus.LIVE
    assert bid.fills == ()
    assert bid.remaining == 1000 * S
    assert env.take_maker() == []

    # The venue shows a 1-share ask at our bid's price: exactly that share crosses us.
    env.level(False, 3900, 1 * S)
    fills = env.take_maker()
    assert filled(fills, bid.order_id) == 1 * S
    assert filled(fills) == 1 * S
    assert all(f.price == 3900 and f.order_id == bid.order_id for f in fills)
    assert env.open(bid.order_id) == (1 * S, 999 * S)

    # That share is ours now: a taker finds nothing at 0.39, and nothing fills again.
    assert_nothing_taken(env.submit(Side.BUY, 3900, 10 * S))
    env.frame()
    assert env.take_maker() == []
    assert env.open(bid.order_id) == (1 * S, 999 * S)

    # Conversely, what crossed beyond a small resting order is still there to take.
    env = Env()
    env.snapshot([(3800, 50 * S)], [(4000, 100 * S)])
    small = env.submit(Side.BUY, 3900, 10 * S, OrderType.GTC)
    env.level(False, 3900, 100 * S)
    assert filled(env.take_maker(), small.order_id) == 10 * S
    assert env.open(small.order_id) is None
    assert filled(env.submit(Side.BUY, 3900, 1_000 * S).fills) == 90 * S


# -- 4 -------------------------------------------------------------------------------------
@pytest.mark.parametrize("delivery", DELIVERIES)
def test_paper_orders_at_one_price_share_one_fifo_queue(delivery: str) -> None:
    env = Env()
    env.snapshot([(3900, 50 * S)], [(4100, 100 * S)])
    a = env.submit(Side.BUY, 3900, 10 * S, OrderType.GTC)
    b = env.submit(Side.BUY, 3900, 10 * S, OrderType.GTC)
    assert a.status is OrderStatus.LIVE
    assert b.status is OrderStatus.LIVE

    # 55 sold into the bid: the venue's 50 ahead, then 5 of A (B is behind A).
    env.trade(delivery, YES, 3900, 55 * S, "SELL", [(True, 3900, 0)])
    fills = env.take_maker()
    assert filled(fills, a.order_id) == 5 * S
    assert filled(fills, b.order_id) == 0
    assert all(f.price == 3900 for f in fills)

    # A newcomer joins behind us; 20 more sold: A's last 5, then 10 of B (B's all),
    # while the real print took the newcomer's 20.
    env.level(True, 3900, 20 * S)
    assert env.take_maker() == []
    env.trade(delivery, YES, 3900, 20 * S, "SELL", [(True, 3900, 0)])
    fills += env.take_maker()
    assert filled(fills, a.order_id) == 10 * S
    assert filled(fills, b.order_id) == 10 * S
    assert env.open(a.order_id) is None
    assert env.open(b.order_id) is None
    # Never more than the prints beyond the venue's size that was ahead of us.
    assert filled(fills) <= (55 + 20 - 50) * S


# -- 5 -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("first", "second"),
    [
        # (token, side, price) of the first taker, then of the second, on one pool.
        ((YES, Side.BUY, 4000), (NO, Side.SELL, 6000)),
        ((NO, Side.SELL, 6000), (YES, Side.BUY, 4000)),
        ((YES, Side.SELL, 3800), (NO, Side.BUY, 6200)),
        ((NO, Side.BUY, 6200), (YES, Side.SELL, 3800)),
    ],
)
@pytest.mark.parametrize("first_size", [100, 60])
def test_yes_and_no_are_one_liquidity_pool(
    first: tuple[str, Side, int], second: tuple[str, Side, int], first_size: int
) -> None:
    env = Env()
    # YES asks 100@0.40 == NO bids 100@0.60; YES bids 100@0.38 == NO asks 100@0.62.
    env.snapshot([(3800, 100 * S)], [(4000, 100 * S)])
    assert env.books[NO].bid_sizes == {6000: 100 * S}
    token, side, price = first
    one = env.submit(side, price, first_size * S, token=token)
    assert one.status is OrderStatus.FILLED
    assert [(f.price, f.size) for f in one.fills] == [(price, first_size * S)]

    token, side, price = second
    two = env.submit(side, price, 100 * S, token=token)
    left = (100 - first_size) * S
    assert filled(two.fills) == left
    if left:
        assert [(f.price, f.size) for f in two.fills] == [(price, left)]
    else:
        assert_nothing_taken(two)
    # And the pool stays empty from either side.
    assert_nothing_taken(env.submit(*first[1:], 100 * S, token=first[0]))
    assert_nothing_taken(env.submit(side, price, 100 * S, token=token))


# -- 6 -------------------------------------------------------------------------------------
@pytest.mark.parametrize("delivery", DELIVERIES)
def test_trade_printing_through_a_resting_price_fills_it(delivery: str) -> None:
    env = Env()
    env.snapshot([(4000, 50 * S)], [(4500, 20 * S), (4600, 50 * S)])
    ask = env.submit(Side.SELL, 4500, 10 * S, OrderType.GTC)
    assert ask.status is OrderStatus.LIVE

    # A taker bought 30 up to 0.46: 0.45 (the venue's 20, then us) was swept.
    env.trade(delivery, YES, 4600, 30 * S, "BUY", [(False, 4500, 0), (False, 4600, 40 * S)])
    fills = env.take_maker()
    assert filled(fills, ask.order_id) == 10 * S
    assert all(f.price == 4500 for f in fills)
    assert env.open(ask.order_id) is None

    env.frame()
    assert env.take_maker() == []


# -- 7 -------------------------------------------------------------------------------------
@pytest.mark.parametrize("first", DELIVERIES)
@pytest.mark.parametrize("then", DELIVERIES)
@pytest.mark.parametrize(("follow", "expected"), [(20, 0), (25, 5)])
# The selling taker prints on YES as a SELL at 0.39, or on NO as a BUY at 0.61.
@pytest.mark.parametrize(("token", "taker_side", "price"), [(YES, "SELL", 3900), (NO, "BUY", 6100)])
def test_queue_advance_by_size_decrease_is_not_double_counted(
    first: str, then: str, follow: int, expected: int, token: str, taker_side: str, price: int
) -> None:
    env = Env()
    env.snapshot([(3900, 50 * S)], [(4100, 100 * S)])
    bid = env.submit(Side.BUY, 3900, 100 * S, OrderType.GTC)
    assert bid.status is OrderStatus.LIVE

    # 30 sold into the level (50 -> 20): the print and the decrease are one event.
    env.trade(first, token, price, 30 * S, taker_side, [(True, 3900, 20 * S)])
    assert env.take_maker() == []
    assert env.open(bid.order_id) == (0, 100 * S)

    # Exactly 20 are ahead of us now.
    env.trade(then, token, price, follow * S, taker_side, [(True, 3900, 0)])
    fills = env.take_maker()
    assert filled(fills, bid.order_id) == expected * S
    assert all(f.price == 3900 for f in fills)
    assert env.open(bid.order_id) == (expected * S, (100 - expected) * S)


# -- 8 -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("token", "side", "taking", "resting"),
    [
        (YES, Side.BUY, [4000, 4100], 3900),
        (YES, Side.SELL, [3800, 3700], 3900),
        (NO, Side.BUY, [6200, 6300], 6100),
        (NO, Side.SELL, [6000, 5900], 6100),
    ],
)
def test_post_only_rejects_a_taking_price_and_rests_otherwise(
    token: str, side: Side, taking: list[int], resting: int
) -> None:
    env = Env()
    env.snapshot([(3800, 50 * S)], [(4000, 100 * S)])
    for price in taking:
        result = env.submit(side, price, 10 * S, OrderType.GTC, token, post_only=True)
        assert result.status is OrderStatus.REJECTED
        assert result.fills == ()
        assert env.open(result.order_id) is None
    result = env.submit(side, resting, 10 * S, OrderType.GTC, token, post_only=True)
    assert result.status is OrderStatus.LIVE
    assert result.fills == ()
    assert result.remaining == 10 * S
    assert env.open(result.order_id) == (0, 10 * S)
    # The rejected ones took nothing: the whole book is still there for a taker.
    taker = env.submit(side, taking[0], 1_000 * S, token=token)
    assert (
        filled(taker.fills)
        == (100 if side is (Side.BUY if token == YES else Side.SELL) else 50) * S
    )


# -- 9 -------------------------------------------------------------------------------------
def test_fill_or_kill_and_fill_and_kill() -> None:
    book = ([(3800, 50 * S)], [(4000, 10 * S), (4100, 20 * S)])

    # FOK that the book cannot fill is rejected whole, and takes nothing.
    env = Env()
    env.snapshot(*book)
    for size, limit in ((40, 4100), (30, 4000), (31, 9900)):
        fok = env.submit(Side.BUY, limit, size * S, OrderType.FOK)
        assert fok.status is OrderStatus.REJECTED
        assert fok.fills == ()
    full = env.submit(Side.BUY, 4100, 30 * S, OrderType.FOK)
    assert full.status is OrderStatus.FILLED
    assert [(f.price, f.size) for f in full.fills] == [(4000, 10 * S), (4100, 20 * S)]
    assert full.remaining == 0
    # ...and a FOK is never fillable from liquidity already taken.
    assert env.submit(Side.BUY, 4100, 1 * S, OrderType.FOK).status is OrderStatus.REJECTED
    assert env.venue.open_orders() == []

    # FAK with nothing in range is rejected.
    env = Env()
    env.snapshot(*book)
    fak = env.submit(Side.BUY, 3900, 10 * S, OrderType.FAK)
    assert fak.status is OrderStatus.REJECTED
    assert fak.fills == ()
    fak = env.submit(Side.SELL, 3900, 10 * S, OrderType.FAK)
    assert fak.status is OrderStatus.REJECTED
    assert fak.fills == ()

    # FAK partial: cancelled, with the partial fills, and nothing rests.
    fak = env.submit(Side.BUY, 4100, 50 * S, OrderType.FAK)
    assert fak.status is OrderStatus.CANCELLED
    assert [(f.price, f.size) for f in fak.fills] == [(4000, 10 * S), (4100, 20 * S)]
    assert env.venue.open_orders() == []
    env.frame()
    assert env.take_maker() == []


# -- 10 ------------------------------------------------------------------------------------
def test_taker_fills_pay_the_market_fee_and_maker_fills_pay_none() -> None:
    fees = FeeSchedule(Decimal("0.25"), Decimal("2"))
    env = Env(fees)
    env.snapshot([(3800, 50 * S)], [(4000, 10 * S), (4100, 20 * S)])

    buy = env.submit(Side.BUY, 4100, 25 * S)
    assert [(f.price, f.size) for f in buy.fills] == [(4000, 10 * S), (4100, 15 * S)]
    for f in buy.fills:
        assert f.fee == fees.taker_fee(f.price, f.size)
        assert f.fee > 0
    no_buy = env.submit(Side.BUY, 6200, 7 * S, token=NO)  # NO asks mirror YES bids
    assert [(f.price, f.size) for f in no_buy.fills] == [(6200, 7 * S)]
    assert no_buy.fills[0].fee == fees.taker_fee(6200, 7 * S)
    assert len({f.fill_id for f in buy.fills + no_buy.fills}) == 3

    bid = env.submit(Side.BUY, 3900, 10 * S, OrderType.GTC)
    assert bid.status is OrderStatus.LIVE
    env.trade(PRINT_THEN_CHANGE, YES, 3900, 4 * S, "SELL", [])
    makers = env.take_maker()
    assert filled(makers, bid.order_id) == 4 * S
    assert all(f.fee == 0 and f.liquidity is Liquidity.MAKER for f in makers)
    assert all(f.price == 3900 for f in makers)


# -- found by the property test ---------------------------------------------------------------
@pytest.mark.parametrize("delivery", DELIVERIES)
def test_one_print_fills_paper_orders_at_several_prices_at_most_its_size(delivery: str) -> None:
    env = Env()
    env.snapshot([], [(5000, 10 * S)])
    front = env.submit(Side.BUY, 4500, 1 * S, OrderType.GTC)  # alone at 0.45
    better = env.submit(Side.BUY, 4600, 1 * S, OrderType.GTC)  # alone at 0.46
    assert front.status is OrderStatus.LIVE
    assert better.status is OrderStatus.LIVE
    # A venue bid of 1 share joins at 0.45, behind our order there.
    env.level(True, 4500, 1 * S)
    assert env.take_maker() == []

    # Someone sells 1 share into 0.45: in the paper world that seller meets our 0.46 bid
    # first and is done; one share printed can never fill two.
    env.trade(delivery, YES, 4500, 1 * S, "SELL", [(True, 4500, 0)])
    fills = env.take_maker()
    assert filled(fills) <= 1 * S
    assert filled(fills, better.order_id) == 1 * S
    assert filled(fills, front.order_id) == 0


def test_one_sides_book_alone_never_gives_taken_liquidity_back() -> None:
    yes, no = OrderBook("Y", "0xm"), OrderBook("N", "0xm")
    yes.replace([], [(5000, 20_000_000)])
    no.replace([(5000, 20_000_000)], [])
    books = {"Y": yes, "N": no}
    market = MarketInfo("0xm", "Q?", "q", (Outcome("Y", "Yes"), Outcome("N", "No")))
    venue = PaperExchange(books.get, lambda t: market if t in books else None)
    venue.add_markets([market])

    def buy(order_id: str) -> int:
        order = OrderRequest(
            order_id, "Y", "0xm", Side.BUY, 5000, 20_000_000, OrderType.FAK, "t", "r", 0.0
        )
        return sum(f.size for f in fills_of(venue.place(order, 0.0)))

    assert buy("a") == 20_000_000
    no.set_level(True, 5000, 0)  # NO's book updates first; YES still shows the 20
    venue.after_frame(["N"], 1.0)
    assert buy("b") == 0
    yes.set_level(False, 5000, 0)  # now both agree the level is gone
    venue.after_frame(["Y"], 2.0)
    yes.set_level(False, 5000, 7_000_000)  # and 7 new shares arrive: only those
    no.set_level(True, 5000, 7_000_000)
    venue.after_frame(["Y", "N"], 3.0)
    assert buy("c") == 7_000_000

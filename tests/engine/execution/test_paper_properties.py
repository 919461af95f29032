"""Property: the paper venue never fills more than the real venue could have given us.

Random sequences of book snapshots, level changes, trade prints (with the level decrease
they caused, delivered before or after the print, in one frame or two), paper orders on
YES and NO, and cancels run against the venue, next to an independent reference model
written here in YES coordinates (a NO bid at p is a YES ask at 1 - p, a NO ask at p a
YES bid at 1 - p). Per canonical level the model counts the liquidity that was ever
offered (the size when first shown plus every increase since) and checks:

* taker fills that took a level never exceed what that level ever offered (strict);
* maker fills are supplied only by prints at or through their price and by liquidity
  shown on the opposite side, which they share with the takers that took it; within one
  step, makers on a side fill at most that step's prints plus the opposite liquidity
  that arrived in it (one print never fills more than its size, however many paper
  orders it reaches, and a crossing fills at the frame that shows it);
* every fill is within its order's limit, maker fills are at the limit and free, taker
  fees are the market's fee, fill ids are unique, filled + remaining == size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.execution.paper import PaperExchange
from engine.fixed import ONE, SHARE_STEP
from engine.market.book import OrderBook
from engine.market.fees import FeeSchedule
from engine.market.markets import MarketInfo, Outcome
from engine.orders import (
    Fill,
    Liquidity,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from tests.kit.hypothesis import examples
from tests.kit.paper import answer, fills_of

S = 1_000_000  # one share
YES, NO = "YES", "NO"
BOTH = [YES, NO]
FEES = FeeSchedule(Decimal("0.25"), Decimal("2"))
DELIVERIES = (
    "print|frame|change|frame",
    "change|frame|print|frame",
    "print,change|frame",
    "change,print|frame",
)

Level = tuple[bool, int]  # (is_bid, price) in YES coordinates


# -- operations ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    levels: dict[int, int]  # YES price -> size; below `split` are bids, the rest asks
    split: int


@dataclass(frozen=True)
class Resnapshot:
    """The same book sent again (a reconnect): no new liquidity."""


@dataclass(frozen=True)
class SetLevel:
    is_bid: bool
    # (True, n): n ticks better than that side's best (negative: behind it), else a price
    where: tuple[bool, int]
    size: int


@dataclass(frozen=True)
class Frame:
    """A frame that changed nothing the venue shows (say a tick or a best_bid_ask)."""


@dataclass(frozen=True)
class Trade:
    token: str
    taker_side: str
    depth: int  # how many better levels the taker swept whole before the last one
    percent: int  # of the last level's size
    delivery: str


@dataclass(frozen=True)
class Submit:
    token: str
    side: Side
    order_type: OrderType
    # The limit in YES terms: (True, n) is n ticks through the opposite touch (negative:
    # short of it), (False, c) is c cents; a NO order's price is 1 minus that.
    limit: tuple[bool, int]
    size: int
    post_only: bool


@dataclass(frozen=True)
class Cancel:
    pick: int


Op = Snapshot | Resnapshot | SetLevel | Frame | Trade | Submit | Cancel

prices = st.integers(30, 60).map(lambda c: c * 100)
level_sizes = st.one_of(
    st.integers(1, 100).map(lambda n: n * S),
    st.integers(1, 10_000).map(lambda n: n * SHARE_STEP),
)
snapshots = st.builds(
    Snapshot,
    st.dictionaries(prices, level_sizes, max_size=7),
    st.integers(35, 55).map(lambda c: c * 100),
)
set_levels = st.builds(
    SetLevel,
    st.booleans(),
    st.tuples(st.just(True), st.integers(-2, 1)) | st.tuples(st.just(False), prices),
    st.one_of(st.just(0), level_sizes, level_sizes),
)
trades = st.builds(
    Trade,
    st.sampled_from(BOTH),
    st.sampled_from(["BUY", "SELL"]),
    st.sampled_from([0, 0, 0, 0, 1, 2]),
    st.sampled_from([100, 100, 50, 1]) | st.integers(1, 100),
    st.sampled_from(DELIVERIES),
)
submits = st.builds(
    Submit,
    st.sampled_from(BOTH),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.sampled_from([OrderType.GTC] * 4 + [OrderType.FAK, OrderType.FOK]),
    st.tuples(st.just(True), st.integers(-4, 3)) | st.tuples(st.just(False), st.integers(1, 99)),
    st.integers(1, 60).map(lambda n: n * S) | st.integers(1, 5_000).map(lambda n: n * SHARE_STEP),
    st.sampled_from([False, False, False, True]),
)
operations = st.one_of(
    st.just(Frame()),  # first: what a failing sequence's irrelevant steps shrink to
    snapshots,
    st.just(Resnapshot()),
    set_levels,
    set_levels,
    set_levels,
    trades,
    trades,
    trades,
    trades,
    submits,
    submits,
    submits,
    submits,
    submits,
    st.builds(Cancel, st.integers(0, 20)),
)


# -- the independent reference model -------------------------------------------------------
def canonical_taken(token: str, side: Side, price: int) -> Level:
    """The YES level a taker fill on `token` consumed."""
    if token == YES:
        return (side is Side.SELL, price)  # a buy takes asks, a sell takes bids
    return (side is Side.BUY, ONE - price)  # NO asks are YES bids, NO bids are YES asks


def canonical_resting(token: str, side: Side, price: int) -> Level:
    """The YES level a resting order on `token` stands at."""
    if token == YES:
        return (side is Side.BUY, price)
    return (side is Side.SELL, ONE - price)


def side_sum(per_level: dict[Level, int], is_bid: bool) -> int:
    return sum(s for (b, _), s in per_level.items() if b is is_bid)


class Model:
    def __init__(self) -> None:
        self.supply: dict[Level, int] = defaultdict(int)  # first shown + every increase
        self.taken: dict[Level, int] = defaultdict(int)  # taker fills per level
        self.made: dict[Level, int] = defaultdict(int)  # maker fills per resting level
        self.printed: dict[Level, int] = defaultdict(int)  # print sizes per level hit

    def shown(self, book: OrderBook) -> dict[Level, int]:
        out: dict[Level, int] = {(True, p): s for p, s in book.bid_sizes.items()}
        out.update({(False, p): s for p, s in book.ask_sizes.items()})
        return out

    def changed(self, before: dict[Level, int], after: dict[Level, int]) -> None:
        for level, size in after.items():
            grown = size - before.get(level, 0)
            if grown > 0:
                self.supply[level] += grown

    def check(self) -> None:
        for level, size in self.taken.items():
            assert size <= self.supply[level], (
                f"taker fills at {level} ({size}) exceed what it ever offered "
                f"({self.supply[level]})"
            )
        for is_bid in (True, False):
            # Resting bids fill from sell prints and from shown asks (shared with takers).
            made = side_sum(self.made, is_bid)
            taken = side_sum(self.taken, not is_bid)
            printed = side_sum(self.printed, is_bid)
            offered = side_sum(self.supply, not is_bid)
            assert made + taken <= printed + offered, (
                f"{'bid' if is_bid else 'ask'} makers {made} + opposite takers {taken} "
                f"exceed prints {printed} + opposite liquidity {offered}"
            )
        for (is_bid, price), made in self.made.items():
            if is_bid:  # prints at or below a bid went through it; asks at or below cross it
                printed = sum(s for (b, x), s in self.printed.items() if b and x <= price)
                offered = sum(s for (b, a), s in self.supply.items() if not b and a <= price)
            else:
                printed = sum(s for (b, x), s in self.printed.items() if not b and x >= price)
                offered = sum(s for (b, a), s in self.supply.items() if b and a >= price)
            assert made <= printed + offered, (
                f"maker fills at {(is_bid, price)} ({made}) exceed prints at or through "
                f"it ({printed}) + crossing liquidity ({offered})"
            )


# -- the venue under test -----------------------------------------------------------------
def mirror(levels: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(ONE - p, s) for p, s in levels]


class Run:
    def __init__(self) -> None:
        self.market = MarketInfo(
            "0xm",
            "Q?",
            "q",
            (Outcome(YES, "Yes"), Outcome(NO, "No")),
            tick=100,
            min_order_size=0,
            fees=FEES,
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
        self.model = Model()
        self.now = 1_000.0
        self.ids = 0
        self.requests: dict[str, OrderRequest] = {}
        self.filled: dict[str, int] = defaultdict(int)
        self.resting: set[str] = set()  # open GTC orders, by the model's account
        self.closed: set[str] = set()  # cancelled or final: must never fill again
        self.fill_ids: set[str] = set()

    @property
    def yes(self) -> OrderBook:
        return self.books[YES]

    def tick(self) -> float:
        self.now += 0.1
        return self.now

    # -- book mutations, each measured by the model -------------------------------------
    def replace(self, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> None:
        before = self.model.shown(self.yes)
        ts = int(self.now * 1000)
        self.yes.replace(bids, asks, ts, "h")
        self.books[NO].replace(mirror(asks), mirror(bids), ts, "h")
        self.model.changed(before, self.model.shown(self.yes))

    def set_yes(self, is_bid: bool, price: int, size: int) -> None:
        before = self.model.shown(self.yes)
        self.yes.set_level(is_bid, price, size)
        self.books[NO].set_level(not is_bid, ONE - price, size)
        self.model.changed(before, self.model.shown(self.yes))

    def frame(self) -> None:
        self.venue.after_frame(BOTH, self.tick())

    # -- fills --------------------------------------------------------------------------
    def record(self, fill: Fill, taker: bool) -> None:
        request = self.requests.get(fill.order_id)
        assert request is not None, f"fill for an unknown order {fill.order_id}"
        assert fill.order_id not in self.closed, f"{fill.order_id} filled after it closed"
        assert fill.fill_id not in self.fill_ids, f"duplicate fill id {fill.fill_id}"
        self.fill_ids.add(fill.fill_id)
        assert fill.asset_id == request.asset_id
        assert fill.side is request.side
        assert fill.size > 0
        assert fill.fee >= 0
        if request.side is Side.BUY:
            assert fill.price <= request.price
        else:
            assert fill.price >= request.price
        if taker:
            assert fill.liquidity is Liquidity.TAKER
            assert fill.fee == FEES.taker_fee(fill.price, fill.size)
            level = canonical_taken(request.asset_id, request.side, fill.price)
            assert level in self.model.shown(self.yes), f"took {level}, which is not shown"
            self.model.taken[level] += fill.size
        else:
            assert fill.liquidity is Liquidity.MAKER
            assert fill.fee == 0
            assert fill.price == request.price
            level = canonical_resting(request.asset_id, request.side, request.price)
            self.model.made[level] += fill.size
        self.filled[fill.order_id] += fill.size
        assert self.filled[fill.order_id] <= request.size, f"{fill.order_id} overfilled"

    def take_makers(self) -> None:
        for fill in fills_of(self.venue.take_reports(self.now)):
            self.record(fill, taker=False)
        for order_id in list(self.resting):
            if self.filled[order_id] == self.requests[order_id].size:
                self.resting.discard(order_id)
                self.closed.add(order_id)

    # -- operations ---------------------------------------------------------------------
    def apply(self, op: Op) -> None:
        model = self.model
        before = {
            is_bid: (side_sum(model.made, is_bid), side_sum(model.printed, is_bid))
            for is_bid in (True, False)
        }
        offered_before = {is_bid: side_sum(model.supply, is_bid) for is_bid in (True, False)}
        if isinstance(op, Snapshot):
            bids = [(p, s) for p, s in op.levels.items() if p < op.split]
            asks = [(p, s) for p, s in op.levels.items() if p >= op.split]
            self.replace(bids, asks)
            self.frame()
        elif isinstance(op, Resnapshot):
            self.replace(self.yes.levels(True), self.yes.levels(False))
            self.frame()
        elif isinstance(op, SetLevel):
            self.set_level(op)
        elif isinstance(op, Frame):
            self.frame()
        elif isinstance(op, Trade):
            self.trade(op)
        elif isinstance(op, Submit):
            self.submit(op)
        else:
            self.cancel(op)
        self.take_makers()
        self.check_open_orders()
        model.check()
        # Within this one step: resting bids fill only from sell prints of this step and
        # from asks that arrived in it (a crossing is filled at the frame that shows it).
        for is_bid in (True, False):
            made = side_sum(model.made, is_bid) - before[is_bid][0]
            printed = side_sum(model.printed, is_bid) - before[is_bid][1]
            arrived = side_sum(model.supply, not is_bid) - offered_before[not is_bid]
            assert made <= printed + arrived, (
                f"{type(op).__name__}: {'bid' if is_bid else 'ask'} makers filled {made}, "
                f"with {printed} printed and {arrived} arrived opposite in this step"
            )

    def set_level(self, op: SetLevel) -> None:
        best_ask, best_bid = self.yes.best_ask, self.yes.best_bid
        relative, where = op.where
        price = where
        if relative:
            best = best_bid if op.is_bid else best_ask
            if best is None:
                return
            price = best + where * 100 if op.is_bid else best - where * 100
            if not 0 < price < ONE:
                return
        if op.size and op.is_bid and best_ask is not None and price >= best_ask:
            return  # the venue's own book is never crossed
        if op.size and not op.is_bid and best_bid is not None and price <= best_bid:
            return
        self.set_yes(op.is_bid, price, op.size)
        self.frame()

    def trade(self, op: Trade) -> None:
        # Which YES side the taker hit: a NO buy lifts NO asks, which are YES bids.
        hits_bids = (op.token == YES) == (op.taker_side == "SELL")
        levels = self.yes.levels(hits_bids)
        if not levels:
            return
        depth = min(op.depth, len(levels) - 1)
        changes = [(p, 0) for p, _ in levels[:depth]]
        last_price, last_size = levels[depth]
        part = last_size * op.percent // 100 // SHARE_STEP * SHARE_STEP
        part = min(last_size, max(part, SHARE_STEP))
        changes.append((last_price, last_size - part))
        size = sum(s for _, s in levels[:depth]) + part
        price = last_price if op.token == YES else ONE - last_price
        self.model.printed[(hits_bids, last_price)] += size
        for frame in op.delivery.split("|"):
            for step in frame.split(","):
                if step == "print":
                    self.venue.on_trade(op.token, price, size, op.taker_side, self.now)
                elif step == "change":
                    for p, s in changes:
                        self.set_yes(hits_bids, p, s)
                else:
                    self.frame()

    def submit(self, op: Submit) -> None:
        self.ids += 1
        bid = canonical_resting(op.token, op.side, 0)[0]  # stands with the YES bids?
        at_touch, cents = op.limit
        if at_touch:
            touch = self.yes.best_ask if bid else self.yes.best_bid
            base = touch if touch is not None else 4500
            canon = base + cents * 100 if bid else base - cents * 100
        else:
            canon = cents * 100
        canon = min(ONE - 100, max(100, canon))
        price = canon if op.token == YES else ONE - canon
        post_only = op.post_only and op.order_type is OrderType.GTC
        request = OrderRequest(
            order_id=f"o{self.ids}",
            asset_id=op.token,
            market="0xm",
            side=op.side,
            price=price,
            size=op.size,
            order_type=op.order_type,
            strategy="prop",
            reason="r",
            created_at=self.now,
            post_only=post_only,
            expires_at=None,
        )
        self.requests[request.order_id] = request
        result = answer(self.venue.place(request, self.tick()), request.size)
        assert result.order_id == request.order_id
        for fill in result.fills:
            self.record(fill, taker=True)
        got = sum(f.size for f in result.fills)
        status = result.status
        if status is OrderStatus.REJECTED:
            assert got == 0
            assert op.order_type is not OrderType.GTC or post_only, "a valid GTC order was rejected"
        elif status is OrderStatus.FILLED:
            assert got == op.size
            assert result.remaining == 0
        elif status is OrderStatus.CANCELLED:
            assert op.order_type is OrderType.FAK
            assert 0 < got < op.size
        elif status is OrderStatus.PARTIALLY_FILLED:
            assert op.order_type is OrderType.GTC
            assert 0 < got < op.size
            assert result.remaining == op.size - got
        else:
            assert status is OrderStatus.LIVE, status
            assert op.order_type is OrderType.GTC
            assert got == 0
            assert result.remaining == op.size
        if post_only:
            assert got == 0, "a post-only order took liquidity"
        if op.order_type is OrderType.FOK:
            assert status in (OrderStatus.FILLED, OrderStatus.REJECTED)
        if status in (OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED):
            self.resting.add(request.order_id)
        else:
            self.closed.add(request.order_id)

    def cancel(self, op: Cancel) -> None:
        known = sorted(self.requests, key=lambda i: int(i[1:]))
        if not known:
            return
        order_id = known[op.pick % len(known)]
        order = self.venue.cancel(order_id)
        if order_id in self.resting:
            assert order is not None, f"cancel of open {order_id} found nothing"
            assert order.request.order_id == order_id
            assert order.filled == self.filled[order_id]
            assert order.filled + order.remaining == order.request.size
            self.resting.discard(order_id)
            self.closed.add(order_id)
        else:
            assert order is None, f"cancel of closed {order_id} returned an order"

    def check_open_orders(self) -> None:
        open_ids = set()
        for order in self.venue.open_orders():
            order_id = order.request.order_id
            open_ids.add(order_id)
            assert order.filled + order.remaining == order.request.size
            assert order.filled == self.filled[order_id]
            assert order.remaining > 0
        assert open_ids == self.resting


FIRST = Snapshot({3800: 50 * S, 3900: 20 * S, 4100: 30 * S, 4200: 60 * S}, 4000)


@settings(
    max_examples=examples(300),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(operations, min_size=100, max_size=250))
def test_paper_fills_never_exceed_displayed_plus_arrived_liquidity(ops: list[Op]) -> None:
    run = Run()
    run.apply(FIRST)
    for op in ops:
        run.apply(op)

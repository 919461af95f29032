"""The L2 book against a plain dict model, including hypothesis state machines."""

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from engine.adapters.polymarket.books import BookStore
from engine.market.book import OrderBook, infer_tick
from tests.kit.hypothesis import examples


def test_replace_orders_levels_and_bests() -> None:
    book = OrderBook("t")
    book.replace([(4800, 5), (5000, 2), (4900, 3)], [(5300, 4), (5100, 1), (5200, 9)])
    assert book.best_bid == 5000
    assert book.best_ask == 5100
    assert book.spread() == 100
    assert book.mid() == 0.505
    assert book.top_bids(2) == [(5000, 2), (4900, 3)]
    assert book.top_asks(5) == [(5100, 1), (5200, 9), (5300, 4)]
    assert book.depth(True, 2) == 5
    assert book.tick == 100  # inferred from the levels


def test_set_level_zero_removes_and_missing_zero_is_harmless() -> None:
    book = OrderBook("t")
    book.replace([(5000, 2)], [(5100, 1)])
    book.set_level(True, 5000, 0)
    book.set_level(True, 4000, 0)
    assert book.best_bid is None
    assert book.bid_prices == []


def test_coarser_tick_drops_off_grid_levels() -> None:
    book = OrderBook("t")
    book.replace([(5000, 2), (4990, 1)], [(5010, 3), (5100, 1)])
    assert book.tick == 10
    assert book.set_tick(100) == 2
    assert book.bid_prices == [5000]
    assert book.ask_prices == [5100]
    assert book.set_tick(10) == 0  # finer keeps everything


def test_infer_tick() -> None:
    assert infer_tick([5000, 5100]) == 100
    assert infer_tick([5000, 5140]) == 10
    assert infer_tick([5001]) == 1
    assert infer_tick([]) == 100


def test_recorded_book_reconstruction(recorded: Path) -> None:
    store = BookStore()
    store.apply_frame((recorded / "ws" / "legacy_book.json").read_bytes())
    [book] = store.books.values()
    assert (book.best_bid, book.best_ask) == (5110, 5140)
    assert len(book.bid_prices) == 76
    assert len(book.ask_prices) == 86
    assert book.tick == 10
    assert not book.is_crossed()


prices = st.integers(min_value=1, max_value=9999)
sizes = st.integers(min_value=0, max_value=10**9)


class BookModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = OrderBook("t")
        self.model: dict[bool, dict[int, int]] = {True: {}, False: {}}

    @rule(
        bids=st.dictionaries(prices, sizes, max_size=20),
        asks=st.dictionaries(prices, sizes, max_size=20),
    )
    def snapshot(self, bids: dict[int, int], asks: dict[int, int]) -> None:
        self.book.replace(bids.items(), asks.items())
        self.model = {
            True: {p: s for p, s in bids.items() if s},
            False: {p: s for p, s in asks.items() if s},
        }

    @rule(is_bid=st.booleans(), price=prices, size=sizes)
    def change(self, is_bid: bool, price: int, size: int) -> None:
        self.book.set_level(is_bid, price, size)
        if size:
            self.model[is_bid][price] = size
        else:
            self.model[is_bid].pop(price, None)

    @invariant()
    def matches_model(self) -> None:
        bids, asks = self.model[True], self.model[False]
        assert self.book.bid_sizes == bids
        assert self.book.ask_sizes == asks
        assert self.book.bid_prices == sorted(bids)
        assert self.book.ask_prices == sorted(asks)
        assert self.book.best_bid == (max(bids) if bids else None)
        assert self.book.best_ask == (min(asks) if asks else None)
        top = sorted(bids.items(), reverse=True)[:5]
        assert self.book.top_bids(5) == top
        assert self.book.depth(True, 5) == sum(s for _, s in top)
        assert self.book.top_asks(5) == sorted(asks.items())[:5]


TestBookModel = BookModel.TestCase
TestBookModel.settings = settings(max_examples=examples(60), stateful_step_count=40, deadline=None)


@given(st.lists(st.tuples(st.booleans(), prices, sizes), max_size=200))
def test_levels_are_best_first_and_never_empty(ops: list[tuple[bool, int, int]]) -> None:
    book = OrderBook("t")
    for is_bid, price, size in ops:
        book.set_level(is_bid, price, size)
    bids = book.levels(True)
    asks = book.levels(False)
    assert all(a[0] > b[0] for a, b in zip(bids, bids[1:], strict=False))
    assert all(a[0] < b[0] for a, b in zip(asks, asks[1:], strict=False))
    assert all(size > 0 for _, size in bids + asks)

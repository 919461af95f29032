"""Lots per owner: every share held belongs to exactly one lot, a sell takes its owner's
shares first and then the oldest other lots', and a lot's cost is released pro rata."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.config import ExitConfig
from engine.execution.lots import LotBook
from engine.orders import NO_EXITS

OWNERS = ("a", "b", "a+b", "")
OPS = st.lists(
    st.tuples(
        st.sampled_from(("buy", "sell")),
        st.sampled_from(OWNERS),
        st.integers(min_value=1, max_value=50),
        st.integers(min_value=1, max_value=99),
    ),
    max_size=60,
)


@given(OPS)
def test_lots_always_cover_the_position_exactly(ops: list[tuple[str, str, int, int]]) -> None:
    book = LotBook(ExitConfig())
    position = 0
    for t, (kind, owner, size, price) in enumerate(ops):
        if kind == "buy":
            book.buy("T", "m", owner, price * 100, size, float(t))
            position += size
            continue
        size = min(size, position)
        if not size:
            continue
        own_before = lot.shares if (lot := book.get("T", owner)) else 0
        older = [(o, x.shares) for o, x in book.of("T").items() if o != owner]
        reduced = book.sell("T", owner, size)
        position -= size
        assert sum(r.shares for r in reduced) == size
        # The owner's own shares go first; then the other lots, oldest first.
        taken_own = min(size, own_before)
        if own_before:
            assert reduced[0].lot.strategy == owner
            assert reduced[0].shares == taken_own
        rest = size - taken_own
        for name, held in older:
            if rest <= 0:
                break
            hit = next(r for r in reduced if r.lot.strategy == name)
            assert hit.shares == min(rest, held)
            rest -= hit.shares
        for r in reduced:
            assert r.closed == (book.get("T", r.lot.strategy) is None)
        lots = book.of("T").values()
        assert sum(x.shares for x in lots) == position
        assert all(x.shares > 0 and x.cost >= 0 for x in lots)
    assert sum(x.shares for x in book.of("T").values()) == position


def test_a_lot_releases_its_cost_pro_rata_and_keeps_its_own_levels() -> None:
    book = LotBook(ExitConfig())
    book.buy("T", "m", "a", 4000, 10, 1.0)
    book.buy("T", "m", "b", 6000, 10, 2.0)
    book.set_levels("T", "b", NO_EXITS)  # a hedge: no global exits
    lot_a, lot_b = book.get("T", "a"), book.get("T", "b")
    assert lot_a is not None
    assert lot_b is not None
    assert (lot_a.entry_price, lot_b.entry_price) == (4000, 6000)
    # The global rules reach a's lot, never b's.
    assert book.due(lot_a, 2000, 10.0) == "stop_loss"
    assert book.due(lot_b, 2000, 10_000.0) is None
    (only,) = book.sell("T", "a", 4)
    assert (only.lot.strategy, only.shares, only.entry_price, only.closed) == ("a", 4, 4000, False)
    assert (lot_a.shares, lot_a.cost) == (6, 24_000)
    # A flatten ("" owns nothing here) takes the oldest lot first, then the next.
    first, second = book.sell("T", "", 8)
    assert (first.lot.strategy, first.shares, first.closed) == ("a", 6, True)
    assert (second.lot.strategy, second.shares, second.closed) == ("b", 2, False)
    assert list(book.of("T")) == ["b"]

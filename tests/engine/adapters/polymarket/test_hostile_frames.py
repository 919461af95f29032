"""Hostile market-channel frames through the real decode and books: counted as bad,
never raised, and every book left as it was (issue 15, defects 3, 4 and 5), plus a fuzz
test of the whole channel's shapes with hostile values mixed in."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.adapters.polymarket.books import MAX_SIZE, BookStore
from engine.fixed import PRICE_SCALE
from engine.market.book import VENUE_TICKS

BOOK = {
    "event_type": "book",
    "asset_id": "1",
    "market": "0xm",
    "bids": [{"price": "0.40", "size": "10"}],
    "asks": [{"price": "0.60", "size": "10"}],
    "timestamp": "100",
}


def frame(obj: object) -> bytes:
    return json.dumps(obj).encode()


def change(price: object, side: object = "SELL", size: object = "3", **more: Any) -> bytes:
    entry = {"asset_id": "1", "price": price, "side": side, "size": size, **more}
    return frame({"event_type": "price_change", "market": "0xm", "price_changes": [entry]})


def store_with_a_book() -> tuple[BookStore, dict[str, object]]:
    store = BookStore()
    store.apply_frame(frame(BOOK))
    return store, store.books["1"].to_dict()


def test_a_tick_size_of_zero_or_off_the_venues_set_is_a_bad_event() -> None:
    """Defect 3: "0" divided by zero in the book and killed the engine."""
    for tick in ("0", "0.3", "0.00001", "-0.01", "1"):
        store, before = store_with_a_book()
        applied = store.apply_frame(
            frame({"event_type": "tick_size_change", "asset_id": "1", "new_tick_size": tick})
        )
        assert applied == 1
        assert store.problems["bad_event"] == 1, tick
        assert store.books["1"].to_dict() == before
    store, before = store_with_a_book()
    store.apply_frame(frame({**BOOK, "tick_size": "0"}))  # in a snapshot too
    assert store.problems["bad_event"] == 1
    assert store.books["1"].to_dict() == before


def test_nesting_deeper_than_any_message_is_a_bad_frame() -> None:
    """Defect 4: 10,000 `{"a":` (or 100,000 `[`) raised RecursionError."""
    for raw in (
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        b"[" * 100_000 + b"]" * 100_000,
        b'{"event_type": "book", "asset_id": "1", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    ):
        store, before = store_with_a_book()
        store.apply_frame(raw)
        replayed = BookStore()
        replayed.apply_frames([frame(BOOK), raw])
        for s in (store, replayed):
            assert s.problems["bad_frame"] + s.problems["bad_event"] == 1
            assert s.books["1"].to_dict() == before


def test_prices_outside_zero_one_never_enter_a_book() -> None:
    """Defect 5: a price_change at 1.5 became the best ask, a last trade at 2 was shown,
    a snapshot bid at 7 was only flagged "crossed"."""
    store, before = store_with_a_book()
    store.apply_frame(change("1.5"))
    store.apply_frame(change("0"))
    store.apply_frame(change("0.45", side="BUY", best_bid="3"))
    store.apply_frame(frame({"event_type": "last_trade_price", "asset_id": "1", "price": "2"}))
    store.apply_frame(frame({**BOOK, "bids": [{"price": "7", "size": "1"}], "timestamp": "200"}))
    assert store.problems["bad_event"] == 5
    assert "crossed" not in store.problems
    assert store.books["1"].to_dict() == before
    assert store.books["1"].last_trade_price is None


def test_an_event_is_applied_whole_or_not_at_all() -> None:
    store, before = store_with_a_book()
    good = {"asset_id": "1", "price": "0.45", "side": "BUY", "size": "5"}
    bad = {"asset_id": "1", "price": "0.55", "side": "SELL", "size": "-5"}
    store.apply_frame(
        frame({"event_type": "price_change", "market": "0xm", "price_changes": [good, bad]})
    )
    assert store.problems["bad_event"] == 1
    assert store.books["1"].to_dict() == before


def test_wrong_types_bad_sizes_and_unknown_events_are_counted() -> None:
    store, before = store_with_a_book()
    for raw in (
        change(0.7),  # a number where a string belongs
        change(["0.7"]),
        change("0.7", side=None),  # a null side
        change("0.7", side="HOLD"),
        change("0.7", size="-1"),
        change("0.7", size="NaN"),
        change("0.7", size="inf"),
        change("0.7", size="1e30"),
        change("0.7", size=str(MAX_SIZE * 10)),
        frame({**BOOK, "bids": None}),
        frame({"event_type": "nonsense", "asset_id": "1"}),
        frame({"event_type": ["book"], "asset_id": "1"}),  # unhashable: was a TypeError
        frame({"event_type": {"book": 1}, "asset_id": "1"}),
        frame([{"event_type": "book", "asset_id": 1, "bids": [], "asks": []}]),
        b"not json",
        b"",
    ):
        store.apply_frame(raw)
    assert store.problems["bad_frame"] + store.problems["bad_event"] == 16
    assert store.books["1"].to_dict() == before


# -- fuzz: the channel's shapes, with hostile values mixed in ---------------------------

_good_price = st.integers(1, 999).map(lambda p: f"{p / 1000:.3f}".rstrip("0").rstrip("."))
_price = st.one_of(
    _good_price,
    _good_price,
    st.sampled_from(["0", "1", "1.5", "7", "-0.1", "nan", "inf", "1e5", "", "0.00001", "٠.٥"]),
    st.floats(allow_nan=True),
    st.none(),
    st.lists(st.just("0.5"), max_size=2),
)
_size = st.one_of(
    st.sampled_from(["0", "1", "10", "12.5", "100"]),
    st.sampled_from(["-1", "NaN", "inf", "1e30", "9" * 40, "", "1.0000001"]),
    st.integers(-5, 5),
    st.none(),
)
_tick = st.sampled_from(["0.1", "0.01", "0.001", "0.0001", "0", "0.3", "-0.01", "1", "x"])
_side = st.sampled_from(["BUY", "SELL", "BUY", "SELL", "HOLD", None, 1])
_asset = st.sampled_from(["1", "2", "3"])
_ts = st.sampled_from(["100", "150", "200", "x", None])
_level = st.fixed_dictionaries({"price": _price, "size": _size})


def _drop_none(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v is not None or k in ("side", "bids")}


_events = st.one_of(
    st.builds(
        lambda a, bids, asks, ts, tick, last: _drop_none(
            {
                "event_type": "book",
                "asset_id": a,
                "bids": bids,
                "asks": asks,
                "timestamp": ts,
                "tick_size": tick,
                "last_trade_price": last,
            }
        ),
        _asset,
        st.lists(_level, max_size=4),
        st.lists(_level, max_size=4),
        _ts,
        st.one_of(st.none(), _tick),
        st.one_of(st.none(), _price),
    ),
    st.builds(
        lambda entries, ts: _drop_none(
            {
                "event_type": "price_change",
                "market": "0xm",
                "timestamp": ts,
                "price_changes": entries,
            }
        ),
        st.lists(
            st.fixed_dictionaries(
                {"asset_id": _asset, "price": _price, "side": _side, "size": _size},
                optional={"best_bid": _price, "best_ask": _price},
            ),
            min_size=1,
            max_size=3,
        ),
        _ts,
    ),
    st.builds(
        lambda a, p, s, side: {
            "event_type": "last_trade_price",
            "asset_id": a,
            "price": p,
            "size": s,
            "side": side,
        },
        _asset,
        _price,
        _size,
        _side,
    ),
    st.builds(
        lambda a, t: {"event_type": "tick_size_change", "asset_id": a, "new_tick_size": t},
        _asset,
        _tick,
    ),
    st.builds(
        lambda a, b, k: {"event_type": "best_bid_ask", "asset_id": a, "best_bid": b, "best_ask": k},
        _asset,
        _price,
        _price,
    ),
    st.builds(lambda t: {"event_type": t, "asset_id": "1"}, st.sampled_from(["x", "", "book2"])),
)


def _encode(events: list[dict[str, Any]], as_list: bool, depth: int) -> bytes:
    body = json.dumps(events if as_list else events[0])
    return ("[" * depth + body + "]" * depth).encode()


_frames = st.lists(
    st.one_of(
        st.builds(
            _encode,
            st.lists(_events, min_size=1, max_size=3),
            st.booleans(),
            st.sampled_from([0, 0, 0, 0, 1, 3, 5000]),
        ),
        st.binary(max_size=40),
    ),
    max_size=25,
)


def _assert_valid(store: BookStore) -> None:
    for book in store.books.values():
        assert book.tick in VENUE_TICKS
        for prices, sizes in ((book.bid_prices, book.bid_sizes), (book.ask_prices, book.ask_sizes)):
            assert prices == sorted(sizes)
            assert all(0 < p < PRICE_SCALE for p in prices)
            assert all(0 < s <= MAX_SIZE for s in sizes.values())
        if book.bid_prices and book.ask_prices and not book.needs_snapshot:
            assert book.bid_prices[-1] < book.ask_prices[0]  # a trusted book never crosses
        last = book.last_trade_price
        assert last is None or 0 < last < PRICE_SCALE


@given(_frames)
@settings(max_examples=400, deadline=None)
def test_fuzzed_market_frames_never_escape_and_leave_valid_books(frames: list[bytes]) -> None:
    one_by_one = BookStore()
    for raw in frames:
        one_by_one.apply_frame(raw)  # never raises
        _assert_valid(one_by_one)
    replayed = BookStore()
    replayed.apply_frames(frames)  # the replay path agrees
    assert {a: b.to_dict() for a, b in replayed.books.items()} == {
        a: b.to_dict() for a, b in one_by_one.books.items()
    }
    assert replayed.problems == one_by_one.problems

"""The book builder: message handling, gap/crossed/stale detection, bad input."""

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.adapters.polymarket.books import BookStore
from tests.kit.hypothesis import examples


def frame(*objs: dict[str, object]) -> bytes:
    return msgspec.json.encode(list(objs) if len(objs) > 1 else objs[0])


def book_msg(
    asset: str = "A",
    ts: str = "100",
    bids: tuple[tuple[str, str], ...] = (("0.50", "10"),),
    asks: tuple[tuple[str, str], ...] = (("0.52", "10"),),
) -> dict[str, object]:
    return {
        "event_type": "book",
        "asset_id": asset,
        "market": "M",
        "timestamp": ts,
        "hash": "h0",
        "bids": [{"price": p, "size": s} for p, s in bids],
        "asks": [{"price": p, "size": s} for p, s in asks],
    }


def change(
    asset: str,
    price: str,
    side: str,
    size: str,
    bb: str | None = None,
    ba: str | None = None,
    ts: str = "200",
) -> dict[str, object]:
    entry: dict[str, object] = {
        "asset_id": asset,
        "price": price,
        "side": side,
        "size": size,
        "hash": "h1",
    }
    if bb is not None:
        entry["best_bid"] = bb
    if ba is not None:
        entry["best_ask"] = ba
    return {"event_type": "price_change", "market": "M", "timestamp": ts, "price_changes": [entry]}


def test_price_change_consistent_with_reported_bests() -> None:
    store = BookStore()
    store.apply_frame(frame(book_msg()))
    store.apply_frame(frame(change("A", "0.51", "BUY", "5", bb="0.51", ba="0.52")))
    book = store.books["A"]
    assert book.best_bid == 5100
    assert not book.needs_snapshot
    assert not store.needs_snapshot
    assert list(store.take_dirty()) == ["A"]


def test_disagreeing_bests_mean_a_missed_message() -> None:
    store = BookStore()
    store.apply_frame(frame(book_msg()))
    store.apply_frame(frame(change("A", "0.49", "BUY", "5", bb="0.51", ba="0.52")))
    assert store.books["A"].needs_snapshot
    assert store.take_needs_snapshot() == ["A"]
    assert store.problems["gap"] == 1
    store.apply_frame(frame(book_msg(ts="300")))  # the re-snapshot clears it
    assert not store.books["A"].needs_snapshot


def test_crossed_book_is_flagged() -> None:
    store = BookStore()
    store.apply_frame(frame(book_msg()))
    store.apply_frame(frame(change("A", "0.53", "BUY", "5")))
    assert store.books["A"].needs_snapshot
    assert store.problems["crossed"] == 1


def test_update_without_snapshot_is_flagged() -> None:
    store = BookStore()
    store.apply_frame(frame(change("B", "0.40", "SELL", "5")))
    assert store.take_needs_snapshot() == ["B"]


def test_stale_messages_are_dropped() -> None:
    store = BookStore()
    store.apply_frame(frame(book_msg(ts="500")))
    store.apply_frame(frame(change("A", "0.45", "BUY", "5", ts="400")))
    assert 4500 not in store.books["A"].bid_sizes
    store.apply_frame(frame(book_msg(ts="450", bids=(("0.10", "1"),))))
    assert store.books["A"].best_bid == 5000
    assert store.problems["stale"] == 2


def test_tick_size_change_regrids() -> None:
    store = BookStore()
    store.apply_frame(frame(book_msg(bids=(("0.501", "1"), ("0.50", "2")), asks=(("0.52", "1"),))))
    store.apply_frame(
        frame(
            {
                "event_type": "tick_size_change",
                "asset_id": "A",
                "new_tick_size": "0.01",
                "old_tick_size": "0.001",
            }
        )
    )
    book = store.books["A"]
    assert book.tick == 100
    assert book.best_bid == 5000
    assert book.needs_snapshot  # a level vanished: ask the venue


def test_bad_input_is_counted_and_reported() -> None:
    seen: list[str] = []
    store = BookStore(on_problem=seen.append)
    store.apply_frame(b"{not json")
    store.apply_frame(frame({"event_type": "mystery", "asset_id": "A"}))
    store.apply_frame(frame(change("A", "0.5", "SIDEWAYS", "1")))
    store.apply_frame(frame(change("A", "1.23456", "BUY", "1")))
    assert store.problems["bad_frame"] == 2
    assert store.problems["bad_event"] == 2
    assert len(seen) == 4
    assert all(":" in line and "\n" not in line for line in seen)


def test_last_trade_and_listeners() -> None:
    store = BookStore()
    trades: list[tuple[str, int, int, str]] = []
    store.trade_listeners.append(lambda *t: trades.append(t))
    store.apply_frame(
        frame(
            {
                "event_type": "last_trade_price",
                "asset_id": "A",
                "price": "0.51",
                "size": "25",
                "side": "BUY",
            }
        )
    )
    assert store.books["A"].last_trade_price == 5100
    assert trades == [("A", 5100, 25_000_000, "BUY")]


def test_market_resolved_and_new_market(recorded) -> None:  # type: ignore[no-untyped-def]
    store = BookStore()
    store.apply_frame((recorded / "ws" / "ws_market_resolved_msg.json").read_bytes())
    store.apply_frame((recorded / "ws" / "ws_market_new_market_msg.json").read_bytes())
    assert store.resolved[
        "0x311d0c4b6671ab54af4970c06fcf58662516f5168997bdda209ec3db5aa6b0c1"
    ].startswith("7604")
    assert store.new_markets[0].slug == "nvda-above-240-on-january-30-2026"


# -- the replay path gives the same answers as frame-by-frame application -------------

_assets = st.sampled_from(["A", "B", "C"])
_entries = st.fixed_dictionaries(
    {
        "asset_id": _assets,
        "price": st.integers(1, 99).map(lambda p: f"0.{p:02d}"),
        "side": st.sampled_from(["BUY", "SELL", "BUY", "SELL", "HOLD"]),
        "size": st.sampled_from(["0", "0", "5", "12.5", "100", "-1"]),
        "hash": st.sampled_from(["", "h"]),
    },
    optional={
        "best_bid": st.integers(0, 100).map(lambda p: f"{p / 100:.2f}"),
        "best_ask": st.integers(0, 100).map(lambda p: f"{p / 100:.2f}"),
    },
)
_frames = st.lists(
    st.one_of(
        st.builds(
            lambda ts, changes: frame(
                {
                    "event_type": "price_change",
                    "market": "M",
                    "timestamp": ts,
                    "price_changes": changes,
                }
            ),
            st.sampled_from(["100", "150", "200", "x"]),
            st.lists(_entries, min_size=1, max_size=3),
        ),
        st.builds(
            lambda asset, ts: frame(
                book_msg(asset, ts, bids=(("0.40", "5"),), asks=(("0.60", "5"),))
            ),
            _assets,
            st.sampled_from(["120", "160"]),
        ),
        st.just(b"not json"),
    ),
    max_size=40,
)


@given(_frames)
@settings(max_examples=examples(300), deadline=None)
def test_apply_frames_matches_apply_frame_and_a_dict_model(frames: list[bytes]) -> None:
    one_by_one, replayed = BookStore(), BookStore()
    for raw in frames:
        one_by_one.apply_frame(raw)
    replayed.apply_frames(frames)
    assert {a: b.to_dict() for a, b in replayed.books.items()} == {
        a: b.to_dict() for a, b in one_by_one.books.items()
    }
    assert replayed.counts == one_by_one.counts
    assert replayed.problems == one_by_one.problems
    assert replayed.needs_snapshot == one_by_one.needs_snapshot
    # Levels against a plain model: the last accepted size at each price, zero removes.
    model: dict[tuple[str, bool], dict[int, int]] = {}
    held: dict[str, int] = {}
    for raw in frames:
        try:
            obj = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            continue
        if obj["event_type"] == "book":
            if int(obj["timestamp"]) >= held.get(obj["asset_id"], 0):
                held[obj["asset_id"]] = int(obj["timestamp"])
                model[(obj["asset_id"], True)] = {4000: 5_000_000}
                model[(obj["asset_id"], False)] = {6000: 5_000_000}
            continue
        ts = int(obj["timestamp"]) if obj["timestamp"].isdigit() else 0
        entries = obj["price_changes"]
        if any(e["side"] not in ("BUY", "SELL") or e["size"] == "-1" for e in entries):
            continue  # one bad entry: the event is refused whole, every book untouched
        for e in entries:
            if ts and ts < held.get(e["asset_id"], 0):
                continue
            if ts:
                held[e["asset_id"]] = ts
            side = model.setdefault((e["asset_id"], e["side"] == "BUY"), {})
            price, size = int(e["price"][2:]) * 100, int(float(e["size"]) * 10**6)
            if size:
                side[price] = size
            else:
                side.pop(price, None)
    for (asset, is_bid), levels in model.items():
        book = replayed.books[asset]
        got = book.bid_sizes if is_bid else book.ask_sizes
        assert got == levels


def _state(store: BookStore) -> tuple[object, ...]:
    return (
        {a: b.to_dict() for a, b in store.books.items()},
        {a: (b.needs_snapshot, b.has_snapshot, b.updates) for a, b in store.books.items()},
        store.counts,
        store.problems,
        store.needs_snapshot,
    )


@given(_frames)
@settings(max_examples=examples(300), deadline=None)
def test_the_socket_fast_path_gives_the_general_paths_answers(frames: list[bytes]) -> None:
    """apply_frame's one-decode fast path against decode_market_frame + apply_decoded,
    the general path that keeps good objects of a bad frame: the same books, flags and
    counts, frame for frame."""
    from engine.adapters.polymarket.wire.market import decode_market_frame

    fast, general = BookStore(), BookStore()
    for raw in frames:
        applied = fast.apply_frame(raw)
        assert applied == general.apply_decoded(*decode_market_frame(raw))
        assert _state(fast) == _state(general)


@given(_frames, st.integers(16, 400))
@settings(max_examples=examples(200), deadline=None)
def test_a_frame_applied_in_slices_gives_the_same_books(frames: list[bytes], size: int) -> None:
    """The market WebSocket cuts long frames into slices of whole events: the books and
    flags equal those of the frame applied at once (only the frame count differs)."""
    from engine.adapters.polymarket.market_ws import split_frame

    events = []
    for raw in frames:
        try:
            decoded = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            continue
        events += decoded if isinstance(decoded, list) else [decoded]
    whole = msgspec.json.encode(events)
    at_once, sliced = BookStore(), BookStore()
    at_once.apply_frame(whole)
    parts = split_frame(whole, size)
    for part in parts:
        sliced.apply_frame(part)
    assert b"".join(p[1:-1] + b"," for p in parts if p != b"[]").rstrip(b",") == whole[1:-1]
    assert _state(sliced)[:2] == _state(at_once)[:2]
    assert sliced.problems == at_once.problems
    assert sliced.needs_snapshot == at_once.needs_snapshot
    assert sliced.counts["frames"] == len(parts)


def test_reported_bests_one_side_or_both_and_no_level() -> None:
    """The venue's best bid/ask check: either side alone, both, and '0' / '1' meaning no
    level on that side."""
    cases = [
        (change("A", "0.49", "BUY", "5", bb="0.50"), False),
        (change("A", "0.49", "BUY", "5", ba="0.52"), False),
        (change("A", "0.49", "BUY", "5", bb="0.49"), True),
        (change("A", "0.49", "BUY", "5", ba="0.53"), True),
        (change("A", "0.49", "BUY", "5", bb="0.50", ba="0.53"), True),
        (change("A", "0.50", "BUY", "0", bb="0.49", ba="0.52"), False),
        (change("A", "0.50", "BUY", "0", bb="0", ba="0.52"), True),  # a 0.49 bid remains
    ]
    for message, gap in cases:
        store = BookStore()
        store.apply_frame(frame(book_msg(bids=(("0.50", "10"), ("0.49", "3")))))
        store.apply_frame(frame(message))
        assert store.books["A"].needs_snapshot is gap, message
        assert store.problems["gap"] == int(gap)
    store = BookStore()
    store.apply_frame(frame(book_msg(bids=(("0.50", "10"),), asks=())))
    store.apply_frame(frame(change("A", "0.50", "BUY", "0", bb="0", ba="1")))
    assert not store.books["A"].needs_snapshot  # both sides empty, as the venue says


@settings(max_examples=examples(500), deadline=None)
@given(
    text=st.one_of(
        st.text(alphabet="0123456789.-+_ e", min_size=1, max_size=12),
        st.from_regex(r"\A[0-9]{1,10}(\.[0-9]{0,9})?\Z"),
        st.text(min_size=1, max_size=6),
    )
)
def test_a_level_size_is_read_as_the_fixed_point_parser_reads_it(text: str) -> None:
    """The fast size read (the memo's miss path) takes exactly what parse_size takes,
    to the same value, and refuses the rest (the change is dropped, the book kept)."""
    from engine.adapters.polymarket.books import MAX_SIZE
    from engine.fixed import parse_size

    try:
        expected: int | None = parse_size(text)
    except ValueError:
        expected = None
    if expected is not None and expected > MAX_SIZE:
        expected = None
    store = BookStore()
    store.apply_frame(frame(book_msg("A", bids=(("0.40", "1"),), asks=(("0.60", "1"),))))
    store.apply_frame(frame(change("A", "0.45", "BUY", text, ts="300")))
    book = store.books["A"]
    if expected is None:
        assert store.problems["bad_event"] == 1
        assert book.bid_prices == [4000]
    elif expected == 0:
        assert book.bid_prices == [4000]
    else:
        assert book.bid_sizes[4500] == expected


_change_objs = st.builds(
    lambda ts, changes: {
        "event_type": "price_change",
        "market": "M",
        "timestamp": ts,
        "price_changes": changes,
    },
    st.sampled_from(["100", "150", "200", "x"]),
    st.lists(_entries, min_size=1, max_size=4),
)
_trade_objs = st.builds(
    lambda asset, price, size, side: {
        "event_type": "last_trade_price",
        "asset_id": asset,
        "market": "M",
        "price": price,
        "size": size,
        "side": side,
    },
    _assets,
    st.sampled_from(["0.50", "0.5", "1.5", "0"]),
    st.sampled_from(["", "10", "2.25", "-1"]),
    st.sampled_from(["BUY", "SELL", "", "HOLD"]),
)
_book_objs = st.builds(
    lambda asset, ts: book_msg(asset, ts, bids=(("0.40", "5"),), asks=(("0.60", "5"),)),
    _assets,
    st.sampled_from(["120", "160"]),
)
_event_frames = st.lists(
    st.lists(st.one_of(_change_objs, _trade_objs, _book_objs), min_size=1, max_size=6).map(
        lambda objs: frame(*objs)
    ),
    max_size=30,
)


@given(_event_frames)
@settings(max_examples=examples(300), deadline=None)
def test_a_frame_applied_whole_gives_each_events_answers(frames: list[bytes]) -> None:
    """The frame loops count price changes and trades once per frame and send them
    straight to their handlers: the books, flags, counts, problems (in order), changed
    books (in order) and trade prints equal those of applying each event on its own."""
    from engine.adapters.polymarket.wire.market import decode_market_frame

    said: dict[str, list[str]] = {"whole": [], "each": []}
    printed: dict[str, list[tuple[str, int, int, str]]] = {"whole": [], "each": []}
    stores = {name: BookStore(said[name].append) for name in said}
    for name, store in stores.items():
        store.trade_listeners.append(lambda *t, name=name: printed[name].append(t))
    whole, each = stores["whole"], stores["each"]
    for raw in frames:
        whole.apply_frame(raw)
        events, errors = decode_market_frame(raw)
        assert not errors
        for event in events:
            each.apply(event)
        assert list(whole.take_dirty()) == list(each.take_dirty())
        assert list(whole.take_flagged()) == list(each.take_flagged())
        assert _state(whole)[:2] == _state(each)[:2]
    assert whole.counts - each.counts == {"frames": len(frames)} or not frames
    assert each.counts - whole.counts == {}
    assert whole.problems == each.problems
    assert whole.needs_snapshot == each.needs_snapshot
    assert said["whole"] == said["each"]
    assert printed["whole"] == printed["each"]

"""Tape format version 2: frames stored as the JSON they are, and version 1 still read.
(An exported session replayed from both versions: tests/polyterm/emulator.)"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.adapters.polymarket.books import BookStore
from engine.adapters.tape.tape import FrameReader, TapeWriter, check_tape, read_frames, read_tape
from engine.market.markets import MarketInfo, Outcome, market_to_json
from tests.kit.hypothesis import examples

MARKET = MarketInfo("0xc", "Q?", "q", (Outcome("1", "Yes"), Outcome("2", "No")))


def test_a_frame_is_stored_as_the_json_it_is(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    writer = TapeWriter(path)
    writer.write_markets([MARKET], 1.0)
    writer.write_frame(b'[{"event_type": "book",\n "asset_id": "1"}]', 2.0, "ws")
    writer.write_frame('{"event_type":"book","asset_id":"2"}', 3.0, "rest")
    writer.close()
    header, markets, first, second = path.read_bytes().splitlines()
    assert json.loads(header) == {"t": 1.0, "src": "tape", "version": 2}
    assert json.loads(markets)["markets"] == [market_to_json(MARKET)]
    # Raw JSON, not a string holding JSON; the line break between tokens is a space.
    assert first == b'{"t":2.0,"src":"ws","frame":[{"event_type": "book",  "asset_id": "1"}]}'
    assert second == b'{"t":3.0,"src":"rest","frame":{"event_type":"book","asset_id":"2"}}'
    assert [(r.t, r.src) for r in read_tape(path) if r.frame is not None] == [
        (2.0, "ws"),
        (3.0, "rest"),
    ]
    check_tape(path)


FRAMES = st.one_of(
    st.text(max_size=40),  # mostly not JSON
    st.binary(max_size=40),  # sometimes not UTF-8
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=8,
    ).map(lambda v: json.dumps(v, indent=1)),  # JSON of every kind, spread over lines
)


@settings(max_examples=examples(300), deadline=None)
@given(frames=st.lists(FRAMES, min_size=1, max_size=6))
def test_every_frame_reads_back_as_what_was_written(frames: list[str | bytes]) -> None:
    """A JSON object or list comes back as the same JSON value; anything else (text that
    is no JSON object, bytes that are not UTF-8) as its text, as version 1 kept it."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        for name in ("t.jsonl", "t.jsonl.zst"):
            path = Path(d) / name
            writer = TapeWriter(path)
            for i, frame in enumerate(frames):
                writer.write_frame(frame, float(i), "ws")
            writer.close()
            back = [r.frame for r in read_tape(path)]
            assert back == list(read_frames(path))
            assert len(back) == len(frames)
            for wrote, got in zip(frames, back, strict=True):
                text = wrote.decode(errors="replace") if isinstance(wrote, bytes) else wrote
                if isinstance(got, bytes):
                    assert json.loads(got) == json.loads(text)
                    assert text.lstrip()[:1] in ("{", "[")
                else:
                    assert got == text


def test_a_version_1_tape_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "v1.jsonl"
    book = {"event_type": "book", "asset_id": "1", "bids": [{"price": "0.4", "size": "3"}]}
    path.write_text(
        json.dumps({"t": 1, "src": "markets", "frame": None, "markets": []})
        + "\n"
        + json.dumps({"t": 2, "src": "ws", "frame": json.dumps(book)})
        + "\n"
    )
    check_tape(path)
    [frame] = [r.frame for r in read_tape(path) if r.frame is not None]
    assert isinstance(frame, str)
    assert json.loads(frame) == book
    store = BookStore()
    reader = FrameReader(path)
    store.apply_frames(reader, reader.bad_frame)
    assert store.books["1"].best_bid == 4000

"""Tapes written then replayed, and recorded-message files read back."""

import re
from collections.abc import Sequence
from pathlib import Path

import pytest
import zstandard

from engine.adapters.polymarket.books import BookStore
from engine.adapters.tape.tape import (
    FrameReader,
    TapeError,
    TapeFeed,
    TapeTruncated,
    TapeWriter,
    check_tape,
    read_frames,
    read_tape,
)
from engine.market.markets import MarketInfo, Outcome
from tests.kit.clock import FakeClock


@pytest.mark.parametrize("name", ["tape.jsonl", "tape.jsonl.zst"])
async def test_tape_round_trip_rebuilds_the_same_books(
    tmp_path: Path, recorded: Path, name: str
) -> None:
    frames = [
        (recorded / "ws" / f).read_bytes()
        for f in ("legacy_book.json", "legacy_price_change_v2.json", "legacy_last_trade_price.json")
    ]
    path = tmp_path / name
    writer = TapeWriter(path)
    writer.write_markets([MarketInfo("0xc", "Q?", "q", (Outcome("1", "Yes"),))], 1.0)
    for i, raw in enumerate(frames):
        writer.write_frame(raw, 2.0 + i, "ws")
    writer.close()
    direct = BookStore()
    for raw in frames:
        direct.apply_frame(raw)
    replayed = BookStore()

    class Sink:
        markets: list[MarketInfo] = []

        def on_markets(self, markets: Sequence[MarketInfo]) -> None:
            self.markets = list(markets)

        def on_frame(self, raw: bytes | str, recv_ts: float, source: str) -> None:
            replayed.apply_frame(raw)

    sink = Sink()
    await TapeFeed(path, FakeClock(), speed=0).run(sink)
    assert sink.markets[0].question == "Q?"
    assert {a: b.to_dict() for a, b in replayed.books.items()} == {
        a: b.to_dict() for a, b in direct.books.items()
    }
    assert len(list(read_frames(path))) == 3


def test_a_frame_that_is_not_json_is_a_bad_frame_naming_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '\n  {"event_type": "book", "asset_id": "1"}  \n\n   \nnot json\n'
        '{"event_type": "book", "asset_id": "2"}\n'
    )
    reader = FrameReader(bad)
    problems: list[str] = []
    store = BookStore(on_problem=problems.append)
    store.apply_frames(reader, reader.bad_frame)  # counted, and the replay goes on
    assert list(store.books) == ["1", "2"]
    assert store.problems["bad_frame"] == 1
    assert problems[0].startswith(f"bad_frame: {bad}:5: not JSON (")
    with pytest.raises(TapeError, match="no such file"):
        list(read_frames(tmp_path / "missing.jsonl"))


def test_message_lines_are_handed_on_unparsed(tmp_path: Path) -> None:
    """The reader never parses a message line (the decoder parses it, once): a line that
    is not JSON comes through as its bytes, for the decoder to refuse."""
    path = tmp_path / "m.jsonl"
    path.write_bytes(b'{"event_type": "book", "asset_id": "1"}\nnot json\n  [1, 2]\r\n')
    assert list(read_frames(path)) == [
        b'{"event_type": "book", "asset_id": "1"}',
        b"not json",
        b"[1, 2]",
    ]


def test_an_unparseable_last_line_without_newline_is_a_cut(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl"
    path.write_bytes(b'{"event_type": "book", "asset_id": "1"}\n{"event_type": "bo')
    reader = FrameReader(path)
    store = BookStore()
    with pytest.raises(TapeTruncated, match=r"truncated at byte 58 after 1 frames"):
        store.apply_frames(reader, reader.bad_frame)
    assert list(store.books) == ["1"]


@pytest.mark.parametrize(
    ("text", "frames"),
    [
        ('{"event_type": "book", "asset_id": "1"}', 1),  # one object
        ('[{"event_type": "book", "asset_id": "1"},\n {"event_type": "book", "asset_id": "2"}]', 1),
        ('[{"event_type": "book", "asset_id": "1"}]\n[{"event_type": "book", "asset_id": "2"}]', 2),
    ],
)
def test_json_documents_and_json_lines_of_lists(tmp_path: Path, text: str, frames: int) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text(text + "\n")
    assert len(list(read_frames(path))) == frames


# -- tapes cut short, and files that are not tapes --------------------------------------


def _book_frame(i: int) -> str:
    return (
        f'{{"event_type": "book", "asset_id": "{i % 7}", "market": "0xc", '
        f'"bids": [{{"price": "0.4", "size": "{i}"}}], "asks": [{{"price": "0.6", "size": "5"}}], '
        f'"timestamp": "{i}", "hash": "h{i}", "pad": "{"x" * (i % 97)}"}}'
    )


def _text(frames: list[str | bytes]) -> list[str]:
    """Frames as text (a version-2 tape hands a JSON frame on as its bytes)."""
    return [f.decode() if isinstance(f, bytes) else f for f in frames]


def _write_tape(path: Path, frames: int) -> None:
    writer = TapeWriter(path)
    writer.write_markets([MarketInfo("0xc", "Q?", "q", (Outcome("1", "Yes"),))], 1.0)
    for i in range(frames):
        writer.write_frame(_book_frame(i), 2.0 + i, "ws")
    writer.close()
    writer.close()  # a second close is harmless


def test_a_closed_zstd_tape_is_one_complete_frame(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl.zst"
    _write_tape(path, 10)
    obj = zstandard.ZstdDecompressor().decompressobj()
    obj.decompress(path.read_bytes())
    assert obj.eof
    assert len(list(read_tape(path))) == 11


@pytest.mark.parametrize("name", ["cut.jsonl.zst", "cut.jsonl"])
def test_a_truncated_tape_delivers_what_it_has_then_says_so(tmp_path: Path, name: str) -> None:
    whole = tmp_path / f"whole{Path(name).suffix}"
    _write_tape(whole, 20_000)
    data = whole.read_bytes()
    cut = tmp_path / name
    cut.write_bytes(data[: len(data) * 2 // 3])
    got: list[str | bytes] = []
    with pytest.raises(TapeTruncated) as info:
        got.extend(read_frames(cut))
    assert 0 < len(got) < 20_000
    assert _text(got) == [_book_frame(i) for i in range(len(got))]  # whole frames, in order
    message = str(info.value)
    assert message == (
        f"{cut}: truncated at byte {len(data) * 2 // 3} after {len(got)} frames "
        "(the recording was cut short; the frames before it replayed)"
    )
    assert "\n" not in message
    assert isinstance(info.value, TapeError)


async def test_a_replay_of_a_truncated_tape_keeps_its_frames(tmp_path: Path) -> None:
    whole = tmp_path / "whole.jsonl.zst"
    _write_tape(whole, 20_000)
    cut = tmp_path / "cut.jsonl.zst"
    cut.write_bytes(whole.read_bytes()[:-50])
    seen: list[str | bytes] = []

    class Sink:
        def on_markets(self, markets: Sequence[MarketInfo]) -> None:
            pass

        def on_frame(self, raw: bytes | str, recv_ts: float, source: str) -> None:
            seen.append(raw)

    feed = TapeFeed(cut, FakeClock(), speed=0)
    with pytest.raises(TapeTruncated) as info:
        await feed.run(Sink())
    assert info.value.frames == len(seen) == feed.frames > 19_000


def test_an_empty_zst_is_a_tape_cut_before_it_began(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl.zst"
    empty.write_bytes(b"")
    with pytest.raises(TapeTruncated, match=r"truncated at byte 0 after 0 frames"):
        list(read_frames(empty))


def test_bytes_that_are_not_zstd_are_one_line(tmp_path: Path) -> None:
    fake = tmp_path / "fake.jsonl.zst"
    fake.write_text('{"t": 1, "src": "ws", "frame": "{}"}\n')
    with pytest.raises(TapeError) as info:
        list(read_frames(fake))
    assert not isinstance(info.value, TapeTruncated)
    assert str(info.value).startswith(f"{fake}: not a zstd file (")
    assert "\n" not in str(info.value)


def test_damage_inside_a_zstd_tape_is_reported_after_its_good_frames(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl.zst"
    _write_tape(path, 20_000)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))
    got: list[str | bytes] = []
    with pytest.raises(TapeError, match=r"corrupt zstd data after byte \d+ and \d+ frames"):
        got.extend(read_frames(path))
    assert _text(got) == [_book_frame(i) for i in range(len(got))]


def test_concatenated_zstd_tapes_read_as_one(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl.zst", tmp_path / "b.jsonl.zst"
    _write_tape(first, 3)
    _write_tape(second, 4)
    both = tmp_path / "both.jsonl.zst"
    both.write_bytes(first.read_bytes() + second.read_bytes())
    assert len(list(read_frames(both))) == 7


@pytest.mark.parametrize("frame", ["5", '{"a": 1}', '"{\\"a\\":' * 5000 + '1"'])
@pytest.mark.parametrize("name", ["bad.jsonl", "bad.jsonl.zst"])
def test_a_record_that_holds_no_frame_text_is_a_bad_frame_and_the_replay_goes_on(
    tmp_path: Path, name: str, frame: str
) -> None:
    book = '{\\"event_type\\": \\"book\\", \\"asset_id\\": \\"1\\"}'
    text = (
        f'{{"t": 1, "src": "ws", "frame": "{book}"}}\n'
        f'{{"t": 2, "src": "ws", "frame": {frame}}}\n'
        f'{{"t": 3, "src": "ws", "frame": "{book.replace("1", "2")}"}}\n'
    )
    path = tmp_path / name
    data = text.encode()
    path.write_bytes(zstandard.ZstdCompressor().compress(data) if name.endswith(".zst") else data)
    reader = FrameReader(path)
    store = BookStore()
    store.apply_frames(reader, reader.bad_frame)
    assert list(store.books) == ["1", "2"]
    assert store.problems["bad_frame"] == 1
    assert [r.t for r in read_tape(path)] == [1.0, 1.0, 3.0]  # the bad line at its neighbour's time


def test_a_tape_no_replay_could_use_is_refused_in_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    empty_zst = tmp_path / "empty.jsonl.zst"
    empty_zst.write_bytes(b"")
    markets_only = tmp_path / "m.jsonl"
    markets_only.write_text('{"t": 1, "src": "markets", "markets": []}\n')
    for path in (empty, empty_zst, markets_only):
        with pytest.raises(TapeError, match=r": no frames \(an empty recording\?\)"):
            check_tape(path)
    readme = tmp_path / "README.md"
    readme.write_text("# not a tape\n")
    with pytest.raises(TapeError, match=rf"^{re.escape(str(readme))}:1: not a tape"):
        check_tape(readme)
    good = tmp_path / "good.jsonl"
    _write_tape(good, 3)
    check_tape(good)

"""Tape format version 2: frames stored as the JSON they are, version 1 still read, and
both versions of one session replaying to the same books and the same ledger."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.adapters.polymarket.books import BookStore
from engine.adapters.tape.tape import FrameReader, TapeWriter, check_tape, read_frames, read_tape
from engine.clock import SimClock
from engine.config import EngineConfig
from engine.ledger.writer import SqliteLedger
from engine.market.markets import MarketInfo, Outcome, market_to_json
from engine.runtime.backtest import replay_records
from engine.runtime.kernel import build_engine, replay_health
from polyterm.emulator.export import export_tape
from tests.kit.hypothesis import examples

MARKET = MarketInfo("0xc", "Q?", "q", (Outcome("1", "Yes"), Outcome("2", "No")))


def as_v1(source: Path, target: Path) -> None:
    """The same session as a version-1 tape: every frame a JSON string of its text."""
    lines = []
    for record in read_tape(source):
        if record.markets is not None:
            lines.append(json.dumps({"t": record.t, "src": record.src, "markets": record.markets}))
        elif record.frame is not None:
            frame = record.frame.decode() if isinstance(record.frame, bytes) else record.frame
            lines.append(json.dumps({"t": record.t, "src": record.src, "frame": frame}))
    target.write_text("\n".join(lines) + "\n")


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


def _rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if r[0] != "runs"  # its summary names the tape
        ]
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
    finally:
        conn.close()


async def _backtest(tape: Path, ledger_path: Path) -> BookStore:
    clock = SimClock()
    ledger = await SqliteLedger(ledger_path, autocommit=False).open()
    try:
        config = EngineConfig.model_validate(
            {"strategies": {"cross_market_arbitrage": {"weight": 1.0}}}
        )
        engine = build_engine(config, clock, ledger, venue="backtest", health=replay_health())
        runner = engine.backtest_runner(clock, ledger)
        await runner.run(replay_records([tape]), starting_cash=engine.starting_cash)
        return engine.core.parts.intake.books
    finally:
        await ledger.close()


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.zst"])
def test_both_versions_of_a_session_give_the_same_books_and_ledger(
    tmp_path: Path, suffix: str
) -> None:
    v2 = tmp_path / f"v2{suffix}"
    export_tape(v2, seed=5, markets=12, duration_s=40.0)
    assert read_tape(v2).__next__().src == "markets"  # the header is read, not handed on
    assert b'"frame":[' in v2.read_bytes() or suffix == ".jsonl.zst"
    v1 = tmp_path / "v1.jsonl"
    as_v1(v2, v1)
    assert b'"frame":"[' in v1.read_bytes().replace(b'": "', b'":"')
    books = [asyncio.run(_backtest(t, tmp_path / f"{t.stem}.sqlite")) for t in (v1, v2)]
    assert {a: b.to_dict() for a, b in books[0].books.items()} == {
        a: b.to_dict() for a, b in books[1].books.items()
    }
    before, after = _rows(tmp_path / "v1.sqlite"), _rows(tmp_path / f"{v2.stem}.sqlite")
    assert sum(len(r) for r in before.values()) > 200
    assert before["orders"]
    assert before == after

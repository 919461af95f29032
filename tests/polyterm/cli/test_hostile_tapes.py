"""Replays of hostile tapes, as a user runs them: `book` and `backtest` count each
hostile frame as bad and go on, with no traceback (it used to end the replay with exit 2
"not JSON", or a RecursionError); an empty recording is refused in one line by both
(issue 15, defects 3, 4, 5 and 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import zstandard

from engine.adapters.tape.tape import TapeWriter
from engine.market.markets import MarketInfo, Outcome
from tests.kit.process import run

pytestmark = pytest.mark.integration

YES, NO = "111", "222"
HOSTILE = [
    '{"event_type": "tick_size_change", "asset_id": "111", "new_tick_size": "0"}',
    '{"a":' * 10_000 + "1" + "}" * 10_000,
    '{"event_type": "price_change", "market": "0xc", "price_changes": '
    '[{"asset_id": "111", "price": "1.5", "side": "SELL", "size": "3"}]}',
    '{"event_type": "last_trade_price", "asset_id": "111", "price": "2", "size": "1"}',
    "not json at all",
]


def book_frame(asset: str, ts: int, bid: str, ask: str) -> str:
    return json.dumps(
        {
            "event_type": "book",
            "asset_id": asset,
            "market": "0xc",
            "bids": [{"price": bid, "size": "100"}],
            "asks": [{"price": ask, "size": "100"}],
            "timestamp": str(ts),
        }
    )


def hostile_tape(path: Path) -> None:
    writer = TapeWriter(path)
    market = MarketInfo("0xc", "Will it?", "will-it", (Outcome(YES, "Yes"), Outcome(NO, "No")))
    writer.write_markets([market], 1000.0)
    writer.write_frame(book_frame(YES, 1, "0.40", "0.42"), 1000.1, "rest")
    writer.write_frame(book_frame(NO, 1, "0.58", "0.60"), 1000.1, "rest")
    for i, raw in enumerate(HOSTILE):
        writer.write_frame(raw, 1001.0 + i, "ws")
    writer.write_frame(book_frame(YES, 2, "0.41", "0.43"), 1010.0, "ws")
    writer.close()
    # A record whose frame is no string at all (a .zst tape reads concatenated frames).
    line = b'{"t": 1011.0, "src": "ws", "frame": {"event_type": "book"}}\n'
    with path.open("ab") as fh:
        fh.write(zstandard.ZstdCompressor().compress(line) if path.suffix == ".zst" else line)


@pytest.mark.parametrize("name", ["hostile.jsonl", "hostile.jsonl.zst"])
def test_book_counts_hostile_frames_and_goes_on(tmp_path: Path, name: str) -> None:
    tape = tmp_path / name
    hostile_tape(tape)
    result = run(["book", str(tape), "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    doc = json.loads(result.stdout)
    books = {b["asset_id"]: b for b in doc["books"]}
    assert (books[YES]["best_bid"], books[YES]["best_ask"]) == ("0.41", "0.43")
    assert books[YES]["last_trade_price"] is None
    assert books[YES]["tick_size"] == "0.01"
    assert sum(doc["problems"].values()) == len(HOSTILE) + 1
    assert len(result.stderr.splitlines()) == len(HOSTILE) + 1


def test_backtest_counts_hostile_frames_and_goes_on(tmp_path: Path) -> None:
    tape = tmp_path / "hostile.jsonl"
    hostile_tape(tape)
    result = run(["backtest", "--tape", str(tape), "--json", "--no-progress"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    summary = json.loads(result.stdout)
    assert summary["state"] == "stopped"
    assert summary["bad_frames"] == len(HOSTILE) + 1
    assert summary["books"] == 2


@pytest.mark.parametrize("name", ["empty.jsonl", "empty.jsonl.zst"])
def test_an_empty_recording_is_refused_by_book_and_backtest(tmp_path: Path, name: str) -> None:
    empty = tmp_path / name
    empty.write_bytes(b"")
    for args in (["book", str(empty)], ["backtest", "--tape", str(empty), "--no-progress"]):
        result = run(args, tmp_path)
        assert result.returncode == 2, args
        [line] = result.stderr.splitlines()
        assert line.startswith("polyterm: error: ")
        assert "no frames (an empty recording?)" in line

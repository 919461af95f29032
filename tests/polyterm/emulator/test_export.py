"""Synthetic tapes: export_tape writes what the market WS would send, reproducibly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.adapters.polymarket.books import BookStore
from engine.adapters.tape.tape import read_tape
from engine.clock import SimClock
from engine.market.markets import market_from_json
from polyterm.emulator.export import DEFAULT_START, export_tape
from polyterm.emulator.server import EmulatorOptions, build_exchange


def test_same_arguments_same_bytes(tmp_path: Path) -> None:
    a = export_tape(tmp_path / "a.jsonl", seed=4, markets=3, duration_s=20)
    b = export_tape(tmp_path / "b.jsonl", seed=4, markets=3, duration_s=20)
    c = export_tape(tmp_path / "c.jsonl", seed=5, markets=3, duration_s=20)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.jsonl").read_bytes() != (tmp_path / "c.jsonl").read_bytes()
    assert {k: v for k, v in a.items() if k != "tape"} == {
        k: v for k, v in b.items() if k != "tape"
    }
    assert c["seed"] == 5


def test_zstd_tapes_are_reproducible_and_readable(tmp_path: Path) -> None:
    plain = export_tape(tmp_path / "t.jsonl", seed=1, markets=2, duration_s=10)
    zst = export_tape(tmp_path / "t.jsonl.zst", seed=1, markets=2, duration_s=10)
    again = export_tape(tmp_path / "u.jsonl.zst", seed=1, markets=2, duration_s=10)
    assert (tmp_path / "t.jsonl.zst").read_bytes() == (tmp_path / "u.jsonl.zst").read_bytes()
    assert (tmp_path / "t.jsonl.zst").read_bytes()[:4] == b"\x28\xb5\x2f\xfd"  # zstd magic
    assert zst["frames"] == plain["frames"] == again["frames"]
    assert list(read_tape(tmp_path / "t.jsonl.zst")) == list(read_tape(tmp_path / "t.jsonl"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.jsonl", "t.jsonl.zst", "u.jsonl.zst"]


def test_tape_layout_and_summary(tmp_path: Path) -> None:
    path = tmp_path / "tape.jsonl"
    start = 1_800_000_000.0
    summary = export_tape(path, seed=9, markets=2, duration_s=5.0, step_seconds=0.25, start=start)
    records = list(read_tape(path))
    assert records[0].src == "markets"
    assert records[0].t == start
    assert records[0].markets is not None
    markets = [market_from_json(m) for m in records[0].markets]
    tokens = [t for m in markets for t in m.token_ids]
    assert len(tokens) == 4
    rest = records[1:5]
    assert [r.src for r in rest] == ["rest"] * 4
    for record, token in zip(rest, tokens, strict=True):
        assert record.t == start
        assert record.frame is not None
        (book,) = json.loads(record.frame)  # a POST /books answer: a list of books
        assert book["asset_id"] == token
        assert "event_type" not in book
        assert book["timestamp"] == str(int(start * 1000))
    ws = records[5:]
    assert ws
    assert all(r.src == "ws" for r in ws)
    times = [r.t for r in ws]
    assert times == sorted(set(times))
    assert start < times[0]
    assert times[-1] <= start + 5.0
    messages = 4
    for record in ws:
        assert record.frame is not None
        frame = json.loads(record.frame)
        assert isinstance(frame, list)
        assert frame
        assert (record.t - start) / 0.25 == pytest.approx(round((record.t - start) / 0.25))
        assert {e["timestamp"] for e in frame} == {str(int(record.t * 1000))}
        messages += len(frame)
    assert summary == {
        "tape": str(path),
        "frames": len(records) - 1,
        "messages": messages,
        "markets": 2,
        "seconds": 5.0,
        "seed": 9,
    }


def test_replaying_the_tape_rebuilds_the_emulator_books(tmp_path: Path) -> None:
    """The engine's book builder, fed the tape, ends where the exchange itself ended."""
    path = tmp_path / "tape.jsonl"
    export_tape(path, seed=12, markets=3, duration_s=30.0, events_per_second=25.0)
    store = BookStore()
    for record in read_tape(path):
        if record.frame is not None:
            store.apply_frame(record.frame)
    assert not store.problems
    assert not store.needs_snapshot

    clock = SimClock(DEFAULT_START)
    exchange, flow = build_exchange(
        EmulatorOptions(seed=12, markets=3, events_per_second=25.0), clock
    )
    for i in range(1, 301):
        clock.advance_to(round(DEFAULT_START + i * 0.1, 6))
        flow.step(0.1)
    for market in exchange.markets:
        for book in (market.yes, market.no):
            rebuilt = store.books[book.asset_id]
            assert rebuilt.bid_sizes == book.bid_sizes
            assert rebuilt.ask_sizes == book.ask_sizes
            assert rebuilt.tick == book.tick
            assert rebuilt.hash == book.hash


@pytest.mark.parametrize(
    "kwargs",
    [
        {"duration_s": 0.0},
        {"duration_s": float("inf")},
        {"duration_s": 5.0, "step_seconds": 0.0},
        {"duration_s": 5.0, "markets": 0},
    ],
)
def test_bad_arguments_leave_no_file(tmp_path: Path, kwargs: dict[str, float]) -> None:
    args: dict[str, float] = {"markets": 2, **kwargs}
    with pytest.raises(ValueError, match="must be"):
        export_tape(
            tmp_path / "x.jsonl",
            seed=1,
            markets=int(args["markets"]),
            duration_s=args["duration_s"],
            step_seconds=args.get("step_seconds", 0.1),
        )
    assert list(tmp_path.iterdir()) == []


def test_a_failed_export_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from polyterm.emulator import export

    def boom(events: object) -> bytes:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(export, "encode_frame", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        export_tape(tmp_path / "x.jsonl.zst", seed=1, markets=1, duration_s=5)
    assert list(tmp_path.iterdir()) == []

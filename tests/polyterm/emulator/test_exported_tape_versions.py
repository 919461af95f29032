"""A session the emulator exports, replayed from tape format version 1 and version 2:
the same books and the same ledger (version 1 kept every frame as a JSON string)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from engine.adapters.polymarket.books import BookStore
from engine.adapters.tape.tape import read_tape
from engine.clock import SimClock
from engine.config import EngineConfig
from engine.ledger.writer import SqliteLedger
from engine.runtime.backtest import replay_records
from engine.runtime.kernel import build_engine, replay_health
from polyterm.emulator.export import export_tape


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

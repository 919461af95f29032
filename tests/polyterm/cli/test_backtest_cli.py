"""`polyterm backtest` and `polyterm exchange --export-tape`, run as a user would."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.kit.process import run

pytestmark = pytest.mark.integration


def test_export_a_tape_then_backtest_it_twice_identically(tmp_path: Path) -> None:
    tape = tmp_path / "synthetic.jsonl.zst"
    made = run(
        ["exchange", "--export-tape", str(tape), "--duration", "90", "--markets", "5"],
        tmp_path,
    )
    assert made.returncode == 0, made.stderr
    info = json.loads(made.stdout)
    assert info["frames"] > 0
    summaries = []
    for name in ("a", "b"):
        result = run(
            ["backtest", "--tape", str(tape), "--json", "--ledger", str(tmp_path / f"{name}.db")],
            tmp_path,
            STRATEGIES_MEAN_REVERSION_WINDOW="8",
            STRATEGIES_MEAN_REVERSION_ENTRY_Z="1.0",
            STRATEGY_ENTRY_COOLDOWN_S="1",
        )
        assert result.returncode == 0, result.stderr
        summaries.append(json.loads(result.stdout.strip().splitlines()[-1]))
    first, second = summaries
    assert first["state"] == "stopped"
    assert first["venue"] == "backtest"
    assert first["messages"] == info["messages"]
    assert first["records"] == info["frames"] + 1  # the markets line
    for key in ("orders", "fills", "cash", "equity", "realized_pnl", "fees"):
        assert first[key] == second[key], key
    assert (tmp_path / "a.db").read_bytes() == (tmp_path / "b.db").read_bytes()
    fills = sqlite3.connect(tmp_path / "a.db").execute("SELECT count(*) FROM fills").fetchone()
    assert fills[0] == first["fills"]


def test_backtest_input_errors_are_one_line(tmp_path: Path) -> None:
    missing = run(["backtest", "--tape", str(tmp_path / "nope.jsonl")], tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        f"polyterm: error: --tape {tmp_path / 'nope.jsonl'}: no such file "
        "(record one with `polyterm record`)"
    ]
    tape = tmp_path / "t.jsonl"
    tape.write_text('{"t": 1, "src": "ws", "frame": "{}"}\n')
    taken = tmp_path / "taken.db"
    taken.write_bytes(b"x")
    again = run(["backtest", "--tape", str(tape), "--ledger", str(taken)], tmp_path)
    assert again.returncode == 2
    assert len(again.stderr.strip().splitlines()) == 1
    assert "already exists" in again.stderr
    usage = run(["backtest"], tmp_path)
    assert usage.returncode == 2
    assert len(usage.stderr.strip().splitlines()) == 1

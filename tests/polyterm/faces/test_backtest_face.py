"""The backtest face (`polyterm backtest`): the same tape and configuration give the same
ledger file, byte for byte."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from polyterm.faces.backtest import BacktestOptions, run_backtest
from polyterm.settings.config import AppConfig


async def test_two_backtests_of_one_tape_write_identical_ledgers(tmp_path: Path) -> None:
    from polyterm.emulator.export import export_tape

    tape = tmp_path / "synthetic.jsonl"
    export_tape(tape, seed=3, markets=6, duration_s=120.0, events_per_second=20.0)
    app = AppConfig.model_validate(
        {
            "engine": {
                "strategy": {"entry_cooldown_s": 1},
                # Every strategy on: their state must replay exactly too.
                "strategies": {"mean_reversion": {"params": {"window": 8, "entry_z": 1.0}}},
                "paper": {"latency_ms": 50, "latency_jitter_ms": 40},
            }
        }
    )
    out = tmp_path / "out.txt"
    for name in ("a", "b"):
        with out.open("w") as fh:
            code = await run_backtest(
                app,
                BacktestOptions((tape,), tmp_path / f"{name}.sqlite", seed=5, progress=False),
                fh,
            )
        assert code == 0
    a = (tmp_path / "a.sqlite").read_bytes()
    assert a == (tmp_path / "b.sqlite").read_bytes()
    fills = sqlite3.connect(tmp_path / "a.sqlite").execute("SELECT count(*) FROM fills").fetchone()
    assert fills[0] > 0, "the tape should make the strategy trade"

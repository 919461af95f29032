"""A sweep of 3 variants with --jobs 2 and the same sweep on a local Dask cluster give
the same ledgers, row for row; the folder holds one ledger per variant and nothing else."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from polyterm.emulator.export import export_tape
from tests.kit.ledgers import OFFLINE_ENV
from tests.kit.process import run

pytestmark = pytest.mark.integration

SWEEP = "strategies.mean_reversion.params.entry_z=0.8,1.0,1.2"
TABLES = (
    "runs",
    "orders",
    "order_events",
    "fills",
    "exits",
    "positions",
    "signals",
    "risk_events",
    "settlements",
    "kill_switch",
    "baskets",
)


def rows(ledger: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(ledger)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in TABLES}
    finally:
        conn.close()


def sweep(tape: Path, folder: Path, tmp_path: Path, *how: str) -> dict[str, object]:
    result = run(
        [
            "backtest",
            "--tape",
            str(tape),
            "--sweep",
            SWEEP,
            *how,
            "--ledger-dir",
            str(folder),
            "--json",
            "--no-progress",
        ],
        tmp_path,
        timeout=300,
        **OFFLINE_ENV,
    )
    assert result.returncode == 0, result.stderr
    assert "distributed" not in result.stderr, result.stderr  # no cluster chatter
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_jobs_and_a_local_cluster_give_the_same_ledgers(tmp_path: Path) -> None:
    tape = tmp_path / "tape.jsonl.zst"
    export_tape(tape, seed=7, markets=5, duration_s=120)
    local = sweep(tape, tmp_path / "jobs", tmp_path, "--jobs", "2")
    cluster = sweep(tape, tmp_path / "cluster", tmp_path, "--cluster", "local", "--jobs", "2")
    names = [f"variant-0{i}.sqlite" for i in (1, 2, 3)]
    for folder in ("jobs", "cluster"):
        assert sorted(p.name for p in (tmp_path / folder).iterdir()) == names
    for name in names:
        assert rows(tmp_path / "jobs" / name) == rows(tmp_path / "cluster" / name), name
    table = local["tables"]["variants"]  # type: ignore[index]
    assert [r["strategies.mean_reversion.params.entry_z"] for r in table] == ["0.8", "1.0", "1.2"]
    assert [r["trades"] for r in table] == [
        r["trades"]
        for r in cluster["tables"]["variants"]  # type: ignore[index]
    ]
    configs = [rows(tmp_path / "jobs" / n)["runs"][0][5] for n in names]
    assert [
        json.loads(c)["strategies"]["mean_reversion"]["params"]["entry_z"] for c in configs
    ] == [0.8, 1.0, 1.2]

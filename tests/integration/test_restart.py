"""kill -9 of a headless run, then a restart on the same ledger (real processes).

Every fill the first run showed (its status file) is on disk exactly once; the restart
resumes the same paper account, and positions equal the sum of the fills.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from tests.kit.process import environ

pytestmark = pytest.mark.integration

ENV = {
    # Mean reversion alone: these runs test risk and restarts, not the other strategies.
    "STRATEGIES_MOMENTUM_SCALPING_ENABLED": "false",
    "STRATEGIES_EVENT_DRIVEN_ENABLED": "false",
    "STRATEGIES_MICRO_ARBITRAGE_ENABLED": "false",
    "STRATEGIES_CROSS_MARKET_ARBITRAGE_ENABLED": "false",
    "STRATEGIES_MEAN_REVERSION_WINDOW": "6",
    "STRATEGIES_MEAN_REVERSION_ENTRY_Z": "0.8",
    "STRATEGIES_MEAN_REVERSION_SAMPLE_INTERVAL_S": "0.1",
    "STRATEGY_ENTRY_COOLDOWN_S": "0.5",
}


def start(tmp_path: Path, ledger: Path, status: Path, *extra: str) -> subprocess.Popen[str]:
    env = environ(tmp_path, **ENV)
    return subprocess.Popen(
        [sys.executable, "-m", "polyterm", "--offline", "--no-ui", "--json", "--markets", "8"]
        + ["--ledger", str(ledger), "--status-file", str(status), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_status(path: Path) -> dict[str, object] | None:
    try:
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def test_kill_9_then_restart_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    status = tmp_path / "status.json"
    proc = start(tmp_path, ledger, status)
    shown = 0
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            snap = read_status(status)
            if snap is not None and int(snap["fills"]) >= 4:  # type: ignore[call-overload]
                shown = int(snap["fills"])  # type: ignore[call-overload]
                break
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.2)
        assert shown, "the run never showed a fill"
        # The status file may move on between our read and the kill: read it once more
        # right before, then kill without any chance to clean up.
        snap = read_status(status) or {}
        shown = max(shown, int(snap.get("fills", 0)))  # type: ignore[call-overload]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)

    db = sqlite3.connect(ledger)
    ids = [r[0] for r in db.execute("SELECT fill_id FROM fills WHERE run_id = 1")]
    assert len(ids) >= shown, "a fill the run showed is not on disk"
    assert len(ids) == len(set(ids)), "a fill is on disk twice"
    db.close()

    # Restart on the same ledger: the account resumes, orphaned orders are closed.
    again = start(tmp_path, ledger, status, "--duration", "4")
    out, err = again.communicate(timeout=90)
    assert again.returncode == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["run_id"] == 2
    final = read_status(status)  # the final snapshot reached the status file
    assert final is not None
    assert final["state"] == "stopped"
    assert final["fills"] == summary["fills"]
    db = sqlite3.connect(ledger)
    ids = [r[0] for r in db.execute("SELECT fill_id FROM fills")]
    assert len(ids) == len(set(ids))
    held: dict[str, int] = defaultdict(int)
    for asset, side, size in db.execute("SELECT asset_id, side, size FROM fills"):
        held[asset] += size if side == "BUY" else -size
    for asset, shares in db.execute("SELECT asset_id, shares FROM settlements"):
        held[asset] -= shares
    positions = dict(db.execute("SELECT asset_id, shares FROM positions").fetchall())
    for asset, shares in held.items():
        assert positions.get(asset, 0) == shares, asset
    open_orders = db.execute(
        "SELECT count(*) FROM orders WHERE status IN ('new', 'live', 'partially_filled')"
    ).fetchone()[0]
    assert open_orders == 0
    # Cash carried over: the second run started from the first run's account.
    cash_flow = 0
    for side, price, size, fee in db.execute("SELECT side, price, size, fee FROM fills"):
        cash_flow += (-price * size if side == "BUY" else price * size) - fee
    for (cash,) in db.execute("SELECT cash FROM settlements"):
        cash_flow += cash
    from decimal import Decimal

    assert Decimal(summary["cash"]) == Decimal(1000) + Decimal(cash_flow).scaleb(-10)

"""`polyterm ledger` against a ledger a real headless run is writing: backups taken
meanwhile are whole and consistent, the run never notices; vacuum and migrate wait for
the run to end; check reads throughout."""

from __future__ import annotations

import json
import signal
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from tests.kit.ctl import TRADING_ENV, wait_status
from tests.kit.process import POLYTERM, environ

pytestmark = pytest.mark.integration


def _ledger_cmd(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*POLYTERM, "ledger", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_backups_while_a_run_writes_are_consistent_and_vacuum_waits(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    env = environ(tmp_path, POLYTERM_RUNTIME_DIR=str(tmp_path / "run"), **TRADING_ENV)
    proc = subprocess.Popen(
        [*POLYTERM, "--no-ui", "--json", "--markets", "8", "--ledger", str(ledger)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        umask=0o022,
    )
    backups = []
    try:
        wait_status(env, lambda s: s["fills"] >= 2)
        for i in range(3):
            dest = tmp_path / f"b{i}.sqlite"
            done = _ledger_cmd(["backup", "--ledger", str(ledger), str(dest)], env)
            assert done.returncode == 0, done.stderr
            assert f"to {dest}" in done.stdout
            backups.append(dest)
        # check reads while the run writes; vacuum and migrate are refused, one line each.
        checked = _ledger_cmd(["check", "--ledger", str(ledger), "--json"], env)
        assert checked.returncode == 0, checked.stdout
        assert json.loads(checked.stdout)["ok"] is True
        for command in ("vacuum", "migrate"):
            refused = _ledger_cmd([command, "--ledger", str(ledger)], env)
            assert refused.returncode == 2
            assert refused.stderr.count("\n") == 1
            assert "is running on it; stop it first" in refused.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    summary = json.loads(out.strip().splitlines()[-1])
    with sqlite3.connect(ledger) as db:  # the run lost nothing to the backups
        assert db.execute("SELECT count(*) FROM fills").fetchone() == (summary["fills"],)
    counts = []
    for copy in backups:
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        report = _ledger_cmd(["check", "--ledger", str(copy)], env)
        assert report.returncode == 0, report.stdout
        assert "positions: every position equals its fills" in report.stdout
        with sqlite3.connect(copy) as db:
            counts.append(db.execute("SELECT count(*) FROM fills").fetchone()[0])
    assert counts == sorted(counts)
    assert counts[-1] <= summary["fills"]
    vacuumed = _ledger_cmd(["vacuum", "--ledger", str(ledger)], env)
    assert vacuumed.returncode == 0, vacuumed.stderr
    assert _ledger_cmd(["check", "--ledger", str(ledger)], env).returncode == 0


def test_backup_defaults_to_the_data_dirs_backups_and_never_overwrites(tmp_path: Path) -> None:
    env = environ(tmp_path)
    ledger = tmp_path / "data" / "ledger.sqlite"
    run = subprocess.run(
        [*POLYTERM, "--no-ui", "--duration", "3", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert ledger.exists()  # the default ledger, found by the command with no --ledger
    done = _ledger_cmd(["backup"], env)
    assert done.returncode == 0, done.stderr
    (copy,) = (tmp_path / "data" / "backups").iterdir()
    assert copy.name.startswith("ledger-")
    assert copy.suffix == ".sqlite"
    assert stat.S_IMODE(copy.parent.stat().st_mode) == 0o700
    again = _ledger_cmd(["backup", "--ledger", str(ledger), str(copy)], env)
    assert again.returncode == 2
    assert (
        again.stderr
        == f"polyterm: error: {copy} exists; pass a new path (a backup never overwrites)\n"
    )
    missing = _ledger_cmd(["check", "--ledger", str(tmp_path / "nope.sqlite")], env)
    assert missing.returncode == 2
    assert "no ledger at" in missing.stderr

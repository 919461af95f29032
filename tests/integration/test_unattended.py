"""Headless runs as a supervisor sees them (real processes): two runs on one ledger, a
ledger that fails under a run, a feed that stalls, and the modes of what a run leaves.

Issue 15, defects 1, 9, 10 and 11.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import time
from pathlib import Path

import pytest

from engine.config.feed import FeedConfig
from polyterm.faces.status import EVERY_S as STATUS_EVERY_S
from tests.kit.runs import (
    BUSY,
    exchange,
    fault,
    finish,
    read_status,
    start,
    venue_env,
    wait_status,
)

pytestmark = pytest.mark.integration


def running(status: dict[str, object]) -> bool:
    messages = status.get("messages")
    return status.get("state") == "running" and isinstance(messages, int) and messages > 0


def test_a_second_run_on_a_ledger_is_refused_and_the_first_goes_on(tmp_path: Path) -> None:
    ledger = tmp_path / "s.sqlite"
    status = tmp_path / "status.json"
    common = ["--no-ui", "--json", "--markets", "4", "--ledger", str(ledger)]
    first = start(tmp_path, *common, "--duration", "60", "--status-file", str(status), **BUSY)
    try:
        wait_status(status, running, first)
        # The same ledger and the same status file: refused before touching either.
        second = start(tmp_path, *common, "--duration", "5", "--status-file", str(status))
        code, out, err = finish(second)
        assert code == 2
        assert out == ""
        assert err.splitlines() == [
            f"polyterm: error: ledger {ledger} is in use by another polyterm "
            f"(pid {first.pid}); stop it first, or pass another --ledger"
        ]
        after = read_status(status)
        assert after is not None
        assert (after["pid"], after["state"]) == (first.pid, "running")
        first.send_signal(signal.SIGINT)
        code, _, err = finish(first)
        assert code == 130, err
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate(timeout=30)
    with sqlite3.connect(ledger) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone() == (1,)
    # The account resumes: one run wrote it, so its positions are its fills.
    code, _, err = finish(start(tmp_path, *common, "--duration", "2"))
    assert code == 0, err


def test_a_ledger_failure_is_failed_in_the_status_file_and_one_line(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    status = tmp_path / "status.json"
    run = start(
        tmp_path,
        *["--no-ui", "--json", "--markets", "4", "--duration", "120"],
        *["--ledger", str(ledger), "--status-file", str(status)],
        **BUSY,
    )
    holder = sqlite3.connect(ledger, isolation_level=None, timeout=30)
    try:
        wait_status(status, running, run)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        code, out, err = finish(run)
    finally:
        holder.close()
        if run.poll() is None:
            run.kill()
            run.communicate(timeout=30)
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"polyterm: error: ledger {ledger} stopped writing: ")
    assert "database is locked" in lines[0]
    doc = read_status(status)
    assert doc is not None
    assert doc["state"] == "failed"
    assert "database is locked" in str(doc["error"])


def test_a_feed_stall_shows_in_the_status_file_while_it_lasts(tmp_path: Path) -> None:
    status = tmp_path / "status.json"
    with exchange(tmp_path, "--markets", "4") as urls:
        run = start(
            tmp_path,
            *["--online", "--no-ui", "--json", "--markets", "4", "--duration", "120"],
            *["--ledger", str(tmp_path / "l.sqlite"), "--status-file", str(status)],
            **venue_env(urls),
        )
        try:
            live = wait_status(status, lambda s: running(s) and s["feed_source"] == "ws_live", run)
            assert isinstance(live["last_message_age_s"], float)
            stale_after = float(FeedConfig().ws_stale_after_s)
            stall_s = 3 * stale_after  # long enough that only the stall can end it
            fault(urls, ws_stall=stall_s)
            stalled_at = time.monotonic()
            stale = wait_status(status, lambda s: s["feed_source"] == "ws_stale", run)
            assert time.monotonic() - stalled_at < stall_s, "the stall never showed"
            # The first document that says ws_stale says it within ws_stale_after_s of
            # the last message, plus one status write (and a second for a loaded box):
            # the engine's own count of silence, so the test's polling adds nothing. The
            # old bug showed it only after ~22 s.
            age = stale["last_message_age_s"]
            assert isinstance(age, float)
            assert stale_after <= age <= stale_after + STATUS_EVERY_S + 1.0
            run.send_signal(signal.SIGINT)
            code, _, err = finish(run)
            assert code == 130, err
        finally:
            if run.poll() is None:
                run.kill()
                run.communicate(timeout=30)


def test_what_a_run_leaves_is_private_under_umask_022(tmp_path: Path) -> None:
    status = tmp_path / "status.json"
    data = tmp_path / "data"
    proc = start(
        tmp_path,
        *["--no-ui", "--json", "--markets", "2", "--duration", "3", "--status-file", str(status)],
        preexec=lambda: os.umask(0o022),
    )
    code, _, err = finish(proc)
    assert code == 0, err
    files = {p: stat.S_IMODE(p.stat().st_mode) for p in data.rglob("*")}
    assert files, "the run left no ledger"
    loose = {str(p): oct(m) for p, m in files.items() if m != (0o700 if p.is_dir() else 0o600)}
    assert loose == {}
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE(status.stat().st_mode) == 0o600


def test_a_ledger_that_refuses_the_runs_first_row_ends_the_run(tmp_path: Path) -> None:
    """Defect 6's hang: a ledger error at start (there, an INTEGER overflow; here, the
    write lock held elsewhere) left the reporter waiting for ever; --duration never ended."""
    ledger = tmp_path / "l.sqlite"
    code, _, err = finish(start(tmp_path, "--no-ui", "--duration", "1", "--ledger", str(ledger)))
    assert code == 0, err
    holder = sqlite3.connect(ledger, isolation_level=None, timeout=30)
    try:
        holder.execute("BEGIN IMMEDIATE")
        status = tmp_path / "status.json"
        args = ["--no-ui", "--duration", "3", "--ledger", str(ledger), "--status-file", str(status)]
        code, _, err = finish(start(tmp_path, *args), timeout=60)
    finally:
        holder.close()
    assert code == 2
    [line] = err.splitlines()
    assert "database is locked" in line
    doc = read_status(status)
    assert doc is not None
    assert doc["state"] == "failed"

"""Ledger care on real SQLite files: a backup is whole, checked and private; vacuum and
migrate never run under a writer; check finds what is wrong and names it."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.ledger.errors import LedgerError
from engine.ledger.maintenance import backup, check, migrate, peek_version, vacuum
from engine.ledger.schema import SCHEMA_VERSION, create_v4
from engine.ledger.schema import migrate as migrate_schema

TOKEN_A, TOKEN_B = "111", "222"


def _ledger(path: Path) -> Path:
    """A current ledger with one run: A bought 10 and sold 4, B bought 5 and settled."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    migrate_schema(conn, path)
    conn.execute(
        "INSERT INTO runs (id, started_at, mode, venue, config_json) VALUES (1, 0, 'paper', "
        "'emulator', '{}')"
    )
    fills = [
        ("f1", TOKEN_A, "BUY", 10_000_000),
        ("f2", TOKEN_A, "SELL", 4_000_000),
        ("f3", TOKEN_B, "BUY", 5_000_000),
    ]
    for fill_id, asset, side, size in fills:
        conn.execute(
            "INSERT INTO fills (fill_id, run_id, order_id, at, asset_id, market, side, price,"
            " size, fee, liquidity, strategy, reason) VALUES (?, 1, 'o', 1.0, ?, 'm', ?, 5000,"
            " ?, 0, 'taker', 's', 'r')",
            (fill_id, asset, side, size),
        )
    conn.execute(
        "INSERT INTO settlements (run_id, at, asset_id, market, shares, payout_price, cash,"
        " realized) VALUES (1, 2.0, ?, 'm', 5000000, 10000, 0, 0)",
        (TOKEN_B,),
    )
    for asset, shares in ((TOKEN_A, 6_000_000), (TOKEN_B, 0)):
        conn.execute(
            "INSERT INTO positions (asset_id, market, shares, cost, realized, fees, updated_at)"
            " VALUES (?, 'm', ?, 0, 0, 0, 2.0)",
            (asset, shares),
        )
    conn.close()
    return path


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_sound_ledger_passes_every_check(tmp_path: Path) -> None:
    report = check(_ledger(tmp_path / "l.sqlite"))
    assert report.ok, report.problems
    assert report.schema_version == SCHEMA_VERSION
    assert any(line.startswith("positions:") for line in report.passed)
    assert report.notes == [
        "runs without an end: 1 (the one running now, or a run that was killed)"
    ]


def test_check_names_a_position_that_disagrees_with_its_fills(tmp_path: Path) -> None:
    # What two writers on one ledger left behind: a position its fills do not add up to.
    path = _ledger(tmp_path / "l.sqlite")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE positions SET shares = 0 WHERE asset_id = ?", (TOKEN_A,))
    report = check(path)
    assert not report.ok
    assert report.problems == [
        f"positions: token {TOKEN_A} holds 0 shares but its fills and settlements come to 6"
    ]


def test_check_reports_a_damaged_file_as_a_problem(tmp_path: Path) -> None:
    path = _ledger(tmp_path / "l.sqlite")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'fills_run'"
        ).fetchone()
    with open(path, "r+b") as fh:  # scribble over an index's root page
        fh.seek((root - 1) * page_size)
        fh.write(b"\xff" * page_size)
    report = check(path)
    assert not report.ok
    assert report.problems[0] == "integrity: database disk image is malformed"
    with pytest.raises(LedgerError, match="malformed"):
        backup(path, tmp_path / "b.sqlite")
    assert list(tmp_path.glob("*b.sqlite*")) == []  # no partial copy left behind


def test_check_and_backup_refuse_what_is_not_a_ledger(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(LedgerError, match="not a polyterm ledger"):
        check(other)
    with pytest.raises(LedgerError, match="not a polyterm ledger"):
        backup(other, tmp_path / "copy.sqlite")
    with pytest.raises(LedgerError, match="no ledger at"):
        check(tmp_path / "missing.sqlite")
    assert not (tmp_path / "copy.sqlite").exists()


@pytest.mark.usefixtures("umask_022")
def test_a_backup_is_a_whole_private_single_file_ledger(tmp_path: Path) -> None:
    source = _ledger(tmp_path / "l.sqlite")
    result = backup(source, tmp_path / "b.sqlite")
    assert result.path == tmp_path / "b.sqlite"
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("b.")) == ["b.sqlite"]
    with sqlite3.connect(result.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert conn.execute("SELECT count(*) FROM fills").fetchone() == (3,)
    assert check(result.path).ok
    with pytest.raises(LedgerError, match="exists"):
        backup(source, result.path)


def test_a_backup_sees_only_committed_rows_while_a_writer_holds_a_transaction(
    tmp_path: Path,
) -> None:
    source = _ledger(tmp_path / "l.sqlite")
    writer = sqlite3.connect(source, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a run in the middle of a batch
    writer.execute("UPDATE positions SET shares = 0")
    try:
        result = backup(source, tmp_path / "b.sqlite")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert check(result.path).ok  # the half-written batch is not in the copy


def test_vacuum_and_migrate_are_refused_while_the_writer_lock_is_held(tmp_path: Path) -> None:
    path = _ledger(tmp_path / "l.sqlite")
    lock = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    os.write(lock, b"4242\n")
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        with pytest.raises(LedgerError, match=r"in use by a running polyterm \(pid 4242\)"):
            vacuum(path)
        with pytest.raises(LedgerError, match="pid 4242"):
            migrate(path)
    finally:
        os.close(lock)
    assert vacuum(path).bytes_after > 0


def test_vacuum_and_migrate_take_the_writers_own_lock_and_leave_no_lock_file(
    tmp_path: Path,
) -> None:
    """They lock as a writer does: a link to a ledger a writer holds is refused too, and
    once done no ``.lock`` file is left beside the ledger (as a writer leaves none)."""
    from engine.ledger.lock import WriterLock, lock_path

    path = _ledger(tmp_path / "l.sqlite")
    link = tmp_path / "link.sqlite"
    link.symlink_to(path.name)
    held = WriterLock(path)
    held.acquire()
    try:
        with pytest.raises(
            LedgerError, match=rf"in use by a running polyterm \(pid {os.getpid()}\)"
        ):
            vacuum(link)
    finally:
        held.release()
    vacuum(link)
    migrate(path)
    assert not lock_path(path).exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".lock") == []


def test_vacuum_gives_back_the_space_of_deleted_rows(tmp_path: Path) -> None:
    path = _ledger(tmp_path / "l.sqlite")
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO errors (run_id, at, source, message) VALUES (1, 0, 's', ?)",
            [("x" * 500,) for _ in range(2000)],
        )
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM errors")
    result = vacuum(path)
    assert result.bytes_after < result.bytes_before / 2
    assert check(path).ok


def test_migrate_brings_an_old_ledger_forward_once(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        create_v4(conn)
    assert peek_version(path) == 4
    assert (
        check(path).notes[0].startswith(f"schema 4 is older than this polyterm's {SCHEMA_VERSION}")
    )
    result = migrate(path)
    assert (result.found, result.now) == (4, SCHEMA_VERSION)
    assert check(path).ok
    again = migrate(path)
    assert (again.found, again.now) == (SCHEMA_VERSION, SCHEMA_VERSION)


def test_a_ledger_from_a_newer_polyterm_is_refused(tmp_path: Path) -> None:
    path = _ledger(tmp_path / "l.sqlite")
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    assert check(path).problems[-1].endswith("upgrade polyterm")
    with pytest.raises(LedgerError, match="newer polyterm"):
        backup(path, tmp_path / "b.sqlite")
    with pytest.raises(LedgerError, match="newer polyterm"):
        migrate(path)

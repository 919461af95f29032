"""A read of a ledger no writer holds leaves nothing beside it (SQLite's `immutable`: no
-wal/-shm); while a writer holds it, or a WAL still holds commits, it reads normally and
sees every commit."""

from __future__ import annotations

import shutil
from pathlib import Path

from engine.ledger.lock import WriterLock, lock_path
from engine.ledger.reader import LedgerReader
from engine.ledger.writer import SqliteLedger
from tests.kit.ledgers import drift_ledger


def _beside(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def test_a_read_of_a_ledger_no_writer_holds_leaves_no_journals(tmp_path: Path) -> None:
    path = drift_ledger(tmp_path / "l.sqlite")
    assert _beside(path) == ["l.sqlite"]
    reader = LedgerReader(path)
    assert [r.mode for r in reader.runs()] == ["live"]
    with reader.snapshot() as conn:
        assert conn.execute("SELECT count(*) FROM shadow_orders").fetchone() == (4,)
    assert _beside(path) == ["l.sqlite"]


async def test_a_read_while_a_writer_holds_the_ledger_sees_its_commits(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    writer = await SqliteLedger(path).open()
    try:
        await writer.start_run("paper", "t", "{}", 1.0, 10**12)
        await writer.flush()
        assert lock_path(path).exists()
        # Committed in the writer's WAL, not yet in the file: an immutable read would
        # not see the run.
        assert [r.id for r in LedgerReader(path).runs()] == [1]
    finally:
        await writer.close()


async def test_a_wal_left_with_commits_is_read_not_ignored(tmp_path: Path) -> None:
    """A writer killed before its checkpoint leaves commits in the WAL and no lock held."""
    path = tmp_path / "l.sqlite"
    writer = await SqliteLedger(path).open()
    try:
        await writer.start_run("paper", "t", "{}", 1.0, 10**12)
        await writer.flush()
        copy = tmp_path / "copy" / "c.sqlite"
        copy.parent.mkdir()
        shutil.copy(path, copy)
        shutil.copy(path.with_name("l.sqlite-wal"), copy.with_name("c.sqlite-wal"))
    finally:
        await writer.close()
    assert copy.with_name("c.sqlite-wal").stat().st_size > 0
    assert [r.id for r in LedgerReader(copy).runs()] == [1]


def test_a_held_lock_means_a_normal_read_even_with_no_wal(tmp_path: Path) -> None:
    """The writer may write at any moment: never an immutable read under its lock."""
    path = drift_ledger(tmp_path / "l.sqlite")
    lock = WriterLock(path)
    lock.acquire()
    try:
        assert [r.mode for r in LedgerReader(path).runs()] == ["live"]
        assert "l.sqlite-shm" in _beside(path)  # SQLite's own shared-memory index: a normal read
    finally:
        lock.release()

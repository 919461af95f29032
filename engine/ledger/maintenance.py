"""Ledger care: an online backup, vacuum, migrate and check.

- ``backup`` copies a ledger through SQLite's online backup API in one step: one read
  transaction, so the copy is the last committed state whole, and (WAL) it never blocks
  the run that writes meanwhile. The copy is written beside its destination under a
  temporary name, checked, switched to a single-file journal and only then renamed into
  place, so a path that exists is a whole, checked ledger. Created 0600.
- ``vacuum`` and ``migrate`` rewrite the file, so they take the writer's own lock
  (:class:`~engine.ledger.lock.WriterLock`) and are refused while a run holds it.
- ``check`` reads only (a read-only connection; never locked out by a writer): SQLite's
  integrity and foreign-key checks, the schema version, and that every position equals
  its fills net of settlements (the invariant two writers on one ledger broke).

Times and names are the caller's: nothing here reads a clock.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from engine.fixed import size_decimal
from engine.ledger.errors import LedgerError
from engine.ledger.lock import LedgerBusy, WriterLock
from engine.ledger.schema import SCHEMA_VERSION, has_tables, schema_version
from engine.ledger.schema import migrate as migrate_schema

FILE_MODE = 0o600
INTEGRITY_ERRORS = 20  # integrity_check stops after this many findings


def _uri(path: Path, mode: str) -> str:
    return path.resolve().as_uri() + f"?mode={mode}"


def _exists(path: Path) -> None:
    if not path.is_file():
        raise LedgerError(f"no ledger at {path}; pass the path of a polyterm ledger file")


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    _exists(path)
    try:
        conn = sqlite3.connect(_uri(path, "ro"), uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise LedgerError(f"cannot open ledger {path}: {exc}") from exc
    try:
        yield conn
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"cannot read ledger {path}: {exc}") from exc
    finally:
        conn.close()


def _ledger_version(conn: sqlite3.Connection, path: Path) -> int:
    version = schema_version(conn)
    if version == 0:
        what = "a database but not a polyterm ledger" if has_tables(conn) else "empty"
        raise LedgerError(f"{path} is {what}; pass the path of a polyterm ledger file")
    return version


@contextlib.contextmanager
def writer_lock(path: Path) -> Iterator[None]:
    """Hold the ledger's writer lock (the very one a running writer holds: the same file,
    symlinks followed, removed again on the way out) or raise LedgerError naming who
    holds it. Never waits."""
    lock = WriterLock(path)
    try:
        lock.acquire()
    except LedgerBusy as busy:
        holder = f"pid {busy.pid}" if busy.pid else "another process"
        raise LedgerError(
            f"ledger {path} is in use by a running polyterm ({holder}); stop it first"
        ) from None
    try:
        yield
    finally:
        lock.release()


# -- backup -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    schema_version: int
    pages: int
    bytes: int


def backup(source: Path, dest: Path) -> BackupResult:
    """Copy `source` to `dest` (which must not exist) while runs may write it."""
    if dest.exists():
        raise LedgerError(f"{dest} exists; pass a new path (a backup never overwrites)")
    if not dest.parent.is_dir():
        raise LedgerError(f"{dest.parent} is not a directory; create it or pass another path")
    partial = dest.with_name(f".{dest.name}.partial")
    with _read_only(source) as src:
        version = _ledger_version(src, source)
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"{source} was written by a newer polyterm (schema {version}); upgrade polyterm"
            )
        try:
            # SQLite gives a database's journals the database file's mode: make it private
            # before SQLite opens it.
            os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
        except OSError as exc:
            raise LedgerError(f"cannot write {partial}: {exc.strerror or exc}") from exc
        try:
            out = sqlite3.connect(partial, isolation_level=None)
            try:
                src.backup(out)  # all pages in one step: one consistent read transaction
                out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                problems = _integrity(out)
                if problems:
                    raise LedgerError(f"the copy of {source} failed its check: {problems[0]}")
                (pages,) = out.execute("PRAGMA page_count").fetchone()
            finally:
                out.close()
            with open(partial, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(partial, dest)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                partial.unlink()
            if isinstance(exc, sqlite3.Error | OSError):
                raise LedgerError(f"backup of {source} to {dest} failed: {exc}") from exc
            raise
    _fsync_dir(dest.parent)
    return BackupResult(dest, version, int(pages), dest.stat().st_size)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- vacuum and migrate ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class VacuumResult:
    bytes_before: int
    bytes_after: int


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-write connection to a ledger nobody writes (the writer lock held)."""
    _exists(path)
    with writer_lock(path):
        try:
            conn = sqlite3.connect(path, isolation_level=None, timeout=0.0)
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot open ledger {path}: {exc}") from exc
        try:
            yield conn
        except sqlite3.OperationalError as exc:
            raise LedgerError(f"ledger {path}: {exc}; is a polyterm still writing it?") from exc
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"ledger {path}: {exc}") from exc
        finally:
            conn.close()


def vacuum(path: Path) -> VacuumResult:
    """Rebuild the file without its free pages; refused while a run writes it."""
    before = _size(path)
    with _exclusive(path) as conn:
        version = _ledger_version(conn, path)
        if version != SCHEMA_VERSION:
            raise LedgerError(
                f"{path} is at schema {version}, this polyterm writes {SCHEMA_VERSION}: "
                + (
                    "run `polyterm ledger migrate` first"
                    if version < SCHEMA_VERSION
                    else "upgrade polyterm"
                )
            )
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return VacuumResult(before, _size(path))


@dataclass(frozen=True, slots=True)
class MigrateResult:
    found: int
    now: int


def migrate(path: Path) -> MigrateResult:
    """Bring the schema forward to this polyterm's (each step in its own transaction);
    refused while a run writes it. A ledger already current is left untouched."""
    with _exclusive(path) as conn:
        found = _ledger_version(conn, path)
        try:
            migrate_schema(conn, path)
        except ValueError as exc:
            raise LedgerError(f"cannot migrate ledger {path}: {exc}") from exc
        return MigrateResult(found, schema_version(conn))


def peek_version(path: Path) -> int:
    """The schema version of the ledger at `path` (read-only)."""
    with _read_only(path) as conn:
        return _ledger_version(conn, path)


# -- check ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CheckReport:
    path: Path
    schema_version: int
    problems: list[str] = field(default_factory=list)  # the ledger is wrong somewhere
    notes: list[str] = field(default_factory=list)  # worth knowing, not wrong
    passed: list[str] = field(default_factory=list)  # what was checked and held

    @property
    def ok(self) -> bool:
        return not self.problems


def _integrity(conn: sqlite3.Connection) -> list[str]:
    try:
        rows = conn.execute(f"PRAGMA integrity_check({INTEGRITY_ERRORS})").fetchall()
    except sqlite3.DatabaseError as exc:  # too damaged to walk: that is the finding
        return [str(exc)]
    findings = [str(r[0]) for r in rows]
    return [] if findings == ["ok"] else findings


_POSITIONS = """
WITH f AS (
    SELECT asset_id, SUM(CASE side WHEN 'BUY' THEN size ELSE -size END) AS net
    FROM fills GROUP BY asset_id),
s AS (SELECT asset_id, SUM(shares) AS settled FROM settlements GROUP BY asset_id),
a AS (SELECT asset_id FROM f UNION SELECT asset_id FROM s UNION SELECT asset_id FROM positions)
SELECT a.asset_id, COALESCE(f.net, 0) - COALESCE(s.settled, 0), COALESCE(p.shares, 0)
FROM a LEFT JOIN f USING (asset_id) LEFT JOIN s USING (asset_id)
    LEFT JOIN positions p USING (asset_id)
"""


def check(path: Path) -> CheckReport:
    """Everything that can be checked without writing; a running writer is no obstacle.
    A file too damaged to read further is a problem found, not an error."""
    with _read_only(path) as conn:
        version = _ledger_version(conn, path)
        report = CheckReport(path, version)
        conn.execute("BEGIN")  # one snapshot for every check below
        try:
            _check_sqlite(conn, report)
            if version < SCHEMA_VERSION:
                report.notes.append(
                    f"schema {version} is older than this polyterm's {SCHEMA_VERSION}: "
                    "`polyterm ledger migrate` brings it forward (a run would do it on start)"
                )
            elif version > SCHEMA_VERSION:
                report.problems.append(
                    f"schema {version} is newer than this polyterm's {SCHEMA_VERSION}: "
                    "upgrade polyterm"
                )
            else:
                report.passed.append(f"schema: version {version}, current")
            if 2 <= version <= SCHEMA_VERSION:
                _check_positions(conn, report)
                _check_runs(conn, report)
        except sqlite3.DatabaseError as exc:
            report.problems.append(f"unreadable: {exc} (restore a backup)")
        finally:
            conn.execute("ROLLBACK")
    return report


def _check_sqlite(conn: sqlite3.Connection, report: CheckReport) -> None:
    problems = _integrity(conn)
    if problems:
        report.problems.extend(f"integrity: {p}" for p in problems)
    else:
        report.passed.append("integrity: every page and index is sound")
    fk = conn.execute("PRAGMA foreign_key_check").fetchall()
    if fk:
        tables = sorted({str(r[0]) for r in fk})
        report.problems.append(
            f"foreign keys: {len(fk)} rows point at nothing (in {', '.join(tables)})"
        )
    else:
        report.passed.append("foreign keys: every row's run exists")


def _check_positions(conn: sqlite3.Connection, report: CheckReport) -> None:
    wrong = [
        (asset, expected, held)
        for asset, expected, held in conn.execute(_POSITIONS)
        if expected != held
    ]
    (tokens,) = conn.execute("SELECT count(DISTINCT asset_id) FROM fills").fetchone()
    (fills,) = conn.execute("SELECT count(*) FROM fills").fetchone()
    if not wrong:
        report.passed.append(
            f"positions: every position equals its fills net of settlements "
            f"({fills} fills over {tokens} tokens)"
        )
        return
    for asset, expected, held in wrong[:10]:
        report.problems.append(
            f"positions: token {asset} holds {size_decimal(held)} shares but its fills "
            f"and settlements come to {size_decimal(expected)}"
        )
    if len(wrong) > 10:
        report.problems.append(f"positions: {len(wrong) - 10} more tokens disagree")


def _check_runs(conn: sqlite3.Connection, report: CheckReport) -> None:
    (runs,) = conn.execute("SELECT count(*) FROM runs").fetchone()
    open_runs = [r for (r,) in conn.execute("SELECT id FROM runs WHERE ended_at IS NULL")]
    report.passed.append(f"runs: {runs} recorded")
    if open_runs:
        ids = ", ".join(str(r) for r in open_runs[-5:])
        report.notes.append(
            f"runs without an end: {ids} (the one running now, or a run that was killed)"
        )

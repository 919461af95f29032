"""One writer per ledger: an OS lock on ``<ledger>.lock``, held while the writer is open.

``flock`` belongs to the open file, so the kernel drops it when the process ends however
it ends: a restart after ``kill -9`` is never refused, and no stale lock is ever broken
by guesswork. The holder writes its pid into the file, so a second writer can say who
holds it. Readers (reports, ``book``, ``ctl``) never take it.

The lock is a file of its own rather than a lock on the database: SQLite's own POSIX
locks on the database file must never be disturbed (on NFS ``flock`` is emulated with
the same POSIX locks). A writer that closes removes its lock file while it still holds
the lock, so a folder of ledgers holds only ledgers; a writer that takes a lock checks
afterwards that its file is still the one at the path (it may have opened it just before
the holder removed it) and starts again if not. After kill -9 the file stays, unlocked.
The lock belongs to the file, not the name it was given: a symlink to a ledger takes the
lock of the file it points at. (Two hard links to one file are two names the lock cannot
tell apart: keep ledgers to one name.)
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
from pathlib import Path

from engine.files import FILE_MODE, private_dir
from engine.ledger.errors import LedgerError


class LedgerBusy(LedgerError):
    """Another process writes this ledger; the message names its pid and the fix."""

    def __init__(self, ledger: Path, pid: int | None) -> None:
        holder = f"pid {pid}" if pid else "another process"
        super().__init__(
            f"ledger {ledger} is in use by another polyterm ({holder}); stop it first, "
            "or pass another --ledger"
        )
        self.pid = pid


# A report probing whether a writer holds the lock takes it shared for an instant; a
# writer starting in that instant waits it out rather than refusing to start.
PROBE_GRACE_S = 0.1
PROBE_TRIES = 10


def lock_path(ledger: Path) -> Path:
    """The lock file of the ledger file `ledger` names: beside the file itself, symlinks
    followed, so one ledger reached by two names (a link and its target) has one lock."""
    target = ledger.resolve()
    return target.with_name(target.name + ".lock")


class WriterLock:
    """The exclusive writer lock of one ledger (not reentrant: one per open writer)."""

    def __init__(self, ledger: Path) -> None:
        self.ledger = ledger
        self.path = lock_path(ledger)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise :class:`LedgerBusy`. Waits only out a reader's probe (a
        shared lock held for microseconds, see ``engine.ledger.reader``): at most
        ``PROBE_GRACE_S``, never for another writer's lock."""
        if self._fd is not None:
            return
        private_dir(self.path.parent)
        tries = PROBE_TRIES
        while True:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                pid = _read_pid(fd)
                os.close(fd)
                busy = exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)
                if busy and tries > 0:
                    tries -= 1
                    time.sleep(PROBE_GRACE_S / PROBE_TRIES)
                    continue
                if busy:
                    raise LedgerBusy(self.ledger, pid) from None
                why = exc.strerror or exc
                raise LedgerError(
                    f"cannot lock ledger {self.ledger}: {why}; pass another --ledger"
                ) from exc
            if _still_at(fd, self.path):
                break
            os.close(fd)  # its holder removed it as we opened it: take the new one
        with contextlib.suppress(OSError):
            os.fchmod(fd, FILE_MODE)  # one left looser by an older version
        with contextlib.suppress(OSError):  # the pid is for the message only
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def _open(self) -> int:
        """The lock file, opened for reading and writing: a regular file of this user,
        never through a link (in a shared directory another user could put one there, to
        have its target truncated)."""
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
        try:
            fd = os.open(self.path, flags, FILE_MODE)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise LedgerError(
                    f"cannot lock ledger {self.ledger}: its lock file {self.path} is a symlink; "
                    "remove it, or pass another --ledger"
                ) from None
            raise LedgerError(
                f"cannot lock ledger {self.ledger}: {exc.strerror or exc} ({self.path}); "
                "pass another --ledger"
            ) from exc
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            os.close(fd)
            raise LedgerError(
                f"cannot lock ledger {self.ledger}: its lock file {self.path} is not a file of "
                "yours; remove it, or pass another --ledger"
            )
        return fd

    def release(self) -> None:
        """Drop the lock, removing its file first (while still held: a writer that opened
        it meanwhile sees it gone once it gets the lock, and opens the path afresh)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                if _still_at(fd, self.path):
                    os.unlink(self.path)
            os.close(fd)


def _still_at(fd: int, path: Path) -> bool:
    """Whether the open file `fd` is still the file at `path` (not removed or replaced)."""
    try:
        linked = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (linked.st_dev, linked.st_ino)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None

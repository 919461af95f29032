"""Private files: everything polyterm creates is readable by its user alone.

Files are created 0600 and directories 0700 whatever the umask, since a ledger, a log or
a status file tells anyone who can read it what the account holds and does. Only what
polyterm creates is made private: a directory the user already had (``--ledger
~/runs/x.sqlite``) keeps its mode; a file polyterm writes again (a ledger it reopens) is
tightened to 0600 when its owner runs polyterm.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create `path` and any missing parents 0700 (existing ones keep their mode)."""
    missing: list[Path] = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by someone else
            directory.mkdir(mode=DIR_MODE)
            os.chmod(directory, DIR_MODE)  # mkdir's mode is filtered by the umask
    return path


def tighten(path: Path, mode: int = FILE_MODE) -> None:
    """Make an existing file (or directory) of ours `mode` if it is looser; a file
    owned by someone else, or one gone meanwhile, is left as it is."""
    try:
        info = path.stat()
    except OSError:
        return
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & ~mode:
        with contextlib.suppress(OSError):
            os.chmod(path, mode)


def create_private(path: Path) -> None:
    """Make sure `path` exists as a 0600 file (created empty if missing) in a private
    directory, before a library that creates files with the umask's mode (SQLite) opens
    it: SQLite gives the database's journals the database file's own mode."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    os.close(fd)
    tighten(path)


def open_private(path: Path, mode: str = "wb", encoding: str | None = None) -> IO[bytes] | IO[str]:
    """``open(path, mode)`` creating the file 0600 (and its directory 0700)."""
    private_dir(path.parent)

    def opener(name: str, flags: int) -> int:
        return os.open(name, flags | os.O_CLOEXEC, FILE_MODE)

    handle = open(path, mode, encoding=encoding, opener=opener)  # noqa: SIM115 - returned
    tighten(path)
    return handle


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically: a reader sees the old file or the new one,
    never half of either. The temporary file beside it is 0600 too. Writes through a
    symlink to the file it names (a config kept in a dotfiles repository)."""
    target = path.resolve()
    private_dir(target.parent)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, FILE_MODE)  # a temp file left by an older version may be looser
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise

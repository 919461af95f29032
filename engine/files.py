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
    owned by someone else, one gone meanwhile, or one behind another user's symlink (a
    link planted in a shared directory) is left as it is."""
    try:
        path = _own_links_followed(path)
        info = path.stat()
    except OSError:
        return
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & ~mode:
        with contextlib.suppress(OSError):
            os.chmod(path, mode)


def refuse_foreign_link(path: Path) -> None:
    """PermissionError when `path` is (or leads through) another user's symlink: a file a
    library (SQLite's journals) will open by name must never be one planted for us."""
    _own_links_followed(path)


def create_private(path: Path) -> None:
    """Make sure `path` exists as a 0600 file (created empty if missing) in a private
    directory, before a library that creates files with the umask's mode (SQLite) opens
    it: SQLite gives the database's journals the database file's own mode."""
    target = _own_links_followed(path)  # never another user's link (a shared directory)
    private_dir(target.parent)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    os.close(fd)
    tighten(target)


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
    symlink of the user's own to the file it names (a config kept in a dotfiles
    repository), never through another user's: in a shared directory (a status file in
    /tmp) a link planted there must not make polyterm overwrite one of its user's files.
    The temporary file is never opened through a link either."""
    target = _own_links_followed(path)
    private_dir(target.parent)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        fd = _open_temporary(tmp)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


_TRUSTED_LINK_OWNERS = (0,)  # root's links (it could write the file anyway), and ours
_MAX_LINKS = 40  # as the kernel's own limit on links followed in one lookup


def _own_links_followed(path: Path) -> Path:
    """`path` with its final symlinks followed, as long as each is the user's (or root's);
    PermissionError naming the link otherwise."""
    current = path
    for _ in range(_MAX_LINKS):
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            return current
        if not stat.S_ISLNK(info.st_mode):
            return current
        if info.st_uid != os.getuid() and info.st_uid not in _TRUSTED_LINK_OWNERS:
            raise PermissionError(
                f"{current} is a symlink of another user (uid {info.st_uid}): not written "
                "through; remove it or pick a path in a directory of your own"
            )
        current = current.parent / os.readlink(current)
    raise OSError(f"{path}: too many levels of symbolic links")


def _open_temporary(tmp: Path) -> int:
    """The temporary file, opened for writing and emptied: a regular file of this user,
    never a link (one left there is removed first), 0600."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        fd = os.open(tmp, flags, FILE_MODE)
    except OSError:
        if not tmp.is_symlink():
            raise
        tmp.unlink()  # a link where the temporary file goes: never written through
        fd = os.open(tmp, flags | os.O_EXCL, FILE_MODE)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            raise PermissionError(f"{tmp} belongs to another user: remove it")
        os.ftruncate(fd, 0)
        os.fchmod(fd, FILE_MODE)  # a temporary file left by an older version may be looser
    except BaseException:
        os.close(fd)
        raise
    return fd

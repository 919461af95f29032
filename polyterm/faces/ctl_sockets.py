"""Where control sockets live, how they are named, found and cleaned, and whose they are.

One socket per running instance, in a private (0700) directory: ``$POLYTERM_RUNTIME_DIR``
if set, else the platformdirs runtime dir where the platform has a real one (Linux with
``$XDG_RUNTIME_DIR``, macOS), else ``run/`` under polyterm's data dir (platformdirs'
own Linux fallback is a guessable name under /tmp, which another user could take first).

The name is ``<ledger key>-<pid>.sock``: the key is 12 hex digits of the SHA-256 of the
ledger's resolved path, so ``ctl --ledger PATH`` finds the instance writing PATH without
asking every one; the pid says whether its owner is alive, so a socket left by a process
that died (kill -9) is removed by the next instance or ``ctl`` that looks.

Both ends check the other's credentials (SO_PEERCRED): only the same user may talk to an
instance. Where the platform cannot tell (no SO_PEERCRED), the server does not listen at
all rather than trust the directory's mode alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import socket
import struct
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from polyterm.settings import locations

APP = "polyterm"
# sun_path is 108 bytes on Linux (104 on the BSDs and macOS), the final NUL included.
MAX_PATH = 107 if sys.platform.startswith("linux") else 103
_NAME = re.compile(r"^([0-9a-f]{12})-([0-9]+)\.sock$")


class SocketPathError(OSError):
    """The control socket cannot be made where it should be (path too long, not ours)."""


def socket_dir() -> Path:
    """The directory control sockets live in (not created here)."""
    env = os.environ.get("POLYTERM_RUNTIME_DIR")
    if env:
        return Path(env)
    if sys.platform.startswith("linux") and not os.environ.get("XDG_RUNTIME_DIR"):
        return locations.data_dir() / "run"
    import platformdirs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its "no XDG_RUNTIME_DIR" fallback note
        return Path(platformdirs.user_runtime_dir(APP))


def ledger_key(ledger: Path) -> str:
    return hashlib.sha256(str(ledger.resolve()).encode()).hexdigest()[:12]


def socket_path(ledger: Path, pid: int | None = None, directory: Path | None = None) -> Path:
    """This process's socket for `ledger`."""
    pid = os.getpid() if pid is None else pid
    return (directory or socket_dir()) / f"{ledger_key(ledger)}-{pid}.sock"


def check_length(path: Path) -> None:
    if len(os.fsencode(path)) > MAX_PATH:
        raise SocketPathError(
            f"control socket path {path} is too long for a Unix socket "
            f"({len(os.fsencode(path))} > {MAX_PATH} bytes): set POLYTERM_RUNTIME_DIR to a "
            "shorter directory"
        )


def private_socket_dir(directory: Path) -> Path:
    """Create the socket directory 0700, or check that an existing one is ours and
    private (tightening it when it is ours and looser)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = directory.stat()
    if info.st_uid != os.getuid():
        raise SocketPathError(
            f"control socket directory {directory} belongs to another user (uid "
            f"{info.st_uid}): set POLYTERM_RUNTIME_DIR to a directory of your own"
        )
    if info.st_mode & 0o077:
        directory.chmod(0o700)
    return directory


@dataclass(frozen=True, slots=True)
class Found:
    path: Path
    key: str
    pid: int


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's (a pid reused since)
        return True
    return True


def scan(directory: Path | None = None, *, clean: bool = True) -> list[Found]:
    """The sockets in `directory` whose process is alive, oldest name first; with
    `clean`, those of dead processes are removed on the way."""
    directory = directory or socket_dir()
    found: list[Found] = []
    try:
        names = sorted(os.listdir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return []
    for name in names:
        match = _NAME.match(name)
        if match is None:
            continue
        path = directory / name
        pid = int(match.group(2))
        if pid != os.getpid() and not pid_alive(pid):
            if clean:
                with contextlib.suppress(OSError):
                    path.unlink()
            continue
        found.append(Found(path, match.group(1), pid))
    return found


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end of a connected Unix socket."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        raise OSError("this platform cannot tell who is at the other end of a Unix socket")
    creds = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def peer_credentials_supported() -> bool:
    return hasattr(socket, "SO_PEERCRED")

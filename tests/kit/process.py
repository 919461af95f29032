"""polyterm as a user runs it: a real process, its own config and data dirs, loopback only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

POLYTERM = [sys.executable, "-m", "polyterm"]


def environ(tmp_path: Path, **env: str) -> dict[str, str]:
    # `make test` sets PYTHONASYNCIODEBUG for the suite's own loops; a user's process does
    # not run in debug mode, and its slow-callback warnings would break the one-line
    # stderr contracts checked here.
    inherited = {k: v for k, v in os.environ.items() if k != "PYTHONASYNCIODEBUG"}
    return {
        **inherited,
        "POLYTERM_CONFIG_DIR": str(tmp_path / "cfg"),
        "POLYTERM_DATA_DIR": str(tmp_path / "data"),
        "POLYTERM_LOG_DIR": str(tmp_path / "log"),
        **env,
    }


def run(
    args: list[str], tmp_path: Path, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*POLYTERM, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environ(tmp_path, **env),
        check=False,
    )


def stop_with(
    proc: subprocess.Popen[str], sig: signal.Signals, after: float
) -> tuple[int, str, str, float]:
    """Send `sig` `after` seconds in; (exit code, stdout, stderr, seconds it took to exit)."""
    time.sleep(after)
    sent = time.monotonic()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err, time.monotonic() - sent

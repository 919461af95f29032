"""polyterm as a user runs it: a real process, its own config and data dirs, loopback only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
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


# How long a signalled stop may take in these tests. polyterm stops in well under a
# second on an idle machine (README); the suite shares its machine, and a bound this
# loose still catches a stop that waits on something (the run's duration, a timeout).
STOP_WITHIN_S = 3.0


def stop_with(
    proc: subprocess.Popen[str],
    sig: signal.Signals,
    after: float = 0.0,
    *,
    when: Callable[[], bool] | None = None,
    within: float = 60.0,
) -> tuple[int, str, str, float]:
    """Send `sig` `after` seconds in (and once `when` holds, polled until `within`);
    (exit code, stdout, stderr, seconds it took to exit)."""
    time.sleep(after)
    deadline = time.monotonic() + within
    while when is not None and not when():
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            out, err = proc.communicate(timeout=30)
            raise AssertionError(f"never ready to be signalled; stderr:\n{err}")
        time.sleep(0.05)
    sent = time.monotonic()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err, time.monotonic() - sent

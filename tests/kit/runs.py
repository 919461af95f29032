"""Headless runs as a supervisor sees them: a polyterm process, its status file, and an
exchange emulator of its own in another process (so a test can stall it)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.kit.process import POLYTERM, environ

# Mean reversion alone, eager: runs that must write to their ledger soon.
BUSY = {
    "STRATEGIES_MOMENTUM_SCALPING_ENABLED": "false",
    "STRATEGIES_EVENT_DRIVEN_ENABLED": "false",
    "STRATEGIES_MICRO_ARBITRAGE_ENABLED": "false",
    "STRATEGIES_CROSS_MARKET_ARBITRAGE_ENABLED": "false",
    "STRATEGIES_MEAN_REVERSION_WINDOW": "6",
    "STRATEGIES_MEAN_REVERSION_ENTRY_Z": "0.8",
    "STRATEGIES_MEAN_REVERSION_SAMPLE_INTERVAL_S": "0.1",
    "STRATEGY_ENTRY_COOLDOWN_S": "0.5",
}


def start(
    tmp_path: Path, *args: str, preexec: Callable[[], object] | None = None, **env: str
) -> subprocess.Popen[str]:
    """`polyterm ARGS` with its own config and data dirs under `tmp_path`."""
    return subprocess.Popen(
        [*POLYTERM, *args],
        env=environ(tmp_path, **env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec,
    )


def read_status(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def wait_status(
    path: Path, ready: Callable[[dict[str, Any]], bool], proc: subprocess.Popen[str]
) -> dict[str, Any]:
    """Poll the status file (60 s at most) until `ready(status)`; fails if the run ends."""
    for _ in range(3000):
        status = read_status(path)
        if status is not None and ready(status):
            return status
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError(f"status never got there: {read_status(path)}")


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=30)
        raise
    return proc.returncode, out, err


@contextmanager
def exchange(tmp_path: Path, *args: str) -> Iterator[dict[str, Any]]:
    """`polyterm exchange` in its own process: yields the URLs it printed."""
    proc = subprocess.Popen(
        [*POLYTERM, "exchange", "--port", "0", *args],
        env=environ(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.communicate()
        yield json.loads(line)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def venue_env(urls: dict[str, Any]) -> dict[str, str]:
    """A run aimed at an emulator process through the venue environment names."""
    return {
        "CLOB_REST_URL": urls["clob"],
        "CLOB_WS_URL": urls["market_ws"],
        "GAMMA_API_URL": urls["gamma"],
        "SENTIMENT_ENABLED": "false",
    }


def fault(urls: dict[str, Any], **faults: Any) -> None:
    headers = {"Authorization": f"Bearer {urls['admin_token']}"}
    httpx.post(
        f"{urls['admin']}/faults", json=faults, headers=headers, timeout=10
    ).raise_for_status()

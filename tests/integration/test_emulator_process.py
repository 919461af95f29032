"""A headless offline run serves its emulator from a process of its own (the order flow
off the engine's core), and that process never outlives the run, even a killed one."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.kit.process import POLYTERM, environ

pytestmark = pytest.mark.integration

STARTED = re.compile(r"offline: exchange emulator on \S+ \(process (\d+)\)")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for this purpose: only its parent's wait remains.
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split(") ", 1)[1][:1] != "Z"


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return not _alive(pid)


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [*POLYTERM, "-v", "--no-ui", "--json", "--markets", "2", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ(tmp_path),
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        found = STARTED.search(line)
        if found:
            return proc, int(found.group(1))
    proc.kill()
    proc.communicate(timeout=30)
    raise AssertionError("the run never said where its emulator is")


def test_the_emulator_runs_in_its_own_process_and_ends_with_the_run(tmp_path: Path) -> None:
    proc, child = _start(tmp_path, "--duration", "3")
    try:
        assert child != proc.pid
        assert _alive(child)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["frames"] > 0  # the engine read the child's market channel
    assert _gone_within(child, 10)


def test_a_killed_run_takes_its_emulator_with_it(tmp_path: Path) -> None:
    proc, child = _start(tmp_path)
    proc.send_signal(signal.SIGKILL)  # no clean-up runs: the child sees its stdin end
    proc.communicate(timeout=30)
    assert _gone_within(child, 30)

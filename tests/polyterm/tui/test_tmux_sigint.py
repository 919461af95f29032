"""The real console in tmux, stopped by SIGINT: exit 130, as the other faces (it was 0)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.kit.tmux import PRICE_ROW, Terminal

pytestmark = pytest.mark.integration


def test_sigint_stops_the_console_with_130(terminal: tuple[Terminal, Path]) -> None:  # noqa: F811
    # `kill -INT` (a supervisor, `timeout -s INT`): like the headless face and `serve`, a
    # run stopped by a signal must not report success.
    term, exit_file = terminal
    term.wait_for(lambda s: "PAPER" in s and PRICE_ROW.search(s), "PAPER and prices")
    shell = subprocess.run(
        [*term.tmux, "display", "-p", "-t", term.session, "#{pane_pid}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout.strip()
    pids = subprocess.run(
        ["pgrep", "-P", shell], capture_output=True, text=True, check=True, timeout=10
    ).stdout.split()
    assert len(pids) == 1, pids
    os.kill(int(pids[0]), signal.SIGINT)
    deadline = time.monotonic() + 30
    while not (exit_file.exists() and exit_file.read_text().strip()):
        assert time.monotonic() < deadline, "polyterm did not exit after SIGINT"
        time.sleep(0.2)
    assert exit_file.read_text().strip() == "130"

"""The real `polyterm` in a terminal: tmux runs it, send-keys types, and capture-pane
reads the screen as a person would see it."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.kit.process import environ
from tests.kit.programs import need

PRICE_ROW = re.compile(r"│ .+\s(Yes|No|Up|Down|Long|Short)\s+\d+\.\d¢\s+\d+\.\d¢")


class Terminal:
    """One tmux server of its own (-L), so a test never touches a user's sessions."""

    def __init__(self, tmux: str, session: str) -> None:
        self.tmux = [tmux, "-L", session]
        self.session = session

    def screen(self) -> str:
        return subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", self.session],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        ).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.session, *keys], check=True, timeout=10)

    def wait_for(self, check: Callable[[str], object], what: str, within: float = 60.0) -> str:
        deadline = time.monotonic() + within
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if check(text):
                return text
            time.sleep(0.2)
        raise AssertionError(f"the terminal never showed {what}; it showed:\n{text}")


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[tuple[Terminal, Path]]:
    """`polyterm --offline` in a 160x50 terminal."""
    yield from _terminal(tmp_path, 160, 50)


@pytest.fixture
def small_terminal(tmp_path: Path) -> Iterator[tuple[Terminal, Path]]:
    """`polyterm --offline` in an 80x24 terminal (the compact layout)."""
    yield from _terminal(tmp_path, 80, 24)


def _terminal(tmp_path: Path, width: int, height: int) -> Iterator[tuple[Terminal, Path]]:
    tmux = need("tmux")
    session = f"polyterm-test-{uuid.uuid4().hex[:8]}"
    exit_file = tmp_path / "exit-code"
    env = environ(tmp_path, POLYTERM_LOG_DIR=str(tmp_path / "log"), TERM="xterm-256color")
    command = (
        f"{sys.executable} -m polyterm --offline --markets 4 --ledger {tmp_path / 'l.sqlite'}"
        f"; echo $? > {exit_file}; sleep 60"
    )
    term = Terminal(tmux, session)
    subprocess.run(
        [*term.tmux, "new-session", "-d", "-s", session, "-x", str(width), "-y", str(height)]
        + [command],
        check=True,
        env=env,
        timeout=10,
    )
    try:
        yield term, exit_file
    finally:
        subprocess.run([*term.tmux, "kill-server"], check=False, timeout=10)

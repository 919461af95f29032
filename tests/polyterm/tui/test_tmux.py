"""The real `polyterm --offline` in a terminal: tmux runs it, send-keys types, and
capture-pane reads the screen as a person would see it, at 160x50 and at 80x24 (the
compact layout: the header keeps PAPER, the state and the kill switch)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.kit.tmux import PRICE_ROW, Terminal

pytestmark = pytest.mark.integration


def test_polyterm_offline_in_a_terminal(terminal: tuple[Terminal, Path]) -> None:
    term, exit_file = terminal
    screen = term.wait_for(lambda s: "PAPER" in s and PRICE_ROW.search(s), "PAPER and prices")
    assert "offline emulator" in screen
    assert "RUNNING" in screen
    term.keys("p")
    term.wait_for(lambda s: "PAUSED" in s, "PAUSED after p")
    term.keys("q")
    deadline = time.monotonic() + 30
    while not (exit_file.exists() and exit_file.read_text().strip()):
        assert time.monotonic() < deadline, "polyterm did not exit after q"
        time.sleep(0.2)
    assert exit_file.read_text().strip() == "0"


def test_polyterm_offline_in_an_80x24_terminal(small_terminal: tuple[Terminal, Path]) -> None:
    term, exit_file = small_terminal
    screen = term.wait_for(lambda s: "PAPER" in s and PRICE_ROW.search(s), "PAPER and prices")
    assert "RUNNING" in screen
    assert "kill switch ARMED" in screen
    assert all(len(line) <= 80 for line in screen.splitlines())
    term.keys("p")
    screen = term.wait_for(lambda s: "PAUSED" in s, "PAUSED after p")
    assert "kill switch" in screen
    term.keys("q")
    deadline = time.monotonic() + 30
    while not (exit_file.exists() and exit_file.read_text().strip()):
        assert time.monotonic() < deadline, "polyterm did not exit after q"
        time.sleep(0.2)
    assert exit_file.read_text().strip() == "0"

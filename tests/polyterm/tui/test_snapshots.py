"""Snapshots of the console on a seeded replay (the emulator's seeded flow as a tape, on
a simulated clock): the main screen, the market detail screen, help and the flatten
preview, in both themes. The same seed gives the same screens on every machine; Textual
is pinned exactly in pyproject.toml because its releases change snapshot output.

Regenerate (after a deliberate change, on Python 3.11): pytest tests/polyterm/tui/test_snapshots.py
--snapshot-update, then look at every changed SVG before committing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from polyterm.tui.screens.detail import MarketDetailScreen
from polyterm.tui.screens.flatten import FlattenScreen
from polyterm.tui.screens.help import HelpScreen
from tests.kit.console import SIZE, console, replayed, until

THEMES = ("polyterm-dark", "polyterm-light")


async def _ready(pilot: Pilot[int]) -> None:
    await replayed(pilot)


async def _detail(pilot: Pilot[int]) -> None:
    app = await replayed(pilot)
    await pilot.press("down", "down", "enter")
    await until(pilot, lambda: isinstance(app.screen, MarketDetailScreen))
    await until(
        pilot, lambda: app.shown_snapshot is app.bridge.latest and app.shown_screen is app.screen
    )
    await pilot.pause()


async def _help(pilot: Pilot[int]) -> None:
    app = await replayed(pilot)
    await pilot.press("question_mark")
    await until(pilot, lambda: isinstance(app.screen, HelpScreen))
    await pilot.pause()


async def _flatten(pilot: Pilot[int]) -> None:
    app = await replayed(pilot)
    await pilot.press("f")
    await until(pilot, lambda: isinstance(app.screen, FlattenScreen))
    await until(pilot, lambda: app.shown_screen is app.screen)
    await pilot.pause()


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize(
    "view",
    [("main", _ready), ("detail", _detail), ("help", _help), ("flatten", _flatten)],
    ids=lambda v: v[0],
)
def test_console_snapshot(
    snap_compare: Any, tape: Path, tmp_path: Path, theme: str, view: tuple[str, Any]
) -> None:
    _, run_before = view
    assert snap_compare(
        console(tape, tmp_path, theme=theme), terminal_size=SIZE, run_before=run_before
    )

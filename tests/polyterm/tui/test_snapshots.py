"""Snapshots of the console on a seeded replay (the realistic offline market as a tape, on
a simulated clock): the dashboard in its three layouts (80x24, 120x35, 200x50), the
market detail screen, help, the flatten preview and the order form, in both themes. The
same seed gives the same screens on every machine; Textual is pinned exactly in
pyproject.toml because its releases change snapshot output.

Regenerate (after a deliberate change, on Python 3.11): pytest tests/polyterm/tui/test_snapshots.py
--snapshot-update, then look at every changed SVG before committing it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from polyterm.tui.screens.detail import MarketDetailScreen
from polyterm.tui.screens.flatten import FlattenScreen
from polyterm.tui.screens.help import HelpScreen
from polyterm.tui.screens.order import OrderScreen
from tests.kit.console import console, replayed, until

THEMES = ("polyterm-dark", "polyterm-light")
SIZES = {"80x24": (80, 24), "120x35": (120, 35), "200x50": (200, 50)}


async def _ready(pilot: Pilot[int]) -> None:
    await replayed(pilot)


async def _shown(pilot: Pilot[int], screen: type) -> None:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, screen))
    await until(pilot, lambda: app.shown_screen is app.screen)  # type: ignore[attr-defined]
    await pilot.pause()


async def _detail(pilot: Pilot[int]) -> None:
    await replayed(pilot)
    await pilot.press("down", "down", "enter")
    await _shown(pilot, MarketDetailScreen)


async def _help(pilot: Pilot[int]) -> None:
    await replayed(pilot)
    await pilot.press("question_mark")
    await _shown(pilot, HelpScreen)


async def _flatten(pilot: Pilot[int]) -> None:
    await replayed(pilot)
    await pilot.press("f")
    await _shown(pilot, FlattenScreen)


async def _order(pilot: Pilot[int]) -> None:
    await replayed(pilot)
    await pilot.press("down", "b", "1", "0")
    await _shown(pilot, OrderScreen)
    # A text cursor blinks on a timer: the picture must not depend on when it is taken.
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


async def _orders_tab(pilot: Pilot[int]) -> None:
    await replayed(pilot)
    await pilot.press("2")
    await pilot.pause()


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", list(SIZES))
def test_dashboard_snapshot(
    snap_compare: Any, tape: Path, tmp_path: Path, theme: str, size: str
) -> None:
    """The layout each size gets: compact with tabs, medium with a side pane, wide."""
    assert snap_compare(
        console(tape, tmp_path, theme=theme), terminal_size=SIZES[size], run_before=_ready
    )


VIEWS: dict[str, tuple[tuple[int, int], Callable[[Pilot[int]], Awaitable[None]]]] = {
    "detail": (SIZES["120x35"], _detail),
    "help": (SIZES["120x35"], _help),
    "flatten": (SIZES["120x35"], _flatten),
    "order": (SIZES["120x35"], _order),
    "order-80x24": (SIZES["80x24"], _order),
    "detail-80x24": (SIZES["80x24"], _detail),
    "orders-tab-80x24": (SIZES["80x24"], _orders_tab),
}


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("view", list(VIEWS))
def test_console_snapshot(
    snap_compare: Any, tape: Path, tmp_path: Path, theme: str, view: str
) -> None:
    size, run_before = VIEWS[view]
    assert snap_compare(
        console(tape, tmp_path, theme=theme), terminal_size=size, run_before=run_before
    )

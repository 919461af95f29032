"""The layout follows the terminal: compact at 80x24 (the markets, a one-line status, the
other panes one key away), medium at 120x35, everything at 200x50; chosen again on every
resize. At every size the header says PAPER, the engine's state and "kill switch" with
its state; no modal blocks the first start; notices take a line of their own."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from polyterm.tui.app import PolytermApp
from polyterm.tui.screens.dashboard import DashboardScreen
from tests.kit.console import console, plain, replayed, until
from widgets.header import StatusHeader

pytestmark = pytest.mark.integration

PANES = ("#markets-pane", "#positions", "#risk-column", "#telemetry", "#exits", "#sentiment")


def shown(app: PolytermApp) -> set[str]:
    screen = app.screen
    return {p for p in PANES if screen.query_one(p).display and screen.query_one(p).region}


def header(app: PolytermApp) -> str:
    return plain(app.screen.query_one(StatusHeader))


async def _settled(pilot: Pilot[int]) -> None:
    await pilot.pause()
    await pilot.pause()


async def test_each_size_gets_its_layout_and_a_resize_chooses_again(
    tape: Path, tmp_path: Path
) -> None:
    app = console(tape, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await replayed(pilot)
        # The first start: the dashboard itself, no tour or modal in the way.
        assert isinstance(app.screen, DashboardScreen)
        assert not app.screen.is_modal
        for words in ("PAPER", "RUNNING", "kill switch ARMED"):
            assert words in header(app), header(app)
        assert shown(app) == {"#markets-pane"}
        status = plain(app.screen.query_one("#status-line"))
        assert "PnL" in status
        assert "kill switch ARMED" in status
        assert "feed replay" in status
        assert app.screen.query_one("#notice").region.height == 1
        # The other panes one key away.
        await pilot.press("2")
        await _settled(pilot)
        assert shown(app) == {"#positions"}
        await pilot.press("4")
        await _settled(pilot)
        assert shown(app) == {"#telemetry"}
        await pilot.press("1")
        await _settled(pilot)
        assert shown(app) == {"#markets-pane"}

        await pilot.resize_terminal(120, 35)
        await until(pilot, lambda: app.screen.has_class("-medium"))
        await _settled(pilot)
        assert shown(app) == {"#markets-pane", "#positions", "#risk-column"}
        await pilot.press("5")
        await _settled(pilot)
        assert shown(app) == {"#markets-pane", "#positions", "#exits"}
        assert "RUNNING" in header(app)
        assert "UTC" in header(app)  # the clock, which 120 columns used to lose

        await pilot.resize_terminal(200, 50)
        await until(pilot, lambda: app.screen.has_class("-wide"))
        await _settled(pilot)
        assert shown(app) == set(PANES)
        assert not app.screen.query_one("#status-line").display

        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: app.screen.has_class("-compact"))
        await _settled(pilot)
        assert shown(app) == {"#markets-pane"}
        await pilot.press("p")
        await until(pilot, lambda: "PAUSED" in header(app))
        assert "kill switch ARMED" in header(app)


async def test_no_table_is_wider_than_its_pane_at_any_size(tape: Path, tmp_path: Path) -> None:
    # Widths from content: the market's name takes what the figures leave, and columns
    # with no room give way; nothing scrolls sideways.
    from textual.widgets import DataTable

    app = console(tape, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await replayed(pilot)
        for size in ((80, 24), (120, 35), (200, 50)):
            await pilot.resize_terminal(*size)
            await _settled(pilot)
            for tab in ("1", "2"):
                await pilot.press(tab)
                await _settled(pilot)
                for table in app.screen.query(DataTable):
                    if table.display and table.region:
                        assert table.virtual_size.width <= table.size.width, (size, table.id)

"""Every pane, in every layout, writes figures in the one convention: prices in cents with
one decimal (or dollars with three when `[console] prices = "dollars"`), shares and money
with two, no Python repr. Read off the screen as a person reads it: every text pane and
every table cell of the dashboard (all panes show at 200x50) and of the detail screen."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import DataTable, Static

from polyterm.tui.app import PolytermApp
from polyterm.tui.screens.detail import MarketDetailScreen
from tests.kit.console import console, plain, replayed, until
from widgets.log_pane import LogPane

pytestmark = pytest.mark.integration

WIDE = (200, 50)
REPR = re.compile(r"None|\[\{|\{'|Decimal\(|=,")
TOO_PRECISE = re.compile(r"\d\.\d{3,}")
# A strategy's own words for why it traded or exited (the fills' "why" column, a
# headline): quoted as the strategy wrote them, not figures the console formats.
QUOTED = ("why",)


def shown_text(app: PolytermApp) -> list[str]:
    """What the top screen shows: every Static's text, every table cell (the log aside)."""
    out: list[str] = []
    for widget in app.screen.query(Static):
        if widget.display and not isinstance(widget, LogPane):
            out.extend(plain(widget).splitlines())
    for table in app.screen.query(DataTable):
        if not table.display:
            continue
        for row in table.ordered_rows:
            for cell in table.get_row(row.key):
                out.append(cell.plain if isinstance(cell, Text) else str(cell))
    return out


def _check(lines: list[str], decimals: re.Pattern[str] = TOO_PRECISE) -> None:
    for line in lines:
        assert not REPR.search(line), line
        figures = re.sub(r"(why.*|[a-z_]+ [+-]\d+ bps.*|z=[+-]?\d+\.\d+)", "", line)
        assert not decimals.search(figures), line


async def test_no_pane_prints_a_repr_or_more_than_the_agreed_decimals(
    tape: Path, tmp_path: Path
) -> None:
    app = console(tape, tmp_path)
    async with app.run_test(size=WIDE) as pilot:
        await replayed(pilot)
        lines = shown_text(app)
        assert any("¢" in line for line in lines)
        _check(lines)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MarketDetailScreen))
        await until(pilot, lambda: app.shown_screen is app.screen)
        await pilot.pause()
        _check(shown_text(app))


async def test_dollars_when_the_config_says_so(tape: Path, tmp_path: Path) -> None:
    app = console(tape, tmp_path, prices="dollars")
    async with app.run_test(size=WIDE) as pilot:
        await replayed(pilot)
        lines = shown_text(app)
        assert not any("¢" in line for line in lines), [x for x in lines if "¢" in x]
        assert any(re.search(r"\b0\.\d{3}\b", line) for line in lines)
        _check(lines, re.compile(r"\d\.\d{4,}"))  # dollars have three

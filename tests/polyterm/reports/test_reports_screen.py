"""The console's Reports screen shows the running ledger's summary with the same numbers
as `polyterm report summary`, refreshed on demand."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from click.testing import CliRunner
from textual.app import App
from textual.widgets import Static

from polyterm.cli import main as polyterm_main
from polyterm.tui.screens.reports import ReportsScreen
from tests.kit.ledgers import golden_ledger


class _Host(App[None]):
    def __init__(self, ledger: Path | None) -> None:
        super().__init__()
        self.ledger = ledger

    def on_mount(self) -> None:
        self.push_screen(ReportsScreen(self.ledger))


async def _shown(app: _Host, pilot: object) -> str:
    async with asyncio.timeout(30):
        while True:
            await app.workers.wait_for_complete()
            await pilot.pause()  # type: ignore[attr-defined]
            body = app.screen.query_one("#report-body", Static)
            text = _plain(body)
            if "reading the ledger" not in text:
                return text


def _line(text: str, label: str) -> str:
    """A figure's row, its spacing squeezed: `label value`."""
    for line in text.splitlines():
        words = line.split()
        if " ".join(words).startswith(label + " "):
            return " ".join(words)
    raise AssertionError(f"no {label!r} in:\n{text}")


def _plain(body: Static) -> str:
    from rich.console import Console

    console = Console(width=100, record=True, file=io.StringIO())
    console.print(body.content)
    return console.export_text()


async def test_the_screen_shows_the_same_figures_as_the_cli(tmp_path: Path) -> None:
    # The writer runs its own loop: build the ledger off this test's.
    ledger = await asyncio.to_thread(golden_ledger, tmp_path / "g.sqlite")
    cli = CliRunner().invoke(
        polyterm_main, ["report", "summary", "--ledger", str(ledger), "--format", "table"]
    )
    app = _Host(ledger)
    async with app.run_test(size=(100, 60)) as pilot:
        text = await _shown(app, pilot)
        figures = (
            ("Realized PnL", "+13.00"),
            ("Fees", "2.00"),
            ("Win rate", "40.00%"),
            ("Max drawdown", "10.00"),
            ("Sharpe (daily)", None),
        )
        for label, value in figures:
            shown = _line(text, label)
            assert shown == _line(cli.output, label)  # same words, same numbers
            assert value is None or value in shown, shown
        assert "paper" in _line(text, "Mode")  # the mode, as in every report's header
        await pilot.press("u")  # refresh on demand
        assert "Realized PnL" in await _shown(app, pilot)
        await pilot.press("escape")
        assert not isinstance(app.screen, ReportsScreen)


async def test_a_missing_ledger_is_said_not_raised(tmp_path: Path) -> None:
    app = _Host(tmp_path / "none.sqlite")
    async with app.run_test() as pilot:
        assert "no ledger at" in await _shown(app, pilot)

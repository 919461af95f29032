"""The Reports screen: the running ledger's summary, the same figures in the same words as
``polyterm report summary``, read on a worker thread and refreshed on demand (``u``)."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from widgets.format import price_style


def summary_table(ledger: Path) -> Table | Text:
    """The summary's figures as `report summary --format table` words them (or why not)."""
    from engine.ledger.errors import LedgerError
    from polyterm.reports.registry import build
    from polyterm.reports.render.text import figure_rows
    from polyterm.reports.scope import parse_scope

    scope = parse_scope(None, None, None)
    try:
        report = build("summary", ledger, scope)
    except LedgerError as exc:
        return Text(str(exc))
    table = Table(box=None, show_header=False, expand=False, padding=(0, 2))
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    for label, value in figure_rows([*report.header, *report.figures], scope, price_style()):
        table.add_row(label, value)
    if report.empty:
        table.add_row("", report.empty)
    return table


class ReportsScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    ReportsScreen #dialog { width: 72; }
    ReportsScreen VerticalScroll { height: auto; max-height: 40; }
    """
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="close-reports"),
        Binding("u", "update_report", "Refresh", id="refresh-report"),
    ]

    def __init__(self, ledger: Path | None) -> None:
        super().__init__(classes="reports")
        self.ledger = ledger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            with VerticalScroll():
                yield Static("reading the ledger…", id="report-body")
            yield Static(
                Text.assemble(
                    ("u", "bold reverse"), " refresh    ", ("esc", "bold reverse"), " close"
                ),
                id="dialog-keys",
            )

    def on_mount(self) -> None:
        self.query_one("#dialog").border_title = "Report: summary"
        self.action_update_report()

    def action_update_report(self) -> None:
        if self.ledger is None:
            self.query_one("#report-body", Static).update("no ledger: this session writes none")
            return
        self._load(self.ledger)

    @work(thread=True, exclusive=True, group="report", description="report summary")
    def _load(self, ledger: Path) -> None:
        # A big ledger takes a moment to aggregate: off the UI's loop.
        table = summary_table(ledger)
        self.app.call_from_thread(self.query_one("#report-body", Static).update, table)

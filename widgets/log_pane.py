"""The log pane: engine log records and discrete events, newest at the bottom; shown or
hidden with a key. Lines are written in batches at refresh time, never per record."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import RichLog

from widgets.format import palette


class LogPane(RichLog):
    DEFAULT_CSS = """
    LogPane { height: 10; border-top: solid $panel; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_lines=2000, wrap=False, markup=False, **kwargs)  # type: ignore[arg-type]

    def add_lines(self, lines: Iterable[tuple[str, str]]) -> None:
        """(level, line) pairs, written at once."""
        for level, line in lines:
            self.write(Text(line, style=_style(level)))


def _style(level: str) -> str:
    if level in ("ERROR", "CRITICAL"):
        return f"bold {palette('pnl-down')}"
    if level == "WARNING":
        return palette("warn")
    return "dim" if level == "DEBUG" else ""

"""Charts for what people would rather look at than read: the session's equity curve and
the day's PnL against the kill-switch limit. A few rows of block characters, drawn from
a bounded series the app samples at most once a second."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.widgets import Static

from widgets.format import DASH, palette

_EIGHTHS = " ▁▂▃▄▅▆▇█"
POINTS = 600  # ten minutes at one sample a second


def render_chart(
    values: list[float], width: int, height: int, floor: float | None = None
) -> list[str]:
    """Rows (top first) of a column chart of the last `width` values; `floor` (a limit
    line, e.g. minus the daily loss limit) is kept in range so it is always drawn."""
    tail = values[-width:]
    lo = min(tail + ([floor] if floor is not None else []))
    hi = max(tail + ([floor] if floor is not None else []))
    if hi - lo < 1e-12:
        hi = lo + 1.0
    levels = height * 8
    heights = [round((v - lo) / (hi - lo) * (levels - 1)) + 1 for v in tail]
    limit_row = None
    if floor is not None:
        limit_row = height - 1 - min(height - 1, int((floor - lo) / (hi - lo) * (height - 1)))
    rows = []
    for r in range(height):
        base = (height - 1 - r) * 8
        line = []
        for h in heights:
            part = min(8, max(0, h - base))
            line.append(_EIGHTHS[part])
        row = "".join(line)
        if r == limit_row:
            row = "".join(ch if ch != " " else "┄" for ch in row)
        rows.append(row)
    return rows


class SeriesChart(Static):
    """A titled chart with its latest value; `floor` draws a limit line."""

    DEFAULT_CSS = """
    SeriesChart { height: 6; }
    """

    def __init__(self, title: str, chart_height: int = 4, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.title = title
        self.chart_height = chart_height
        self.series: deque[float] = deque(maxlen=POINTS)
        self.floor: float | None = None

    def add(self, value: float, floor: float | None = None) -> None:
        self.series.append(value)
        self.floor = floor
        self.draw()

    def on_resize(self) -> None:
        self.draw()

    def draw(self) -> None:
        text = Text(no_wrap=True)
        if not self.series:
            text.append(f"{self.title}: {DASH}")
            self.update(text)
            return
        latest = self.series[-1]
        text.append(f"{self.title} ")
        style = palette("pnl-up") if latest >= 0 else palette("pnl-down")
        text.append(f"{latest:+,.2f}", style=style)
        if self.floor is not None:
            text.append(f"  limit {self.floor:+,.2f}", style="dim")
        width = max(8, self.size.width - 2)
        for row in render_chart(list(self.series), width, self.chart_height, self.floor):
            text.append("\n" + row, style=style)
        self.update(text)

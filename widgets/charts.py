"""Charts for what people would rather look at than read: the session's equity curve and
the day's PnL against the kill-switch limit. A few rows of block characters drawn from a
series the app samples once a second of engine time; redrawn only when it gains a point
or the pane is resized."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from widgets.format import DASH, palette
from widgets.pane import TextPane

_EIGHTHS = " ▁▂▃▄▅▆▇█"


def render_chart(
    values: Sequence[float],
    width: int,
    height: int,
    *,
    floor: float | None = None,
    baseline: float | None = None,
) -> list[list[tuple[str, str]]]:
    """Rows (top first) of a column chart of the last `width` values, each row a list of
    (characters, kind) runs: kind "v" is the series, "floor" the limit line (e.g. minus
    the daily loss limit), "zero" the baseline, "" blank.

    Without a `baseline` the columns rise from the bottom of the range (an area chart of
    a level, such as equity; eighth-of-a-row steps). With one (0 for PnL) they rise above
    it or hang below it, and the baseline and `floor` are kept in range, so the distance
    between a column's end and the limit line is the room left (half-row steps below)."""
    tail = list(values[-width:])
    scale = tail + [v for v in (floor, baseline) if v is not None]
    lo, hi = min(scale), max(scale)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    eighths = height * 8

    def level(v: float) -> int:  # 0 .. eighths, from the bottom
        return round((v - lo) / (hi - lo) * eighths)

    kinds = [""] * height
    if baseline is not None:
        kinds[min(height - 1, max(0, height - 1 - level(baseline) // 8))] = "zero"
    if floor is not None:
        kinds[min(height - 1, max(0, height - 1 - level(floor) // 8))] = "floor"
    grid = [[" "] * len(tail) for _ in range(height)]
    base = 0 if baseline is None else level(baseline)
    for col, v in enumerate(tail):
        top = max(level(v), 1 if baseline is None else 0)
        if top >= base:  # rises from the base to `top`
            for r in range(height):
                cell = (height - 1 - r) * 8  # the row's bottom, in eighths
                fill = min(8, max(0, top - max(cell, base)))
                if cell + 8 > base and fill:
                    grid[r][col] = _EIGHTHS[fill]
        else:  # hangs from the base down to `top`
            for r in range(height):
                cell = (height - 1 - r) * 8
                fill = min(8, max(0, min(cell + 8, base) - max(cell, top)))
                if fill >= 6:
                    grid[r][col] = "█"
                elif fill >= 3:
                    grid[r][col] = "▀"
    rows = []
    for r, cells in enumerate(grid):
        runs: list[tuple[str, str]] = []
        for ch in cells:
            kind = "v" if ch != " " else kinds[r]
            shown = ch if ch != " " or not kind else "┄" if kind == "floor" else "·"
            if runs and runs[-1][1] == kind:
                runs[-1] = (runs[-1][0] + shown, kind)
            else:
                runs.append((shown, kind))
        rows.append(runs)
    return rows


class SeriesChart(TextPane):
    """A titled chart with its latest value; `floor` draws a limit line."""

    DEFAULT_CSS = """
    SeriesChart { height: 7; }
    """

    def __init__(
        self, title: str, chart_height: int = 4, *, signed: bool = True, **kwargs: object
    ) -> None:
        """`signed`: the values are PnL (coloured by sign); otherwise a level such as
        equity, coloured and labelled by its change since the first point."""
        super().__init__(**kwargs)
        self.title = title
        self.signed = signed
        self.chart_height = chart_height
        self._values: Sequence[float] = ()
        self._floor: float | None = None
        self._version = -1

    def plot(self, values: Sequence[float], floor: float | None, version: int) -> None:
        """Draw `values` unless `version` (the series' sample count) is already drawn."""
        if version == self._version:
            return
        self._version = version
        self._values = values
        self._floor = floor
        self.draw()

    def on_resize(self) -> None:
        self.draw()

    def repaint(self) -> None:
        super().repaint()
        self.draw()

    def draw(self) -> None:
        text = Text(no_wrap=True, overflow="crop")
        if not self._values:
            text.append(f"{self.title}: {DASH} (a point a second once the engine runs)")
            self.paint(text)
            return
        latest = self._values[-1]
        change = latest if self.signed else latest - self._values[0]
        style = palette("pnl-up") if change >= 0 else palette("pnl-down")
        text.append(f"{self.title} ")
        if self.signed:
            text.append(f"{latest:+,.2f}", style=style)
        else:
            text.append(f"{latest:,.2f} ")
            text.append(f"({change:+,.2f} this session)", style=style)
        if self._floor is not None:
            text.append(f"  limit {self._floor:+,.2f}", style="dim")
        width = max(8, self.size.width - 2)
        styles = {"v": style, "floor": palette("pnl-down"), "zero": "dim", "": ""}
        height = max(2, self.size.height - 1) if self.size.height else self.chart_height
        baseline = 0.0 if self.signed else None
        rows = render_chart(self._values, width, height, floor=self._floor, baseline=baseline)
        for row in rows:
            text.append("\n")
            for chars, kind in row:
                text.append(chars, style=styles[kind])
        self.paint(text)

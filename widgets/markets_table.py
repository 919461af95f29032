"""The markets pane: one row per token, keyed by its asset id, cells patched in place.

Each refresh compares a row's book version with the one last shown and rewrites only the
cells whose text changed (`update_cell(..., update_width=False)`, fixed column widths),
so a busy feed costs the changed cells and never a rebuild. The filter hides rows by
removing them and brings them back by key; sorting runs only when the sorted column
changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from engine.decisions import DecisionKind
from engine.orders import StrategyId
from engine.runtime.snapshot import EngineSnapshot, MarketRow, SignalRow
from widgets.cell_cache import CachedCellsTable
from widgets.columns import Column, fit
from widgets.format import DASH, palette, price, short, size, whole

SPARK_POINTS = 20  # the trend column's width: one block per second of mid history


@dataclass(frozen=True, slots=True)
class MarketExtras:
    """What a row shows beyond the book: ours and the world's view of the market, and
    the trend of its mid (a sparkline the app draws from the session's history)."""

    position: Decimal | None = None  # shares held
    signal: SignalRow | None = None
    sentiment: float | None = None
    trend: str | Text = ""


COLUMNS: tuple[Column, ...] = (
    Column("question", "Market", flex=True),
    Column("outcome", "Outcome"),
    Column("bid", "Bid"),
    Column("ask", "Ask"),
    Column("spread", "Spread"),
    Column("last", "Last"),
    Column("volume", "24h vol"),
    Column("position", "Position"),
    Column("signal", "Last signal"),
    Column("sentiment", "Sent.", floor=5),
    Column("trend", "Trend", floor=SPARK_POINTS),
)
INDEX = {c.key: i for i, c in enumerate(COLUMNS)}
PRICE_COLUMNS = ("bid", "ask", "spread", "last")
# What each layout shows, most useful first (layouts are named in polyterm.tui.layout).
LAYOUT_COLUMNS: dict[str, tuple[str, ...]] = {
    "compact": ("question", "outcome", "bid", "ask", "last", "position"),
    "medium": (
        "question",
        "outcome",
        "bid",
        "ask",
        "spread",
        "last",
        "volume",
        "position",
        "signal",
    ),
    "wide": tuple(c.key for c in COLUMNS),
}
SORTABLE = ("question", "bid", "ask", "spread", "last", "volume", "position", "sentiment")
_TEXT_COLUMNS = ("question",)
QUESTION_MIN = 16


def strategy_initials(names: str) -> str:
    """mean_reversion -> mr, "mean_reversion+momentum_scalping" -> mr+ms."""
    return "+".join("".join(w[:1] for w in n.split("_")) for n in StrategyId(names).names)


# One word per kind of decision, for a narrow cell (the ledger keeps the sentence).
DECISION_WORDS: dict[DecisionKind, str] = {
    DecisionKind.ORDER: "order",
    DecisionKind.BELOW_THRESHOLD: "weak",
    DecisionKind.CONFLICT: "conflict",
    DecisionKind.OUTVOTED: "conflict",
    DecisionKind.DETECTED: "detected",
    DecisionKind.EXIT_FIRST: "exit",
    DecisionKind.PAUSED: "paused",
    DecisionKind.COOLDOWN: "cooldown",
    DecisionKind.REFUSED: "refused",
    DecisionKind.EXIT_IGNORED: "exit",
    DecisionKind.NO_EXIT_ORDER: "no",
}


def decision_word(signal: SignalRow) -> str:
    if signal.ordered or signal.kind is DecisionKind.ORDER:
        return "exit" if signal.is_exit else "order"
    return DECISION_WORDS.get(signal.kind, DASH)


def signal_cell(signal: SignalRow | None) -> str | Text:
    if signal is None:
        return DASH
    buy = signal.side.upper() == "BUY"
    label = f"{'▲' if buy else '▼'} {strategy_initials(signal.strategies)} {decision_word(signal)}"
    if signal.ordered:
        return Text(label, style=palette("pnl-up") if buy else palette("pnl-down"))
    return Text(label, style="dim")


def _cells(row: MarketRow, extras: MarketExtras) -> tuple[str | Text, ...]:
    sentiment: str | Text = DASH
    if extras.sentiment is not None:
        s = extras.sentiment
        style = palette("pnl-up") if s > 0.05 else palette("pnl-down") if s < -0.05 else ""
        sentiment = Text(f"{s:+.2f}", style=style)
    return (
        row.question,
        short(row.outcome, 10),
        price(row.best_bid),
        price(row.best_ask),
        price(row.spread),
        price(row.last_trade),
        whole(row.volume_24h),
        DASH if not extras.position else size(extras.position),
        signal_cell(extras.signal),
        sentiment,
        extras.trend,
    )


def _numeric(cell: object) -> tuple[int, float]:
    """A numeric cell's sort key; a dash (no figure yet) sorts below every number."""
    text = cell.plain if isinstance(cell, Text) else str(cell)
    try:
        return (1, float(text.replace("¢", "").replace(",", "").replace("+", "")))
    except ValueError:
        return (0, 0.0)


def _text(cell: object) -> str:
    return (cell.plain if isinstance(cell, Text) else str(cell)).lower()


class MarketsTable(CachedCellsTable[str | Text]):
    """Rows keyed by token; `filter_text` narrows them, `s` cycles the sort column. The
    columns shown follow the layout (`use_layout`), their widths the content."""

    BINDINGS = [
        Binding(
            "o",
            "cycle_sort",
            "Sort",
            id="sort",
            tooltip="Sort the markets: o cycles the column, O reverses (s sells)",
        ),
        Binding("O", "reverse_sort", "Reverse sort", show=False, id="reverse-sort"),
    ]

    DEFAULT_CSS = """
    MarketsTable { height: 1fr; }
    """

    class MarketSelected(Message):
        """Enter on a row: the detail screen for that token."""

        def __init__(self, asset_id: str) -> None:
            super().__init__()
            self.asset_id = asset_id

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._shown: dict[str, tuple[str | Text, ...]] = {}  # every column's cell, by token
        self._versions: dict[str, int] = {}
        self._rows: dict[str, MarketRow] = {}
        self._extras: dict[str, MarketExtras] = {}
        self.filter_text = ""
        self.sort_column: str | None = None
        self.sort_reverse = False
        self.cells_written = 0  # since mount: what refreshes cost, for the benchmark
        self._reselect: str | None = None  # the row the cursor returns to after a repaint
        self.layout_name = "medium"
        self._visible: tuple[str, ...] = LAYOUT_COLUMNS[self.layout_name]
        self._showing: tuple[str, ...] = self._visible  # those that fit the width
        self._widths: dict[str, int] = {}

    def on_mount(self) -> None:
        self._fit(force=True)

    # -- columns ------------------------------------------------------------------------------
    @property
    def visible_columns(self) -> tuple[str, ...]:
        """The columns shown: the layout's, less those the width has no room for."""
        return self._showing

    def use_layout(self, name: str) -> None:
        """Show the columns of layout `name` ("compact", "medium", "wide")."""
        self.layout_name = name
        self._visible = LAYOUT_COLUMNS.get(name, LAYOUT_COLUMNS["wide"])
        if self.sort_column is not None and self.sort_column not in self._visible:
            self.sort_column = None  # sorted by a column this layout does not show
        self._fit()

    def on_resize(self) -> None:
        super().on_resize()
        self._fit()

    def _fit(self, force: bool = False) -> bool:
        """Columns as wide as their content; the market's name takes the rest. The
        table is rebuilt only when what it shows or a width changed (a resize, a new
        layout, a longer value than any before)."""
        if not self.is_mounted:
            return False
        columns = [COLUMNS[INDEX[k]] for k in self._visible]
        values = {k: [cells[INDEX[k]] for cells in self._shown.values()] for k in self._visible}
        widest_price = price(Decimal(1))
        for k in PRICE_COLUMNS:
            if k in values:
                values[k].append(widest_price)
        # Room for a scrollbar when the rows about to be shown overflow (not the rows shown
        # now: those depend on which snapshot came before, so the widths would too).
        rows = [a for a in self._order() if self._matches(a)]
        scrollbar = 2 if len(rows) > self.size.height - 1 else 0
        available = (self.size.width or self.app.size.width) - scrollbar
        widths = fit(columns, values, available, flex_min=QUESTION_MIN)
        shown = tuple(str(k.value) for k in self.columns)
        if not force and widths == self._widths and shown == tuple(widths):
            return False
        self._widths = widths
        self._showing = tuple(widths)
        selected = self.selected_asset
        self.clear(columns=True)
        for c in columns:
            if c.key in widths:
                self.add_column(c.label, key=c.key, width=widths[c.key])
        for asset in rows:
            self.add_row(*self._display(self._shown[asset]), key=asset)
        self._apply_sort()
        if selected is not None and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected), animate=False)
        return True

    def _order(self) -> list[str]:
        return list(self._shown)

    def _display(self, cells: tuple[str | Text, ...]) -> tuple[str | Text, ...]:
        """The visible columns' cells, the market's name cut to its column."""
        out = []
        for key in self._showing:
            cell = cells[INDEX[key]]
            if key == "question" and isinstance(cell, str):
                cell = short(cell, self._widths.get("question", len(cell)))
            out.append(cell)
        return tuple(out)

    def _overflows(self, cells: tuple[str | Text, ...]) -> bool:
        """A value wider than its (non-flexible) column: the widths must follow."""
        for key in self._showing:
            if key == "question":
                continue
            width = self._widths.get(key)
            cell = cells[INDEX[key]]
            size_ = cell.cell_len if isinstance(cell, Text) else len(str(cell))
            if width is not None and size_ > width:
                return True
        return False

    # -- data --------------------------------------------------------------------------------
    def show(self, snap: EngineSnapshot, extras: Mapping[str, MarketExtras]) -> int:
        """Patch the table from `snap`; returns how many cells were rewritten."""
        written = 0
        resort = False
        refit = False
        sort_key = self.sort_column
        seen: set[str] = set()
        no_extras = MarketExtras()
        for row in snap.markets:
            asset = row.asset_id
            seen.add(asset)
            extra = extras.get(asset, no_extras)
            if self._versions.get(asset) == row.version and self._extras.get(asset) == extra:
                continue
            self._versions[asset] = row.version
            self._rows[asset] = row
            self._extras[asset] = extra
            cells = _cells(row, extra)
            old = self._shown.get(asset)
            self._shown[asset] = cells
            refit = refit or old is None or self._overflows(cells)
            if not self._matches(asset):
                continue
            if old is None or asset not in self.rows:
                self.add_row(*self._display(cells), key=asset)
                written += len(self._showing)
                resort = True
                continue
            shown, before = self._display(cells), self._display(old)
            for key, new, was in zip(self._showing, shown, before, strict=True):
                if new != was:
                    self.update_cell(asset, key, new, update_width=False)
                    written += 1
            if sort_key is not None and cells[INDEX[sort_key]] != old[INDEX[sort_key]]:
                resort = True
        for gone in [a for a in self._shown if a not in seen]:
            self._forget(gone)
            refit = True
        rebuilt = False
        if refit:
            # New rows (a longer name), a removed market, a wider value: widths follow.
            self._shown = {r.asset_id: self._shown[r.asset_id] for r in snap.markets}
            rebuilt = self._fit()
        if rebuilt:
            pass
        elif resort and self.sort_column is None:
            self._snapshot_order([r.asset_id for r in snap.markets])
        elif resort:
            self._apply_sort()
        if self._reselect is not None and self._reselect in self.rows:
            self.move_cursor(row=self.get_row_index(self._reselect), animate=False)
            self._reselect = None
        self.cells_written += written
        return written

    def _snapshot_order(self, order: list[str]) -> None:
        """Rows in the snapshot's order (by market, then outcome) once new ones arrived:
        appended rows would otherwise sit wherever the refresh that saw them left them."""
        keys = [a for a in order if a in self.rows]
        if self.shown_assets == keys:
            return
        selected = self.selected_asset
        self.clear()
        for asset in keys:
            self.add_row(*self._display(self._shown[asset]), key=asset)
        if selected is not None and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected), animate=False)

    def repaint(self) -> None:
        """Draw every row again on the next `show` (the theme's colours changed)."""
        selected = self.selected_asset
        self.clear()
        self._shown.clear()
        self._versions.clear()
        self._extras.clear()
        self._rows.clear()
        self._reselect = selected

    def _forget(self, asset: str) -> None:
        self._shown.pop(asset, None)
        self._versions.pop(asset, None)
        self._rows.pop(asset, None)
        self._extras.pop(asset, None)
        if asset in self.rows:
            self.remove_row(asset)

    def _matches(self, asset: str) -> bool:
        if not self.filter_text:
            return True
        row = self._rows.get(asset)
        if row is None:
            return False
        needle = self.filter_text.lower()
        return needle in row.question.lower() or needle in row.outcome.lower()

    def set_filter(self, text: str) -> None:
        """Show only rows whose question or outcome contains `text` (any case)."""
        self.filter_text = text.strip()
        for asset, cells in self._shown.items():
            present = asset in self.rows
            wanted = self._matches(asset)
            if wanted and not present:
                self.add_row(*self._display(cells), key=asset)
            elif present and not wanted:
                self.remove_row(asset)
        if self.sort_column is None:
            # Rows the filter brought back go to their places, not to the bottom.
            self._snapshot_order(list(self._shown))
        self._apply_sort()

    @property
    def shown_assets(self) -> list[str]:
        """Row keys in display order."""
        return [str(row.key.value) for row in self.ordered_rows]

    def cells_of(self, asset_id: str) -> dict[str, str]:
        """What the row of `asset_id` shows, by column key, as plain text."""
        cells = self._shown.get(asset_id, ())
        return {
            c.key: (v.plain if isinstance(v, Text) else str(v))
            for c, v in zip(COLUMNS, cells, strict=False)
        }

    # -- sorting -------------------------------------------------------------------------------
    @property
    def sortable(self) -> tuple[str, ...]:
        """The sort columns this layout shows."""
        return tuple(c for c in SORTABLE if c in self._showing)

    def _apply_sort(self) -> None:
        if self.sort_column is not None and self.row_count and self.sort_column in self.columns:
            # The cursor stays on its market, not on its row number: with a price sort the
            # rows reorder as prices move, and enter / flatten act on the selection.
            selected = self.selected_asset
            key = _text if self.sort_column in _TEXT_COLUMNS else _numeric
            self.sort(self.sort_column, key=key, reverse=self.sort_reverse)
            if selected is not None and selected in self.rows:
                self.move_cursor(row=self.get_row_index(selected), animate=False)

    def sort_by(self, column: str, reverse: bool = False) -> None:
        if column not in self._showing:
            self.notify(f"this layout does not show {column}: widen the terminal", timeout=2)
            return
        self.sort_column = column
        self.sort_reverse = reverse
        self._apply_sort()

    def action_cycle_sort(self) -> None:
        order = self.sortable
        at = order.index(self.sort_column) + 1 if self.sort_column in order else 0
        self.sort_by(order[at % len(order)], self.sort_reverse)
        self.notify(f"sorted by {self.sort_column}", timeout=1.5)

    def action_reverse_sort(self) -> None:
        if self.sort_column is None:
            self.sort_column = self.sortable[0]
        self.sort_by(self.sort_column, not self.sort_reverse)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = str(event.column_key.value)
        if column in SORTABLE:
            self.sort_by(column, not self.sort_reverse if column == self.sort_column else False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.MarketSelected(event.row_key.value))

    @property
    def selected_asset(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # noqa: BLE001 - no valid cursor cell: nothing selected
            return None
        return key.value

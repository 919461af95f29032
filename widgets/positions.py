"""Orders and positions: what we hold (marked, with PnL) and what rests on the books.
Both tables are keyed (positions by token, orders by id) and patched in place."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Label
from textual.widgets.data_table import CellDoesNotExist

from engine.runtime.snapshot import EngineSnapshot
from widgets.cell_cache import CachedCellsTable
from widgets.format import market_label, palette, pnl, price, short, size

POSITION_COLUMNS = (
    ("market", "Position", 18),
    ("shares", "Shares", 8),
    ("avg", "Avg", 6),
    ("mark", "Mark", 6),
    ("unrealized", "Unreal.", 8),
    ("realized", "Real.", 8),
)
ORDER_COLUMNS = (
    ("market", "Order", 18),
    ("side", "Side", 4),
    ("price", "Price", 6),
    ("size", "Size", 8),
    ("filled", "Filled", 8),
    ("strategy", "Strategy", 12),
)


def _patch(
    table: DataTable[str | Text],
    columns: tuple[tuple[str, str, int], ...],
    rows: Mapping[str, tuple[str | Text, ...]],
    shown: dict[str, tuple[str | Text, ...]],
) -> None:
    # Blank rows fill the table to its visible height: its row count (its virtual size,
    # whose every change lays out the whole screen) then stays put while orders come and
    # go many times a second; only a list taller than the pane changes it.
    blank = ("",) * len(columns)
    header = table.header_height if table.show_header else 0
    visible = max(0, table.scrollable_content_region.height - header)
    padded = dict(rows)
    for i in range(len(rows), visible):
        padded[f"~{i}"] = blank  # "~" starts no order id nor token id
    if list(shown) != list(padded):
        # Rows came or went: lay them out again in the snapshot's order (appending would
        # make the order depend on which refresh saw which change), a cursor the reader
        # moved kept on its row (another order filling does not move the reader's place;
        # one left at the top stays at the top).
        selected: str | None = None
        if table.row_count and table.cursor_row > 0:  # the reader moved it: follow its row
            with contextlib.suppress(CellDoesNotExist):
                selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        table.clear()
        shown.clear()
        for key, cells in padded.items():
            table.add_row(*cells, key=key)
            shown[key] = cells
        if selected is not None and selected in padded:
            table.move_cursor(row=table.get_row_index(selected), animate=False)
        return
    for key, cells in padded.items():
        old = shown.get(key)
        if old is None:
            table.add_row(*cells, key=key)
        else:
            for (col, _, _), new, before in zip(columns, cells, old, strict=True):
                if new != before:
                    table.update_cell(key, col, new, update_width=False)
        shown[key] = cells


class OrdersPositionsPane(Vertical):
    DEFAULT_CSS = """
    OrdersPositionsPane { height: 1fr; }
    OrdersPositionsPane DataTable { height: 1fr; }
    OrdersPositionsPane Label { color: $text-muted; width: 1fr; height: 1; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._positions: dict[str, tuple[str | Text, ...]] = {}
        self._orders: dict[str, tuple[str | Text, ...]] = {}
        self._key: object = None
        self._snap: EngineSnapshot | None = None
        self._count = ""

    def compose(self) -> ComposeResult:
        yield CachedCellsTable(id="positions-table", cursor_type="row", zebra_stripes=True)
        yield Label("", id="orders-count")
        yield CachedCellsTable(id="orders-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        positions = self.query_one("#positions-table", DataTable)
        for key, label, width in POSITION_COLUMNS:
            positions.add_column(label, key=key, width=width)
        orders = self.query_one("#orders-table", DataTable)
        for key, label, width in ORDER_COLUMNS:
            orders.add_column(label, key=key, width=width)

    def repaint(self) -> None:
        """Draw every row again on the next `show` (the theme's colours changed)."""
        for table_id, shown in (
            ("#positions-table", self._positions),
            ("#orders-table", self._orders),
        ):
            self.query_one(table_id, DataTable).clear()
            shown.clear()
        self._key = None

    def on_resize(self) -> None:
        # The blank rows follow the tables' height: fit them to the new size now, not on
        # the next change of orders (which would make the rows depend on timing).
        if self._snap is not None:
            self._key = None
            self.show(self._snap)

    def show(self, snap: EngineSnapshot) -> None:
        self._snap = snap
        key = (snap.positions, snap.orders)  # sections are reused objects while unchanged
        if key == self._key:
            return
        self._key = key
        positions = {
            p.asset_id: (
                market_label(p.question, p.outcome, 18),
                size(p.shares),
                price(p.avg_price),
                price(p.mark),
                pnl(p.unrealized),
                pnl(p.realized),
            )
            for p in snap.positions
            if p.shares
        }
        orders = {
            o.order_id: (
                market_label(o.question, o.outcome, 18),
                Text(
                    o.side.lower(),
                    style=palette("pnl-up") if o.side.lower() == "buy" else palette("pnl-down"),
                ),
                price(o.price),
                size(o.size),
                size(o.filled),
                short(o.strategy, 12),
            )
            for o in snap.orders
        }
        _patch(
            self.query_one("#positions-table", DataTable),
            POSITION_COLUMNS,
            positions,
            self._positions,
        )
        _patch(self.query_one("#orders-table", DataTable), ORDER_COLUMNS, orders, self._orders)
        count = f"{len(orders)} open orders · {len(positions)} positions"
        if count != self._count:
            self._count = count
            # One line across the pane (fixed by the stylesheet): no layout pass.
            self.query_one("#orders-count", Label).update(count, layout=False)

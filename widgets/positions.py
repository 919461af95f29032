"""Orders and positions: what we hold (marked, with PnL) and what rests on the books, with
each order's status as the venue reports it. Both tables are keyed (positions by token,
orders by id) and patched in place; their columns follow the layout and their content
(the market's label takes the room the figures leave). `x` on an order cancels it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from decimal import Decimal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Label
from textual.widgets.data_table import CellDoesNotExist

from engine.orders import OrderStatus
from engine.runtime.snapshot import EngineSnapshot, OrderRow, PositionRow
from engine.venue import TradeStatus
from widgets.cell_cache import CachedCellsTable
from widgets.columns import Column, fit
from widgets.format import DASH, market_label, palette, pnl, price, short, size

POSITION_COLUMNS = (
    Column("market", "Position", flex=True),
    Column("shares", "Shares"),
    Column("avg", "Avg"),
    Column("mark", "Mark"),
    Column("unrealized", "Unreal."),
    Column("realized", "Real."),
)
ORDER_COLUMNS = (
    Column("market", "Order", flex=True),
    Column("side", "Side"),
    Column("type", "Type"),
    Column("price", "Price"),
    Column("size", "Size"),
    Column("filled", "Filled"),
    Column("status", "Status"),
    Column("strategy", "Strategy"),
)
LAYOUT_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "compact": {
        "positions": ("market", "shares", "avg", "mark", "unrealized"),
        "orders": ("market", "side", "price", "size", "filled", "status"),
    },
    "medium": {
        "positions": ("market", "shares", "avg", "mark", "unrealized", "realized"),
        "orders": ("market", "side", "price", "size", "filled", "status", "strategy"),
    },
    "wide": {
        "positions": tuple(c.key for c in POSITION_COLUMNS),
        "orders": tuple(c.key for c in ORDER_COLUMNS),
    },
}
PRICE_KEYS = ("avg", "mark", "price")
LABEL_MIN = 14


def _position_cells(p: PositionRow) -> dict[str, str | Text]:
    # Dust (below the market's minimum order size) cannot be sold: held to settlement.
    shares = Text(size(p.shares))
    if p.dust:
        shares.append(" dust", style="dim")
    return {
        "market": f"{p.question}\x00{p.outcome}",
        "shares": shares,
        "avg": price(p.avg_price),
        "mark": price(p.mark),
        "unrealized": pnl(p.unrealized),
        "realized": pnl(p.realized),
    }


# A live venue's words for an order on its way (matched, then mined and confirmed on
# chain) and for one that went wrong; the engine's own (paper) words in between.
# (StrEnums: the snapshot's words compare equal to them.)
_IN_FLIGHT = frozenset(
    {OrderStatus.NEW, OrderStatus.MATCHED, TradeStatus.MINED, TradeStatus.RETRYING}
)
_WENT_WRONG = frozenset({OrderStatus.FAILED, OrderStatus.REJECTED})


def _status(o: OrderRow) -> Text:
    """What the venue last said of a live order (live, matched, mined, confirmed, failed,
    cancelled); the engine's own status for a paper order (which has no venue)."""
    word = o.venue_status or o.status
    status = Text(word.replace("_", " "))
    if word in _IN_FLIGHT:
        status.stylize(palette("warn"))
    elif word in _WENT_WRONG:
        status.stylize(palette("pnl-down"))
    return status


def _order_cells(o: OrderRow) -> dict[str, str | Text]:
    buy = o.side.lower() == "buy"
    status = _status(o)
    return {
        "market": f"{o.question}\x00{o.outcome}",
        "side": Text(o.side.lower(), style=palette("pnl-up") if buy else palette("pnl-down")),
        "type": o.order_type,
        "price": price(o.price),
        "size": size(o.size),
        "filled": size(o.filled) if o.filled else DASH,
        "status": status,
        "strategy": short(o.strategy, 14),
    }


def _label(packed: str | Text, width: int) -> str:
    """The market's "question outcome" label cut to `width`, never the outcome."""
    text = packed.plain if isinstance(packed, Text) else packed
    question, _, outcome = text.partition("\x00")
    return market_label(question, outcome, width)


def _patch(
    table: DataTable[str | Text],
    keys: tuple[str, ...],
    rows: Mapping[str, tuple[str | Text, ...]],
    shown: dict[str, tuple[str | Text, ...]],
) -> None:
    # Blank rows fill the table to its visible height: its row count (its virtual size,
    # whose every change lays out the whole screen) then stays put while orders come and
    # go many times a second; only a list taller than the pane changes it.
    blank = ("",) * len(keys)
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
            for col, new, before in zip(keys, cells, old, strict=True):
                if new != before:
                    table.update_cell(key, col, new, update_width=False)
        shown[key] = cells


class OrdersTable(CachedCellsTable[str | Text]):
    """The open orders; `x` cancels the one under the cursor."""

    BINDINGS = [
        Binding("x", "cancel_order", "Cancel order", id="cancel-order"),
    ]

    class CancelAsked(Message):
        """`x` on an order: take it off the book."""

        def __init__(self, order_id: str) -> None:
            super().__init__()
            self.order_id = order_id

    @property
    def selected_order(self) -> str | None:
        if not self.row_count:
            return None
        with contextlib.suppress(CellDoesNotExist):
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
            if key is not None and not key.startswith("~"):
                return key
        return None

    def action_cancel_order(self) -> None:
        order_id = self.selected_order
        if order_id is None:
            self.notify("no order under the cursor", timeout=2)
            return
        self.post_message(self.CancelAsked(order_id))


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
        self.layout_name = "medium"
        self._widths: dict[str, dict[str, int]] = {"positions": {}, "orders": {}}

    def compose(self) -> ComposeResult:
        yield CachedCellsTable(id="positions-table", cursor_type="row", zebra_stripes=True)
        yield Label("", id="orders-count")
        yield OrdersTable(id="orders-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self._fit(force=True)

    def use_layout(self, name: str) -> None:
        self.layout_name = name
        self._fit()

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
        # The blank rows follow the tables' height and the columns its width: fit them
        # now, not on the next change of orders (which would make rows depend on timing).
        self._fit()

    # -- columns ------------------------------------------------------------------------------
    def _cells(
        self, snap: EngineSnapshot | None
    ) -> tuple[dict[str, dict[str, str | Text]], dict[str, dict[str, str | Text]]]:
        if snap is None:
            return {}, {}
        positions = {p.asset_id: _position_cells(p) for p in snap.positions if p.shares}
        orders = {o.order_id: _order_cells(o) for o in snap.orders}
        return positions, orders

    def _fit(self, force: bool = False) -> None:
        if not self.is_mounted:
            return
        positions, orders = self._cells(self._snap)
        widest = price(Decimal(1))
        changed = force
        for name, table_id, all_columns, cells in (
            ("positions", "#positions-table", POSITION_COLUMNS, positions),
            ("orders", "#orders-table", ORDER_COLUMNS, orders),
        ):
            table = self.query_one(table_id, DataTable)
            keys = LAYOUT_COLUMNS.get(self.layout_name, LAYOUT_COLUMNS["wide"])[name]
            columns = [c for c in all_columns if c.key in keys]
            values: dict[str, list[object]] = {c.key: [] for c in columns}
            for row in cells.values():
                for c in columns:
                    cell = row[c.key]
                    values[c.key].append(_label(cell, 999) if c.key == "market" else cell)
            for k in PRICE_KEYS:
                if k in values:
                    values[k].append(widest)
            # The pane's width (the tables fill it), less a vertical scrollbar's room.
            available = (self.size.width or self.app.size.width) - 2
            widths = fit(columns, values, available, flex_min=LABEL_MIN, fill=True)
            shown = tuple(str(k.value) for k in table.columns)
            if not force and widths == self._widths[name] and shown == tuple(widths):
                continue
            self._widths[name] = widths
            table.clear(columns=True)
            for c in columns:
                if c.key in widths:
                    table.add_column(c.label, key=c.key, width=widths[c.key])
            (self._positions if name == "positions" else self._orders).clear()
            changed = True
        if changed:
            self._key = None
        if self._snap is not None:
            self._key = None
            self.show(self._snap)

    def _overflows(self, name: str, rows: Mapping[str, dict[str, str | Text]]) -> bool:
        widths = self._widths[name]
        for cells in rows.values():
            for key, width in widths.items():
                if key == "market":
                    continue
                cell = cells.get(key, "")
                size_ = cell.cell_len if isinstance(cell, Text) else len(str(cell))
                if size_ > width:
                    return True
        return False

    def _rows(
        self, name: str, cells: Mapping[str, dict[str, str | Text]]
    ) -> tuple[tuple[str, ...], dict[str, tuple[str | Text, ...]]]:
        widths = self._widths[name]
        keys = tuple(widths)
        rows = {
            row_key: tuple(_label(row[k], widths[k]) if k == "market" else row[k] for k in keys)
            for row_key, row in cells.items()
        }
        return keys, rows

    # -- data ---------------------------------------------------------------------------------
    def show(self, snap: EngineSnapshot) -> None:
        self._snap = snap
        key = (snap.positions, snap.orders)  # sections are reused objects while unchanged
        if key == self._key:
            return
        self._key = key
        positions, orders = self._cells(snap)
        if self._overflows("positions", positions) or self._overflows("orders", orders):
            self._fit()  # a wider value than the columns were fitted to: fit again
            return
        for name, table_id, cells, shown in (
            ("positions", "#positions-table", positions, self._positions),
            ("orders", "#orders-table", orders, self._orders),
        ):
            keys, rows = self._rows(name, cells)
            if keys:
                _patch(self.query_one(table_id, DataTable), keys, rows, shown)
        count = f"{len(orders)} open orders · {len(positions)} positions  (x cancels an order)"
        if count != self._count:
            self._count = count
            # One line across the pane (fixed by the stylesheet): no layout pass.
            self.query_one("#orders-count", Label).update(count, layout=False)

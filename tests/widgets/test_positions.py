"""The Orders pane says where each order stands: a live order by what the venue last said
of it (live, matched, mined, confirmed, failed, cancelled), a paper order by the engine's
own status."""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from engine.runtime.snapshot import OrderRow
from engine.venue import TradingMode
from tests.kit.snapshots import blank_snapshot
from widgets.positions import OrdersPositionsPane

VENUE_WORDS = ("live", "matched", "mined", "confirmed", "failed", "cancelled")


def _order(n: int, status: str, venue_status: str = "") -> OrderRow:
    return OrderRow(
        order_id=f"o{n}",
        asset_id=f"a{n}",
        question=f"Will market {n} resolve yes?",
        outcome="Yes",
        side="buy",
        order_type="GTC",
        price=Decimal("0.42"),
        size=Decimal(10),
        filled=Decimal(0),
        status=status,
        strategy="manual",
        created_at=0.0,
        venue_id=f"0xhash{n}" if venue_status else None,
        venue_status=venue_status,
    )


class _Pane(App[None]):
    def compose(self) -> ComposeResult:
        yield OrdersPositionsPane()


async def _statuses(orders: tuple[OrderRow, ...], mode: TradingMode) -> dict[str, str]:
    app = _Pane()
    async with app.run_test(size=(160, 30)) as pilot:
        pane = app.query_one(OrdersPositionsPane)
        pane.show(blank_snapshot(mode=mode, orders=orders))
        await pilot.pause()
        table = app.query_one("#orders-table", DataTable)
        shown: dict[str, str] = {}
        for o in orders:
            cell = table.get_cell(o.order_id, "status")
            shown[o.order_id] = cell.plain if isinstance(cell, Text) else str(cell)
        return shown


async def test_a_live_order_shows_the_venues_status_not_the_engines() -> None:
    # The engine calls a matched order "matched" until it is final; the venue says
    # "mined" and then "confirmed" on the way: the pane must say what the venue said.
    orders = tuple(
        _order(n, "matched" if word in ("matched", "mined") else "live", word)
        for n, word in enumerate(VENUE_WORDS)
    )
    shown = await _statuses(orders, TradingMode.LIVE)
    assert shown == {f"o{n}": word for n, word in enumerate(VENUE_WORDS)}


async def test_a_paper_order_shows_its_own_status() -> None:
    orders = (_order(1, "new"), _order(2, "partially_filled"), _order(3, "live"))
    shown = await _statuses(orders, TradingMode.PAPER)
    assert shown == {"o1": "new", "o2": "partially filled", "o3": "live"}

"""The order form on the seeded replay, driven with Pilot: the preview (cost, fee, worst
price, the risk gate's word), a size the risk gate refuses (nothing sent, the form stays),
a buy sent through the gate and the gateway (recorded as ``manual``), and a resting order
cancelled from the Orders pane."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from textual.widgets import Input, Select

from engine.fixed import price_decimal
from engine.orders import OrderType, Side
from engine.runtime.commands import ManualOrder
from polyterm.tui.app import PolytermApp
from polyterm.tui.screens.order import OrderScreen
from tests.kit.console import backend, console, plain, replayed, truth, until
from widgets.markets_table import MarketsTable
from widgets.positions import OrdersTable

pytestmark = pytest.mark.integration  # the whole console in Pilot: `make test`, not `make unit`

SIZE = (120, 35)
# The tape's strategies leave the global order-rate window full at its last moment (the
# replay's clock stops there): room for a person's orders.
ROOM = {"TRADING_ORDER_FREQUENCY_MAX_ORDERS": "1000"}


def _pick_market(app: PolytermApp) -> str:
    """A token with both sides of a book (a buy can fill, a bid can rest below)."""
    table = app.screen.query_one(MarketsTable)
    snap = app.bridge.latest
    assert snap is not None
    row = next(
        r
        for r in snap.markets
        if r.best_bid is not None and r.best_ask is not None and r.best_bid > Decimal("0.05")
    )
    table.move_cursor(row=table.get_row_index(row.asset_id))
    return row.asset_id


async def _form(pilot, side: str = "b") -> OrderScreen:  # type: ignore[no-untyped-def]
    app = pilot.app
    await pilot.press(side)
    await until(pilot, lambda: isinstance(app.screen, OrderScreen))
    await pilot.pause()
    form = app.screen
    assert isinstance(form, OrderScreen)
    return form


async def _type(pilot, form: OrderScreen, field: str, text: str) -> None:  # type: ignore[no-untyped-def]
    box = form.query_one(field, Input)
    box.value = text
    await pilot.pause()


def _preview(form: OrderScreen) -> str:
    return plain(form.query_one("#order-preview"))


async def test_the_form_previews_cost_fee_worst_price_and_the_risk_gate(
    tape: Path, tmp_path: Path
) -> None:
    app = console(tape, tmp_path, env=ROOM)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        asset = _pick_market(app)
        form = await _form(pilot)
        assert form.asset_id == asset
        row = backend(app).market_row(asset)
        assert row is not None
        assert row.best_ask is not None
        # Opened on the best ask, for a buy: the limit field says it in cents.
        assert form.query_one("#order-price", Input).value == f"{row.best_ask * 100:.1f}"
        await _type(pilot, form, "#order-size", "5")
        shown = _preview(form)
        assert "buy 5.00 at" in shown
        assert f"worst price {row.best_ask * 100:.1f}¢" in shown
        assert "risk gate: approved" in shown
        # The figures are the engine's own preview of the same order.
        truth_ = backend(app).manual_preview(
            ManualOrder(asset, Side.BUY, 5_000_000, int(row.best_ask * 10_000), OrderType.FAK)
        )
        assert truth_.approved
        cost = Decimal(truth_.expected_cost).scaleb(-10)
        assert f"for {cost:,.2f}" in shown
        # A typo is one line naming the field, never a traceback.
        await _type(pilot, form, "#order-size", "ten")
        assert "size 'ten' is not a number" in _preview(form)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, OrderScreen))


async def test_a_size_the_risk_gate_refuses_is_not_sent_and_the_form_stays(
    tape: Path, tmp_path: Path
) -> None:
    app = console(tape, tmp_path, env=ROOM)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        _pick_market(app)
        orders_before = truth(app).counters.orders
        form = await _form(pilot)
        await _type(pilot, form, "#order-size", "1000")  # far past risk.max_order_shares
        shown = _preview(form)
        assert "risk gate: refused (max order)" in shown, shown
        form.query_one("#order-size", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: any(n.title == "Order refused" for n in app.notices.posted))
        assert isinstance(app.screen, OrderScreen), "a refused order closed the form"
        assert truth(app).counters.orders == orders_before, "a refused order was sent"
        assert "refused (max order)" in _preview(form)


async def test_a_buy_is_sent_through_the_gate_and_recorded_as_manual(
    tape: Path, tmp_path: Path
) -> None:
    app = console(tape, tmp_path, env=ROOM)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        asset = _pick_market(app)
        held_before = next((p.shares for p in truth(app).positions if p.asset_id == asset), 0)
        form = await _form(pilot)
        await _type(pilot, form, "#order-size", "5")
        form.query_one("#order-size", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, OrderScreen))
        await until(pilot, lambda: any(n.title == "Order" for n in app.notices.posted))
        held = next(p.shares for p in truth(app).positions if p.asset_id == asset)
        assert held == held_before + 5
        said = next(n for n in app.notices.posted if n.title == "Order").message
        assert "filled 5.00" in said
    db = sqlite3.connect(tmp_path / "console.sqlite")
    try:
        rows = db.execute(
            "SELECT strategy, reason, status, order_type FROM orders WHERE asset_id = ? "
            "AND strategy = 'manual'",
            (asset,),
        ).fetchall()
    finally:
        db.close()
    assert rows == [("manual", "manual (by console)", "filled", "FAK")]


async def test_a_resting_order_is_cancelled_from_the_orders_pane(
    tape: Path, tmp_path: Path
) -> None:
    app = console(tape, tmp_path, env=ROOM)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        asset = _pick_market(app)
        row = backend(app).market_row(asset)
        assert row is not None
        assert row.best_bid is not None
        below = row.best_bid - row.tick * 2  # rests: nothing sells that low now
        form = await _form(pilot)
        await _type(pilot, form, "#order-size", "5")
        await _type(pilot, form, "#order-price", f"{below * 100:.1f}")
        form.query_one("#order-type", Select).value = OrderType.GTC
        await pilot.pause()
        assert "rests on the book" in _preview(form)
        form.query_one("#order-size", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, OrderScreen))

        def resting() -> list[str]:
            return [o.order_id for o in truth(app).orders if o.strategy == "manual"]

        await until(pilot, lambda: len(resting()) == 1)
        [order_id] = resting()
        # The Orders pane shows it with the venue's status; x there cancels it.
        table = app.screen.query_one(OrdersTable)
        await until(pilot, lambda: order_id in [str(r.key.value) for r in table.ordered_rows])
        cells = [str(c) for c in table.get_row(order_id)]
        assert "live" in cells
        assert f"{price_decimal(int(below * 10_000)) * 100:.1f}¢" in cells
        table.focus()
        table.move_cursor(row=table.get_row_index(order_id))
        await pilot.press("x")
        await until(pilot, lambda: not resting())
        await until(pilot, lambda: any(n.title == "Cancel" for n in app.notices.posted))
    db = sqlite3.connect(tmp_path / "console.sqlite")
    try:
        status = db.execute("SELECT status FROM orders WHERE id = ?", (order_id,)).fetchone()
    finally:
        db.close()
    assert status == ("cancelled",)


async def test_the_console_follows_snapshots_through_one_subscription_after_an_order(
    tape: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Saying where a sent order stands waits for a snapshot that shows it: through the
    # console's own subscription, not a second one opened for each order.
    from collections.abc import AsyncIterator

    from engine.runtime.snapshot import EngineSnapshot, SnapshotHub

    opened: list[SnapshotHub] = []
    subscribe = SnapshotHub.subscribe

    def counted(hub: SnapshotHub) -> AsyncIterator[EngineSnapshot]:
        opened.append(hub)
        return subscribe(hub)

    monkeypatch.setattr(SnapshotHub, "subscribe", counted)
    app = console(tape, tmp_path, env=ROOM)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        assert len(opened) == 1
        _pick_market(app)
        form = await _form(pilot)
        await _type(pilot, form, "#order-size", "5")
        form.query_one("#order-size", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: any(n.title == "Order" for n in app.notices.posted))
        said = next(n for n in app.notices.posted if n.title == "Order").message
        assert "filled 5.00" in said
        assert len(opened) == 1, f"{len(opened)} snapshot subscriptions"

"""An order request answered after the client's timeout: the gateway never sends it
again; it looks the order up by its signed hash, so exactly one order is at the venue."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.orders import OrderType, Side
from engine.runtime.manual import ManualOrder
from tests.kit.live import snapshot_where
from tests.kit.live_venue import QUIET, live_engine, rows, throwaway_key, venue_orders
from tests.kit.venue import admin, eventually, venue

pytestmark = pytest.mark.integration
SHARES = 10**6


async def test_an_answer_after_the_timeout_leaves_exactly_one_order_at_the_venue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    throwaway_key(monkeypatch)
    ledger = tmp_path / "live.sqlite"
    async with venue() as emu:
        assert emu.urls is not None
        book = emu.exchange.markets[0].yes
        env = {**QUIET, "LIVE_ORDER_TIMEOUT_S": "0.5"}
        async with live_engine(emu, ledger, env) as live:
            await snapshot_where(live, lambda s: not s.trading_blocks and bool(s.markets))
            # The next order lands at once but its answer leaves 3 s later, long after
            # the client gave up waiting for it; the user channel says nothing meanwhile:
            # only looking the order up by its hash can tell where it is.
            await admin(
                emu.urls,
                "POST",
                "/faults",
                {"order_late": 1, "order_late_s": 3.0, "user_ws_stall": 5.0},
            )
            assert book.best_bid is not None
            price = book.best_bid - 5 * book.tick
            sent = await live.runner.manual_order(
                ManualOrder(book.asset_id, Side.BUY, 5 * SHARES, price, OrderType.GTC),
                who="test",
            )
            assert sent.order_id is not None
            snap = await snapshot_where(live, lambda s: any(o.status == "live" for o in s.orders))
            (row,) = snap.orders
            assert row.venue_status == "live"
            assert row.venue_id is not None
            at_venue = await venue_orders(emu)
            assert [o["id"] for o in at_venue] == [row.venue_id]  # once, never resent
            assert at_venue[0]["status"] == "LIVE"
            await eventually(lambda: emu.control.faults.order_late == 0)
            await asyncio.sleep(3.5)  # the late answer has come and gone: still one order
            assert len(await venue_orders(emu)) == 1
        # Stopping cancelled it at the venue (execution.on_stop = "cancel").
        assert [o["status"] for o in await venue_orders(emu)] == ["CANCELED"]
    recorded = rows(ledger, "SELECT id, venue_id, status, venue_status FROM orders")
    assert recorded == [(sent.order_id, row.venue_id, "cancelled", "cancelled")]
    steps = rows(ledger, "SELECT status FROM order_events ORDER BY id")
    assert [s for (s,) in steps] == [
        "new",
        "new",  # signed: its venue id on disk before it left
        "venue:live",
        "live",
        "venue:cancelled",
        "cancelled",
    ]

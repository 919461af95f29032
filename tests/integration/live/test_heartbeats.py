"""Order heartbeats dropped at the venue: new orders stop at once (fail closed), the
venue's dead-man switch cancels everything, the engine hears the cancels, and trading
resumes once heartbeats are accepted again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.orders import OrderType, Side
from engine.runtime.manual import ManualOrder
from engine.venue import BlockReason
from tests.kit.live import snapshot_where
from tests.kit.live_venue import QUIET, live_engine, rows, throwaway_key, venue_orders
from tests.kit.venue import admin, venue

pytestmark = pytest.mark.integration
SHARES = 10**6
NO_ORDER_WITHIN_S = 5.0  # the bound, from the drop


async def test_lost_heartbeats_stop_new_orders_and_the_venues_cancels_are_heard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    throwaway_key(monkeypatch)
    ledger = tmp_path / "live.sqlite"
    async with venue() as emu:
        assert emu.urls is not None
        book = emu.exchange.markets[0].yes
        async with live_engine(emu, ledger, QUIET) as live:
            await snapshot_where(live, lambda s: not s.trading_blocks and bool(s.markets))
            assert book.best_bid is not None
            resting = ManualOrder(
                book.asset_id, Side.BUY, 5 * SHARES, book.best_bid - 5 * book.tick, OrderType.GTC
            )
            first = await live.runner.manual_order(resting, who="test")
            await snapshot_where(live, lambda s: any(o.status == "live" for o in s.orders))

            # No new order within 5 s of the drop: the block (and so the refusal) comes
            # inside that bound, measured from the moment the venue stops taking them.
            await admin(emu.urls, "POST", "/faults", {"drop_heartbeats": True})
            try:
                async with asyncio.timeout(NO_ORDER_WITHIN_S):
                    blocked = await snapshot_where(
                        live,
                        lambda s: any(b.reason is BlockReason.HEARTBEAT for b in s.trading_blocks),
                    )
            except TimeoutError:
                pytest.fail(f"new orders still allowed {NO_ORDER_WITHIN_S:g} s after the drop")
            block = next(b for b in blocked.trading_blocks if b.reason is BlockReason.HEARTBEAT)
            assert "order heartbeat failed" in block.detail
            refused = await live.runner.manual_order(resting, who="test")
            assert refused.rule == "trading_blocked"
            sent_while_blocked = len(await venue_orders(emu))

            # ~10 s after the last accepted heartbeat the venue cancels every open order;
            # the engine hears it on the user channel.
            cancelled = await snapshot_where(live, lambda s: not s.orders)
            assert any(b.reason is BlockReason.HEARTBEAT for b in cancelled.trading_blocks)
            assert len(await venue_orders(emu)) == sent_while_blocked == 1

            await admin(emu.urls, "POST", "/faults", {"drop_heartbeats": False})
            await snapshot_where(live, lambda s: not s.trading_blocks)
            again = await live.runner.manual_order(resting, who="test")
            assert again.order_id is not None
            await snapshot_where(live, lambda s: any(o.status == "live" for o in s.orders))
    assert rows(
        ledger, "SELECT status, status_reason FROM orders WHERE id = ?", first.order_id
    ) == [("cancelled", "CANCELED_ORDER_TIMED_OUT")]
    kinds = [k for (k, d) in rows(ledger, "SELECT kind, detail FROM venue_events ORDER BY id")]
    assert "trading_blocked" in kinds
    assert "trading_unblocked" in kinds
    heartbeat_blocks = rows(
        ledger,
        "SELECT count(*) FROM venue_events WHERE kind = 'trading_blocked' "
        "AND detail LIKE 'heartbeat: order heartbeat failed%'",
    )
    assert heartbeat_blocks == [(1,)]

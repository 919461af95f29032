"""Reconciliation: a fill the user channel never delivered (the venue lost it, and
replays nothing after a reconnect) is found over REST after the reconnect and counted
once; new orders wait meanwhile."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from polymarket import AcceptedOrder

from engine.orders import OrderType, Side
from engine.runtime.manual import ManualOrder
from engine.venue import BlockReason
from tests.kit.live import snapshot_where
from tests.kit.live_venue import (
    QUIET,
    ledger_shares,
    live_engine,
    rows,
    throwaway_key,
    venue_shares,
)
from tests.kit.venue import admin, price, sdk_client, venue

pytestmark = pytest.mark.integration
SHARES = 10**6


async def test_a_fill_the_channel_never_delivered_is_found_after_the_reconnect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    throwaway_key(monkeypatch)
    ledger = tmp_path / "live.sqlite"
    async with venue(events_per_second=0.0) as emu:
        assert emu.urls is not None
        book = emu.exchange.markets[0].yes
        assert book.best_bid is not None
        assert book.best_ask is not None
        bid = book.best_bid + book.tick  # a new best bid, first in its queue
        assert bid < book.best_ask
        taker = await sdk_client(emu.urls)
        try:
            await admin(
                emu.urls, "POST", f"/wallets/{taker.wallet}/fund", {"tokens": {book.asset_id: "5"}}
            )
            async with live_engine(emu, ledger, QUIET) as live:
                await snapshot_where(live, lambda s: not s.trading_blocks and bool(s.markets))
                mine = await live.runner.manual_order(
                    ManualOrder(book.asset_id, Side.BUY, 5 * SHARES, bid, OrderType.GTC),
                    who="test",
                )
                await snapshot_where(live, lambda s: any(o.status == "live" for o in s.orders))
                # The channel loses what it should say (the venue replays nothing)...
                await admin(emu.urls, "POST", "/faults", {"user_ws_stall": 60.0})
                # ...while someone sells into our bid; then it drops.
                sold = await taker.place_market_order(
                    token_id=book.asset_id, side="SELL", shares=Decimal(5), min_price=price(bid)
                )
                assert isinstance(sold, AcceptedOrder)
                dropped = await admin(emu.urls, "POST", "/faults", {"user_ws_drop": True})
                assert dropped["user_ws_dropped"] == 1
                snap = await snapshot_where(live, lambda s: bool(s.positions))
                assert [(p.asset_id, p.shares) for p in snap.positions] == [(book.asset_id, 5)]
                assert not snap.orders
                await snapshot_where(live, lambda s: not s.trading_blocks)
            assert ledger_shares(ledger) == await venue_shares(emu) == {book.asset_id: 5}
        finally:
            await taker.close()
    assert rows(ledger, "SELECT order_id, size FROM fills") == [(mine.order_id, 5 * SHARES)]
    assert rows(ledger, "SELECT status FROM orders") == [("filled",)]
    events = rows(ledger, "SELECT kind, detail FROM venue_events ORDER BY id")
    blocked = [d for k, d in events if k == "trading_blocked"]
    assert any(d.startswith(f"{BlockReason.CONNECTION}: user channel") for d in blocked)
    assert any(k == "reconciled" and "reconnected" in d for k, d in events)

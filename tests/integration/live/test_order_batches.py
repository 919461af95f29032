"""Orders waiting together leave as the venue's batches: at most 15 a request."""

from __future__ import annotations

import asyncio
import time

import pytest

from engine.orders import OrderRequest, OrderStatus, OrderType, Side
from engine.venue import OrderUpdate
from tests.kit.live_gateway import bare_gateway
from tests.kit.venue import admin, sdk_client, venue
from tests.kit.waits import until

pytestmark = pytest.mark.integration
SHARES = 10**6


async def test_thirty_orders_waiting_together_go_as_two_batches_of_fifteen() -> None:
    """Two batch requests allowed in the venue's window, and one single order: thirty
    orders all land only as 15 + 15 (the venue refuses a batch of more than 15; smaller
    batches would need a third request)."""
    async with venue(events_per_second=0.0) as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            gateway, side = bare_gateway(client, emu.urls)
            market = emu.exchange.markets[0]
            book = market.yes
            assert book.best_bid is not None
            bids = [
                OrderRequest(
                    f"r1-{n}",
                    book.asset_id,
                    market.info.condition_id,
                    Side.BUY,
                    book.best_bid - (5 + n % 5) * book.tick,
                    5 * SHARES,
                    OrderType.GTC,
                    "s",
                    "test",
                    time.time(),
                )
                for n in range(1, 31)
            ]
            await admin(emu.urls, "POST", "/limits", {"POST /orders": 2, "POST /order": 1})
            side.hold()  # every order signed and waiting for the ledger: then all go
            sent = [asyncio.create_task(gateway.submit(o)) for o in bids]
            await until(lambda: side.waiting == 30)
            side.release()
            async with asyncio.timeout(30):
                answers = [r for reports in await asyncio.gather(*sent) for r in reports]
            assert [a.status for a in answers if isinstance(a, OrderUpdate)] == [
                OrderStatus.LIVE
            ] * 30
            state = await admin(emu.urls, "GET", "/state")
            assert state["pacing"]["limited"] == 0
            assert state["open_orders"] == 30
        finally:
            await client.close()

"""How the live gateway signs through the SDK: the id it computes for an order before
posting it is the venue's id for it, and a tick size change reaches the order builder."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from polymarket import AcceptedOrder

from engine.adapters.polymarket.live import sdk
from engine.orders import OrderRequest, OrderType, Side
from tests.kit.venue import admin, sdk_client, sim_clock, venue

pytestmark = pytest.mark.integration
SHARES = 10**6


def bid(asset: str, market: str, price: int, kind: OrderType = OrderType.GTC) -> OrderRequest:
    now = time.time()
    expires = now + 30 if kind is OrderType.GTD else None  # the venue's minimum applies
    return OrderRequest(
        "r1-1",
        asset,
        market,
        Side.BUY,
        price,
        5 * SHARES,
        kind,
        "s",
        "test",
        now,
        expires_at=expires,
    )


async def test_the_hash_computed_before_posting_is_the_venues_order_id() -> None:
    async with venue(events_per_second=0.0) as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            market = emu.exchange.markets[0]
            book = market.yes
            assert book.best_bid is not None
            for kind in (OrderType.GTC, OrderType.GTD):
                order = bid(book.asset_id, market.info.condition_id, book.best_bid - 500, kind)
                signed = await sdk.sign(client, order, tick=book.tick, now=time.time())
                answer = await client.post_order(signed.order)
                assert isinstance(answer, AcceptedOrder)
                assert answer.order_id == signed.venue_id
                assert signed.size == 5 * SHARES
        finally:
            await client.close()


async def test_a_tick_size_change_reaches_the_order_builder() -> None:
    """The SDK caches a market's tick; after the venue re-grids it, an order priced on the
    new tick is signed for it (the SDK is made to read the market again). On a clock
    that stands still, so the order flow cannot re-grid the market back meanwhile."""
    async with venue(clock=sim_clock()) as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            market = emu.exchange.markets[0]
            book = market.yes
            assert book.best_bid is not None
            coarse = bid(book.asset_id, market.info.condition_id, book.best_bid - 500)
            await client.post_order(
                (await sdk.sign(client, coarse, tick=100, now=time.time())).order
            )
            await admin(
                emu.urls,
                "POST",
                f"/markets/{market.info.condition_id}/tick",
                {"tick_size": "0.001"},
            )
            fine = bid(book.asset_id, market.info.condition_id, book.best_bid // 100 * 100 - 550)
            signed = await sdk.sign(client, fine, tick=10, now=time.time())
            answer = await client.post_order(signed.order)
            assert isinstance(answer, AcceptedOrder)
            resting = await client.get_order(order_id=answer.order_id)
            assert resting.price == Decimal(fine.price).scaleb(-4)  # x.xx5: the new grid
        finally:
            await client.close()

"""Order heartbeats through the official SDK, and the venue's dead-man switch."""

from __future__ import annotations

from decimal import Decimal

import pytest
from polymarket import AcceptedOrder
from polymarket.errors import OrderHeartbeatMismatchError, RequestRejectedError

from tests.kit.venue import admin, advance, price, sdk_client, sim_clock, venue

pytestmark = pytest.mark.integration


async def test_heartbeats_chain_and_a_stale_id_is_refused() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            first = await client.send_order_heartbeat()
            second = await client.send_order_heartbeat(heartbeat_id=first.heartbeat_id)
            assert second.heartbeat_id != first.heartbeat_id
            with pytest.raises(OrderHeartbeatMismatchError) as stale:
                await client.send_order_heartbeat(heartbeat_id=first.heartbeat_id)
            assert stale.value.heartbeat_id == second.heartbeat_id
        finally:
            await client.close()


async def test_ten_seconds_without_a_heartbeat_cancels_every_open_order() -> None:
    clock = sim_clock()
    async with venue(clock=clock) as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            book = emu.exchange.markets[0].yes
            placed = await client.place_limit_order(
                token_id=book.asset_id,
                price=price(book.best_bid) - Decimal("0.05"),
                size=Decimal(5),
                side="BUY",
            )
            assert isinstance(placed, AcceptedOrder)
            beat = await client.send_order_heartbeat()  # arms the switch
            await advance(clock, 6)
            beat = await client.send_order_heartbeat(heartbeat_id=beat.heartbeat_id)
            await advance(clock, 6)  # 12 s since arming, 6 s since the last beat
            assert (await client.get_order(order_id=placed.order_id)).status == "LIVE"
            # Heartbeats are lost from now on: the switch fires ~10 s after the last one.
            await admin(emu.urls, "POST", "/faults", {"drop_heartbeats": True})
            with pytest.raises(RequestRejectedError) as lost:
                await client.send_order_heartbeat(heartbeat_id=beat.heartbeat_id)
            assert lost.value.status == 503
            await advance(clock, 5)
            order = await client.get_order(order_id=placed.order_id)
            assert order.status == "CANCELED"
            # Once expired, the next heartbeat arms the switch again from scratch.
            await admin(emu.urls, "POST", "/faults", {"drop_heartbeats": False})
            assert (await client.send_order_heartbeat()).heartbeat_id
        finally:
            await client.close()


async def test_a_key_that_never_sent_a_heartbeat_keeps_its_orders() -> None:
    clock = sim_clock()
    async with venue(clock=clock) as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            book = emu.exchange.markets[0].yes
            placed = await client.place_limit_order(
                token_id=book.asset_id,
                price=price(book.best_bid) - Decimal("0.05"),
                size=Decimal(5),
                side="BUY",
            )
            assert isinstance(placed, AcceptedOrder)
            await advance(clock, 30, step=1)
            assert (await client.get_order(order_id=placed.order_id)).status == "LIVE"
        finally:
            await client.close()

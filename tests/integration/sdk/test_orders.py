"""Orders through the official SDK: every order type, post-only, batches, the tick."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from polymarket import AcceptedOrder
from polymarket.errors import RequestRejectedError, UserInputError

from tests.kit.venue import admin, advance, price, sdk_client, sim_clock, venue

pytestmark = pytest.mark.integration


async def test_gtc_rests_and_is_listed() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            book = emu.exchange.markets[0].yes
            placed = await client.place_limit_order(
                token_id=book.asset_id,
                price=price(book.best_bid) - Decimal("0.05"),
                size=Decimal(10),
                side="BUY",
            )
            assert isinstance(placed, AcceptedOrder)
            assert placed.status == "live"
            page = await client.list_open_orders().first_page()
            assert [o.id for o in page.items] == [placed.order_id]
            assert page.items[0].order_type == "GTC"
            assert (await client.get_order(order_id=placed.order_id)).status == "LIVE"
        finally:
            await client.close()


async def test_gtd_rests_until_its_expiration() -> None:
    clock = sim_clock()
    async with venue(clock=clock) as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            book = emu.exchange.markets[0].yes
            expires = int(time.time()) + 200
            placed = await client.place_limit_order(
                token_id=book.asset_id,
                price=price(book.best_bid) - Decimal("0.05"),
                size=Decimal(10),
                side="BUY",
                expiration=expires,
            )
            assert isinstance(placed, AcceptedOrder)
            order = await client.get_order(order_id=placed.order_id)
            assert order.order_type == "GTD"
            assert order.expires_at is not None
            await advance(clock, 150, step=5)
            assert (await client.get_order(order_id=placed.order_id)).status == "LIVE"
            await advance(clock, 60, step=5)
            assert (await client.get_order(order_id=placed.order_id)).status == "CANCELED"
            assert not (await client.list_open_orders().first_page()).items
        finally:
            await client.close()


async def test_fak_takes_what_the_book_has_and_fok_is_all_or_nothing() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            book = emu.exchange.markets[0].yes
            worst = price(book.best_ask) + Decimal("0.02")
            taken = await client.place_market_order(
                token_id=book.asset_id, side="BUY", amount=Decimal(5), max_price=worst
            )
            assert isinstance(taken, AcceptedOrder)
            assert taken.status == "matched"
            assert Decimal("4.99") < taken.making_amount <= 5  # a market BUY spends its amount
            assert taken.taking_amount > 0
            assert taken.trade_ids
            with pytest.raises(RequestRejectedError, match="FOK orders are fully filled"):
                await client.place_market_order(
                    token_id=book.asset_id,
                    side="BUY",
                    amount=Decimal(9000),
                    max_price=price(book.best_ask),
                    order_type="FOK",
                )
        finally:
            await client.close()


async def test_post_only_rests_or_is_refused_when_it_would_cross() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            book = emu.exchange.markets[0].yes
            resting = await client.place_limit_order(
                token_id=book.asset_id,
                price=price(book.best_bid),
                size=Decimal(5),
                side="BUY",
                post_only=True,
            )
            assert isinstance(resting, AcceptedOrder)
            with pytest.raises(RequestRejectedError, match="post-only order: order crosses book"):
                await client.place_limit_order(
                    token_id=book.asset_id,
                    price=price(book.best_ask),
                    size=Decimal(5),
                    side="BUY",
                    post_only=True,
                )
        finally:
            await client.close()


async def test_a_batch_of_fifteen_is_placed_and_sixteen_are_refused() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            book = emu.exchange.markets[1].yes
            low = price(book.best_bid) - Decimal("0.10")
            signed = [
                await client.create_limit_order(
                    token_id=book.asset_id, price=low, size=Decimal(5), side="BUY"
                )
                for _ in range(16)
            ]
            answers = await client.post_orders(signed[:15])
            assert len(answers) == 15
            assert all(isinstance(a, AcceptedOrder) for a in answers)
            with pytest.raises(UserInputError, match="15"):
                await client.post_orders(signed)
            # The venue refuses it too, whoever builds the request.
            from polymarket._internal.actions.orders.post import _build_send_order_payload

            body = [
                _build_send_order_payload(o, owner_api_key=client.credentials.key) for o in signed
            ]
            with pytest.raises(RequestRejectedError, match="at most 15"):
                await client._ctx.secure_clob.post_json("/orders", json=body)
        finally:
            await client.close()


async def test_a_tick_size_change_is_enforced() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            market = emu.exchange.markets[2]
            book = market.yes
            off_tick = Decimal("0.15")
            assert off_tick < price(book.best_ask)
            # The SDK caches the 0.01 tick as it signs; then the venue moves to 0.1.
            await client.create_limit_order(
                token_id=book.asset_id, price=off_tick, size=Decimal(10), side="BUY"
            )
            cid = market.info.condition_id
            await admin(emu.urls, "POST", f"/markets/{cid}/tick", {"tick_size": "0.1"})
            with pytest.raises(RequestRejectedError, match="minimum tick size"):
                await client.place_limit_order(
                    token_id=book.asset_id, price=off_tick, size=Decimal(10), side="BUY"
                )
        finally:
            await client.close()


async def test_resolving_a_market_cancels_its_orders_and_refuses_new_ones() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            market = emu.exchange.markets[0]
            book = market.yes
            low = price(book.best_bid) - Decimal("0.05")
            placed = await client.place_limit_order(
                token_id=book.asset_id, price=low, size=Decimal(5), side="BUY"
            )
            assert isinstance(placed, AcceptedOrder)
            cid = market.info.condition_id
            await admin(emu.urls, "POST", f"/markets/{cid}/resolve", {"winner": "Yes"})
            order = await client.get_order(order_id=placed.order_id)
            assert order.status == "CANCELED"
            with pytest.raises(RequestRejectedError, match="not yet ready"):
                await client.place_limit_order(
                    token_id=book.asset_id, price=low, size=Decimal(5), side="BUY"
                )
        finally:
            await client.close()

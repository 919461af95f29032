"""The user channel through the official SDK: order events, trades and their statuses,
the venue's shapes (the taker at the top level, our maker fill in ``maker_orders``)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from polymarket import AcceptedOrder
from polymarket.streams import UserSpec

from tests.kit.venue import admin, eventually, price, sdk_client, venue

pytestmark = pytest.mark.integration


async def _collect(handle: Any, into: list[Any]) -> None:
    async for event in handle:
        into.append(event)


async def _events(client: Any, markets: list[str] | None = None) -> tuple[Any, list[Any], Any]:
    handle = await client.subscribe(UserSpec(markets=markets))
    seen: list[Any] = []
    task = asyncio.create_task(_collect(handle, seen))
    await asyncio.sleep(0.2)  # the subscription frame reaches the venue
    return handle, seen, task


def _trades(seen: list[Any], status: str | None = None) -> list[Any]:
    return [e.payload for e in seen if e.type == "trade" and status in (None, e.payload.status)]


async def test_order_events_placement_and_cancellation() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        handle, seen, task = await _events(client)
        try:
            book = emu.exchange.markets[0].yes
            placed = await client.place_limit_order(
                token_id=book.asset_id,
                price=price(book.best_bid) - Decimal("0.05"),
                size=Decimal(5),
                side="BUY",
            )
            assert isinstance(placed, AcceptedOrder)
            await client.cancel_order(order_id=placed.order_id)
            orders = await eventually(
                lambda: [e.payload for e in seen if e.type == "order"][1:] and seen
            )
            kinds = [(e.payload.order_event_type, e.payload.status) for e in orders]
            assert kinds == [("PLACEMENT", "LIVE"), ("CANCELLATION", "CANCELED")]
            assert {e.payload.id for e in orders} == {placed.order_id}
        finally:
            await handle.close()
            task.cancel()
            await client.close()


async def test_a_taken_trade_goes_matched_mined_confirmed() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        handle, seen, task = await _events(client)
        try:
            book = emu.exchange.markets[0].yes
            taken = await client.place_market_order(
                token_id=book.asset_id,
                side="BUY",
                amount=Decimal(2),
                max_price=price(book.best_ask) + Decimal("0.02"),
            )
            assert isinstance(taken, AcceptedOrder)
            await eventually(lambda: _trades(seen, "CONFIRMED"))
            trade_id = taken.trade_ids[0]
            statuses = [t.status for t in _trades(seen) if t.id == trade_id]
            assert statuses == ["MATCHED", "MINED", "CONFIRMED"]
            final = _trades(seen, "CONFIRMED")[0]
            assert final.trader_side == "TAKER"
            assert final.taker_order_id == taken.order_id
            assert final.transaction_hash
            assert final.maker_orders
            assert final.maker_orders[0].side == "SELL"
            page = await client.list_account_trades().first_page()
            assert [(t.id, t.status) for t in page.items] == [(trade_id, "CONFIRMED")]
        finally:
            await handle.close()
            task.cancel()
            await client.close()


async def test_our_maker_fill_comes_inside_maker_orders_with_the_taker_on_top() -> None:
    async with venue(events_per_second=0.0) as emu:
        assert emu.urls is not None
        maker, taker = await sdk_client(emu.urls), await sdk_client(emu.urls)
        handle, seen, task = await _events(maker)
        try:
            book = emu.exchange.markets[0].yes
            # A new best ask at the front of its own level: the next taker fills it.
            ask = price(book.best_bid) + Decimal("0.01")
            assert ask < price(book.best_ask)
            await admin(
                emu.urls, "POST", f"/wallets/{maker.wallet}/fund", {"tokens": {book.asset_id: "5"}}
            )
            resting = await maker.place_limit_order(
                token_id=book.asset_id, price=ask, size=Decimal(5), side="SELL"
            )
            assert isinstance(resting, AcceptedOrder)
            taken = await taker.place_market_order(
                token_id=book.asset_id, side="BUY", amount=Decimal(1), max_price=ask
            )
            assert isinstance(taken, AcceptedOrder)
            mine = (await eventually(lambda: _trades(seen, "MATCHED")))[0]
            assert mine.trader_side == "MAKER"
            assert mine.taker_order_id == taken.order_id
            assert mine.side == "BUY"  # the taker's side, at the top level
            assert mine.owner == taker.credentials.key
            (fill,) = mine.maker_orders
            assert fill.order_id == resting.order_id
            assert fill.owner == maker.credentials.key
            assert fill.maker_address.lower() == str(maker.wallet).lower()
            assert fill.side == "SELL"
            assert fill.asset_id == book.asset_id
            assert fill.matched_amount == taken.taking_amount
            update = [e.payload for e in seen if e.type == "order"][-1]
            assert update.order_event_type == "UPDATE"
            assert update.size_matched == taken.taking_amount
        finally:
            await handle.close()
            task.cancel()
            await maker.close()
            await taker.close()


async def test_a_trade_failed_after_matched_is_reversed() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        handle, seen, task = await _events(client)
        try:
            before = await client.get_balance_allowance(asset_type="COLLATERAL")
            await admin(emu.urls, "POST", "/faults", {"fail_trades": 1})
            book = emu.exchange.markets[0].yes
            taken = await client.place_market_order(
                token_id=book.asset_id,
                side="BUY",
                amount=Decimal(2),
                max_price=price(book.best_ask) + Decimal("0.02"),
            )
            assert isinstance(taken, AcceptedOrder)
            await eventually(lambda: _trades(seen, "FAILED"))
            assert [t.status for t in _trades(seen)] == ["MATCHED", "RETRYING", "FAILED"]
            after = await client.get_balance_allowance(asset_type="COLLATERAL")
            assert after.balance == before.balance
            shares = await client.get_balance_allowance(
                asset_type="CONDITIONAL", token_id=book.asset_id
            )
            assert shares.balance == 0
        finally:
            await handle.close()
            task.cancel()
            await client.close()


async def test_a_market_filter_and_a_dropped_channel() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        first, second = emu.exchange.markets[0], emu.exchange.markets[1]
        handle, seen, task = await _events(client, [second.info.condition_id])
        try:
            for market in (first, second):
                await client.place_limit_order(
                    token_id=market.yes.asset_id,
                    price=price(market.yes.best_bid) - Decimal("0.05"),
                    size=Decimal(5),
                    side="BUY",
                )
            await eventually(lambda: seen)
            assert {e.payload.market for e in seen} == {second.info.condition_id}
            dropped = await admin(emu.urls, "POST", "/faults", {"user_ws_drop": True})
            assert dropped["user_ws_dropped"] == 1
            # The SDK reconnects by itself; what happened meanwhile is not replayed.
            await eventually(lambda: emu.control.users.sockets)
        finally:
            await handle.close()
            task.cancel()
            await client.close()


async def test_a_delayed_user_channel_delivers_late_but_complete() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        handle, seen, task = await _events(client)
        try:
            await admin(emu.urls, "POST", "/faults", {"user_ws_delay_s": 1.5})
            book = emu.exchange.markets[0].yes
            placed = await client.place_limit_order(
                token_id=book.asset_id,
                price=price(book.best_bid) - Decimal("0.05"),
                size=Decimal(5),
                side="BUY",
            )
            assert isinstance(placed, AcceptedOrder)
            await asyncio.sleep(0.5)
            assert seen == []  # held back by the fault
            await eventually(lambda: seen)
            assert seen[0].payload.id == placed.order_id
        finally:
            await handle.close()
            task.cancel()
            await client.close()

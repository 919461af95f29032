"""Cancelling through the official SDK: one, many, a market's, all."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from polymarket import AcceptedOrder

from tests.kit.venue import price, sdk_client, venue

pytestmark = pytest.mark.integration


async def _rest(client: Any, book: Any, n: int) -> list[str]:
    ids = []
    for k in range(n):
        placed = await client.place_limit_order(
            token_id=book.asset_id,
            price=price(book.best_bid) - Decimal("0.05") - Decimal(k) / 100,
            size=Decimal(5),
            side="BUY",
        )
        assert isinstance(placed, AcceptedOrder)
        ids.append(placed.order_id)
    return ids


async def test_cancel_one_then_many_then_a_market_then_all() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            first, second = emu.exchange.markets[0], emu.exchange.markets[1]
            one = await _rest(client, first.yes, 4)
            other = await _rest(client, second.yes, 2)

            done = await client.cancel_order(order_id=one[0])
            assert done.canceled == (one[0],)
            again = await client.cancel_order(order_id=one[0])
            assert again.not_canceled == {one[0]: "already canceled or matched"}

            many = await client.cancel_orders(order_ids=one[1:3])
            assert set(many.canceled) == set(one[1:3])

            by_market = await client.cancel_market_orders(market=second.info.condition_id)
            assert set(by_market.canceled) == set(other)

            rest = await client.cancel_all()
            assert rest.canceled == (one[3],)
            assert not (await client.list_open_orders().first_page()).items
        finally:
            await client.close()


async def test_cancels_only_touch_the_keys_own_orders() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        mine, theirs = await sdk_client(emu.urls), await sdk_client(emu.urls)
        try:
            book = emu.exchange.markets[0].yes
            (their_id,) = await _rest(theirs, book, 1)
            refused = await mine.cancel_order(order_id=their_id)
            assert refused.not_canceled == {their_id: "order not found"}
            assert (await mine.cancel_all()).canceled == ()
            assert (await theirs.get_order(order_id=their_id)).status == "LIVE"
        finally:
            await mine.close()
            await theirs.close()

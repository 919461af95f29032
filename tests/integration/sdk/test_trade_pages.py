"""``/data/trades`` in cursor pages that end with ``LTE=``, read by the official SDK."""

from __future__ import annotations

from decimal import Decimal

import pytest
from polymarket import AcceptedOrder

from tests.kit.venue import price, sdk_client, venue

pytestmark = pytest.mark.integration


async def test_trades_come_in_pages_ending_with_lte() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            book = emu.exchange.markets[0].yes
            placed = 0
            while len(emu.control.trading.trades) <= 105:
                signed = [
                    await client.create_market_order(
                        token_id=book.asset_id,
                        side="BUY",
                        amount=Decimal(1),
                        max_price=price(book.best_ask) + Decimal("0.05"),
                    )
                    for _ in range(15)
                ]
                answers = await client.post_orders(signed)
                placed += sum(isinstance(a, AcceptedOrder) for a in answers)
            first = await client.list_account_trades().first_page()
            assert len(first.items) == 100
            assert first.has_more
            everything = []
            async for page in client.list_account_trades():
                everything.extend(page.items)
            assert len(everything) == len(emu.control.trading.trades)
            assert len({t.id for t in everything}) == len(everything)
            raw = await client._ctx.secure_clob.get_json(
                "/data/trades", params={"next_cursor": first.next_cursor}
            )
            assert raw["next_cursor"] == "LTE="
            assert placed
        finally:
            await client.close()

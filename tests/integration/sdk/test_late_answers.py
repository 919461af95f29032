"""An order answered after the client's timeout lands once, and can be found."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from polymarket.errors import RequestRejectedError, TransportError

from tests.kit.venue import admin, price, sdk_client, venue

pytestmark = pytest.mark.integration


async def test_a_late_answer_still_places_the_order_exactly_once() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            book = emu.exchange.markets[0].yes
            signed = await client.create_limit_order(
                token_id=book.asset_id,
                price=price(book.best_bid) - Decimal("0.05"),
                size=Decimal(5),
                side="BUY",
            )
            await admin(emu.urls, "POST", "/faults", {"order_late": 1, "order_late_s": 2.0})
            from polymarket._internal.actions.orders.post import build_post_order_request

            path, body = build_post_order_request(signed, owner_api_key=client.credentials.key)
            with pytest.raises(TransportError):
                # The client gives up after half a second; the venue answers at two.
                await client._ctx.secure_clob.post_json(path, json=body, timeout=httpx.Timeout(0.5))
            page = await client.list_open_orders().first_page()
            assert len(page.items) == 1  # it landed, once
            # A blind resend of the same signed order is refused, not placed twice.
            with pytest.raises(RequestRejectedError, match="Duplicated"):
                await client.post_order(signed)
            assert len((await client.list_open_orders().first_page()).items) == 1
        finally:
            await client.close()

"""Per-signer rate limits as the official SDK sees them: headers on order and cancel
answers, and a 429 with Retry-After when the signer's bucket is empty."""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_account import Account
from polymarket import AcceptedOrder, AsyncSecureClient
from polymarket.errors import RateLimitError
from polymarket.rate_limit import RateLimitUpdate

from tests.kit.venue import admin, environment, price, venue

pytestmark = pytest.mark.integration


async def test_order_answers_report_the_bucket_and_an_empty_one_is_refused() -> None:
    updates: list[RateLimitUpdate] = []
    async with venue() as emu:
        assert emu.urls is not None
        await admin(
            emu.urls,
            "POST",
            "/signer-limits",
            {"bucket": "order", "capacity": 2, "refill_per_s": 0.01},
        )
        account = Account.create()
        client = await AsyncSecureClient.create(
            private_key="0x" + bytes(account.key).hex(),
            wallet=account.address,
            environment=environment(emu.urls),
            on_rate_limit_update=updates.append,
        )
        try:
            book = emu.exchange.markets[0].yes
            low = price(book.best_bid) - Decimal("0.05")
            for _ in range(2):
                placed = await client.place_limit_order(
                    token_id=book.asset_id, price=low, size=Decimal(5), side="BUY"
                )
                assert isinstance(placed, AcceptedOrder)
            assert [u.remaining for u in updates] == [1, 0]
            assert {u.tier for u in updates} == {"default"}
            with pytest.raises(RateLimitError) as limited:
                await client.place_limit_order(
                    token_id=book.asset_id, price=low, size=Decimal(5), side="BUY"
                )
            assert limited.value.retry_after is not None
            assert limited.value.retry_after >= 1
            assert len((await client.list_open_orders().first_page()).items) == 2
        finally:
            await client.close()

"""What the venue refuses becomes the order's recorded reason, led by the SDK's code for
it; and a taking order worth less than $1 is never signed nor sent."""

from __future__ import annotations

import time
from typing import Any

import pytest

from engine.orders import OrderRequest, OrderStatus, OrderType, Side
from engine.venue import OrderUpdate
from tests.kit.live_gateway import bare_gateway
from tests.kit.venue import admin, sdk_client, venue

pytestmark = pytest.mark.integration
SHARES = 10**6


def buy(
    market: Any, price: int, kind: OrderType, n: int, *, post_only: bool = False
) -> OrderRequest:
    return OrderRequest(
        f"r1-{n}",
        market.yes.asset_id,
        market.info.condition_id,
        Side.BUY,
        price,
        5 * SHARES,
        kind,
        "s",
        "test",
        time.time(),
        post_only=post_only,
    )


def reasons(reports: Any) -> list[tuple[OrderStatus, str]]:
    return [
        (r.status, (r.reason or "").split(":")[0]) for r in reports if isinstance(r, OrderUpdate)
    ]


async def test_each_refusal_is_recorded_with_its_code() -> None:
    async with venue(events_per_second=0.0) as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            gateway, _ = bare_gateway(client, emu.urls)
            market = emu.exchange.markets[0]
            book = market.yes
            assert book.best_ask is not None
            assert book.best_bid is not None
            crossing = buy(market, book.best_ask, OrderType.GTC, 1, post_only=True)
            assert reasons(await gateway.submit(crossing)) == [
                (OrderStatus.REJECTED, "post_only_would_cross")
            ]
            short = buy(market, book.best_ask - book.tick, OrderType.FOK, 2)
            assert reasons(await gateway.submit(short)) == [
                (OrderStatus.REJECTED, "fok_not_filled")
            ]
            resting = buy(market, book.best_bid - 5 * book.tick, OrderType.GTC, 3)
            assert reasons(await gateway.submit(resting)) == [(OrderStatus.LIVE, "")]
            await admin(
                emu.urls,
                "POST",
                f"/markets/{market.info.condition_id}/resolve",
                {"winner": book.asset_id},
            )
            late = buy(market, book.best_bid - 5 * book.tick, OrderType.GTC, 4)
            assert reasons(await gateway.submit(late)) == [
                (OrderStatus.REJECTED, "market_not_ready")
            ]
        finally:
            await client.close()


async def test_a_taking_order_under_one_dollar_is_never_sent() -> None:
    async with venue(events_per_second=0.0) as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            gateway, side = bare_gateway(client, emu.urls)
            market = emu.exchange.markets[0]
            cheap = buy(market, 1900, OrderType.FAK, 1)  # 5 shares at 0.19: $0.95
            with pytest.raises(ValueError, match=r"at least \$1 .*\$0\.95"):
                await gateway.submit(cheap)
            assert side.reports == []  # not even signed
            wallet = str(client.wallet).lower()
            venue_has = await admin(emu.urls, "GET", "/orders")
            assert [o for o in venue_has if str(o["maker_address"]).lower() == wallet] == []
            enough = buy(market, 2000, OrderType.FAK, 2)  # $1.00: sent (and killed unfilled)
            await gateway.submit(enough)
            assert [r.status for r in side.reports if isinstance(r, OrderUpdate)][:1] == [
                OrderStatus.NEW
            ]
        finally:
            await client.close()

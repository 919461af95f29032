"""``py-clob-client-v2``, the other Polymarket client, against the emulator.

It is synchronous, so it runs in a worker thread while the emulator serves on the
test's event loop.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from eth_account import Account

from tests.kit.venue import price, venue

pytestmark = pytest.mark.integration


def _session(clob: str, key: str, token: str, bid: float, ask: float) -> dict[str, Any]:
    from py_clob_client_v2.client import ClobClient
    from py_clob_client_v2.clob_types import (
        AssetType,
        BalanceAllowanceParams,
        OrderArgsV2,
        OrderType,
        TradeParams,
    )

    anonymous = ClobClient(clob, chain_id=137, key=key, signature_type=0)
    creds = anonymous.create_or_derive_api_key()
    again = anonymous.create_or_derive_api_key()  # create refused, derive answers
    client = ClobClient(clob, chain_id=137, key=key, creds=creds, signature_type=0)
    out: dict[str, Any] = {"same_key": again.api_key == creds.api_key}
    out["version"] = client.get_version()
    out["balance"] = client.get_balance_allowance(
        BalanceAllowanceParams(asset_type=AssetType.COLLATERAL)
    )
    resting = client.create_and_post_order(
        OrderArgsV2(token_id=token, price=bid, size=10.0, side="BUY"), order_type=OrderType.GTC
    )
    out["resting"] = resting
    out["open"] = client.get_open_orders()
    out["cancel"] = client.cancel_all()
    taken = client.create_and_post_order(
        OrderArgsV2(token_id=token, price=ask, size=5.0, side="BUY"), order_type=OrderType.FAK
    )
    out["taken"] = taken
    out["trades"] = client.get_trades(TradeParams())
    return out


async def test_py_clob_client_v2_trades_against_the_emulator() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        book = emu.exchange.markets[0].yes
        bid = float(price(book.best_bid) - Decimal("0.05"))
        ask = float(price(book.best_ask) + Decimal("0.02"))
        key = "0x" + bytes(Account.create().key).hex()
        async with asyncio.timeout(60):
            out = await asyncio.to_thread(_session, emu.urls.clob, key, book.asset_id, bid, ask)
    assert out["same_key"]
    assert out["version"] == 2
    assert int(out["balance"]["balance"]) == 10_000 * 10**6
    assert out["resting"]["success"]
    assert out["resting"]["status"] == "live"
    assert [o["id"] for o in out["open"]] == [out["resting"]["orderID"]]
    assert out["cancel"]["canceled"] == [out["resting"]["orderID"]]
    assert out["taken"]["status"] == "matched"
    # The client waited for the fills to settle: their transaction hashes came back.
    assert out["taken"].get("transactionsHashes")
    assert {t["trader_side"] for t in out["trades"]} == {"TAKER"}
    assert all(t["maker_orders"] for t in out["trades"])

"""Redemption through the official SDK: a resolved market's winning shares pay 1 pUSD
each once redeemed on chain (the emulator's chain stub), and every share of it burns."""

from __future__ import annotations

import pytest

from tests.kit.venue import admin, sdk_client, venue

pytestmark = pytest.mark.integration


async def test_redeem_positions_pays_the_winner_and_burns_the_rest() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            market = emu.exchange.markets[0]
            yes, no = market.info.token_ids
            await admin(
                emu.urls,
                "POST",
                f"/wallets/{client.wallet}/fund",
                {"collateral": "10", "tokens": {yes: "7", no: "3"}},
            )
            await admin(
                emu.urls, "POST", f"/markets/{market.info.condition_id}/resolve", {"winner": "Yes"}
            )
            handle = await client.redeem_positions(condition_id=market.info.condition_id)
            outcome = await handle.wait()
            assert outcome.transaction_hash
            cash = await client.get_balance_allowance(asset_type="COLLATERAL")
            assert cash.balance == 17 * 10**6
            for token in (yes, no):
                held = await client.get_balance_allowance(asset_type="CONDITIONAL", token_id=token)
                assert held.balance == 0
        finally:
            await client.close()


async def test_an_unresolved_market_cannot_be_redeemed() -> None:
    from polymarket.errors import UserInputError

    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            market = emu.exchange.markets[0]
            with pytest.raises(UserInputError, match="No market found"):
                await client.redeem_positions(condition_id=market.info.condition_id)
        finally:
            await client.close()

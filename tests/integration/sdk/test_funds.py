"""Balances, reserved funds and allowances through the official SDK."""

from __future__ import annotations

from decimal import Decimal

import pytest
from polymarket import AcceptedOrder
from polymarket.errors import RequestRejectedError

from tests.kit.venue import admin, eventually, price, sdk_client, venue

pytestmark = pytest.mark.integration


async def test_a_fresh_wallet_is_funded_and_approved_by_default() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            cash = await client.get_balance_allowance(asset_type="COLLATERAL")
            assert cash.balance == 10_000 * 10**6
            assert all(v > 0 for v in cash.allowances.values())
            book = emu.exchange.markets[0].yes
            taken = await client.place_market_order(
                token_id=book.asset_id,
                side="BUY",
                amount=Decimal(3),
                max_price=price(book.best_ask) + Decimal("0.03"),
            )
            assert isinstance(taken, AcceptedOrder)
            shares = await client.get_balance_allowance(
                asset_type="CONDITIONAL", token_id=book.asset_id
            )
            assert shares.balance == int(taken.taking_amount * 10**6)
            after = await client.get_balance_allowance(asset_type="COLLATERAL")
            assert after.balance <= cash.balance - 3 * 10**6
        finally:
            await client.close()


async def test_resting_bids_reserve_collateral_so_ten_dollars_back_only_one_bid() -> None:
    """Three $9.60 bids on a $10 wallet: the second and third are refused (they used to
    rest, fill and leave the wallet at -$18.80)."""
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            await admin(emu.urls, "POST", f"/wallets/{client.wallet}/fund", {"collateral": "10"})
            book = emu.exchange.markets[0].yes
            bid = price(book.best_bid) - Decimal("0.02")
            size = (Decimal("9.60") / bid).quantize(Decimal("0.01"))
            first = await client.place_limit_order(
                token_id=book.asset_id, price=bid, size=size, side="BUY"
            )
            assert isinstance(first, AcceptedOrder)
            for _ in range(2):
                with pytest.raises(RequestRejectedError, match="not enough balance / allowance"):
                    await client.place_limit_order(
                        token_id=book.asset_id, price=bid, size=size, side="BUY"
                    )
            await client.cancel_order(order_id=first.order_id)
            again = await client.place_limit_order(
                token_id=book.asset_id, price=bid, size=size, side="BUY"
            )
            assert isinstance(again, AcceptedOrder)
            wallet = (await admin(emu.urls, "GET", "/wallets"))[0]
            assert Decimal(wallet["collateral"]) >= 0
        finally:
            await client.close()


async def test_resting_asks_reserve_their_shares() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            book = emu.exchange.markets[0].yes
            await admin(
                emu.urls, "POST", f"/wallets/{client.wallet}/fund", {"tokens": {book.asset_id: "6"}}
            )
            ask = price(book.best_ask) + Decimal("0.05")
            first = await client.place_limit_order(
                token_id=book.asset_id, price=ask, size=Decimal(5), side="SELL"
            )
            assert isinstance(first, AcceptedOrder)
            with pytest.raises(RequestRejectedError, match="the balance is not enough"):
                await client.place_limit_order(
                    token_id=book.asset_id, price=ask, size=Decimal(5), side="SELL"
                )
        finally:
            await client.close()


async def test_no_approval_happens_unless_the_client_sends_one() -> None:
    """An allowance refusal is one line; nothing is approved on-chain until a client
    signs an approval, and the admin view shows each one (the SDK's place_* does it by
    itself after the refusal; post_order does not)."""
    async with venue(default_approvals=False) as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            book = emu.exchange.markets[0].yes
            bid = price(book.best_bid) - Decimal("0.05")
            signed = await client.create_limit_order(
                token_id=book.asset_id, price=bid, size=Decimal(5), side="BUY"
            )
            with pytest.raises(RequestRejectedError, match="the allowance is not enough"):
                await client.post_order(signed)
            assert await admin(emu.urls, "GET", "/approvals") == []
            # place_limit_order recovers by approving max through the chain, then retries.
            placed = await client.place_limit_order(
                token_id=book.asset_id, price=bid, size=Decimal(5), side="BUY"
            )
            assert isinstance(placed, AcceptedOrder)
            approvals = await admin(emu.urls, "GET", "/approvals")
            assert [(a["kind"], a["value"], a["via"]) for a in approvals] == [
                ("erc20", "max", "rpc")
            ]
            assert approvals[0]["wallet"].lower() == str(client.wallet).lower()
        finally:
            await client.close()


async def test_setup_trading_approvals_grants_each_missing_one_through_the_chain() -> None:
    async with venue(default_approvals=False) as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            state = await client.get_trading_approvals_state()
            assert not state.is_fully_approved
            await client.setup_trading_approvals()
            approvals = await admin(emu.urls, "GET", "/approvals")
            assert {a["via"] for a in approvals} == {"rpc"}
            assert {a["kind"] for a in approvals} == {"erc20", "erc1155"}
            state = await eventually(client.get_trading_approvals_state)
            assert state.is_fully_approved
        finally:
            await client.close()

"""Signed orders: one changed after signing is refused, whoever sends it."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from polymarket.errors import RequestRejectedError

from tests.kit.venue import price, sdk_client, venue

pytestmark = pytest.mark.integration


async def test_an_order_whose_maker_amount_was_halved_after_signing_is_refused() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            book = emu.exchange.markets[0].yes
            signed = await client.create_limit_order(
                token_id=book.asset_id,
                price=price(book.best_bid) - Decimal("0.05"),
                size=Decimal(10),
                side="BUY",
            )
            cheaper = dataclasses.replace(signed, maker_amount=signed.maker_amount // 2)
            with pytest.raises(RequestRejectedError, match="invalid signature"):
                await client.post_order(cheaper)
            assert not (await client.list_open_orders().first_page()).items
        finally:
            await client.close()


async def test_an_order_signed_by_another_key_is_refused() -> None:
    async with venue() as emu:
        assert emu.urls is not None
        mine, theirs = await sdk_client(emu.urls), await sdk_client(emu.urls)
        try:
            book = emu.exchange.markets[0].yes
            signed = await theirs.create_limit_order(
                token_id=book.asset_id,
                price=price(book.best_bid) - Decimal("0.05"),
                size=Decimal(10),
                side="BUY",
            )
            with pytest.raises(RequestRejectedError, match="address of the API KEY"):
                await mine.post_order(signed)
        finally:
            await mine.close()
            await theirs.close()


async def test_an_order_signed_for_the_wrong_exchange_is_refused() -> None:
    """A neg-risk market's orders are signed for the neg-risk exchange."""
    from polymarket._internal.actions.orders.orders import (
        create_signed_order,
        create_unsigned_order,
    )
    from polymarket._internal.actions.orders.typed_data import build_order_typed_data
    from polymarket._internal.actions.orders.types import OrderDraft

    from polyterm.emulator.contracts import NEG_RISK_EXCHANGE, STANDARD_EXCHANGE

    async with venue(markets=8, neg_risk_events=1) as emu:
        assert emu.urls is not None
        client = await sdk_client(emu.urls)
        try:
            token = next(m for m in emu.exchange.markets if m.info.neg_risk).yes.asset_id
            wallet = client.wallet
            answers = []
            for exchange in (STANDARD_EXCHANGE, NEG_RISK_EXCHANGE):
                draft = OrderDraft(
                    chain_id=137,
                    exchange_address=exchange,
                    expiration=0,
                    funder_address=wallet,
                    offered_amount=500_000,
                    order_type="GTC",
                    side="BUY",
                    signer=wallet,
                    requested_amount=10_000_000,
                    asset_id=token,
                )
                unsigned = create_unsigned_order(draft, wallet=wallet, wallet_type="EOA")
                signature = client._ctx.signer.sign_typed_data(
                    full_message=build_order_typed_data(unsigned)
                ).signature.hex()
                signed = create_signed_order(unsigned, "0x" + signature.removeprefix("0x"))
                try:
                    answers.append(await client.post_order(signed))
                except RequestRejectedError as exc:
                    answers.append(exc)
            wrong, right = answers
            assert isinstance(wrong, RequestRejectedError)
            assert "invalid signature" in str(wrong)
            assert not isinstance(right, Exception), right
        finally:
            await client.close()

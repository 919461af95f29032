"""V2 order signatures: every signed field is covered, and each signature type's rules."""

from __future__ import annotations

import dataclasses

import pytest
from eth_account import Account

from polyterm.emulator.contracts import NEG_RISK_EXCHANGE, STANDARD_EXCHANGE
from polyterm.emulator.signing import (
    SignatureError,
    WireOrder,
    order_hash,
    order_typed_data,
    recover_order_signer,
)

SIGNED_FIELDS = (
    "salt",
    "maker",
    "signer",
    "token_id",
    "maker_amount",
    "taker_amount",
    "side",
    "signature_type",
    "timestamp",
    "metadata",
    "builder",
)


def _signed(exchange: str = STANDARD_EXCHANGE) -> tuple[WireOrder, str]:
    account = Account.create()
    order = WireOrder(
        salt=12345,
        maker=account.address,
        signer=account.address,
        token_id=71321045679252212594626385532706912750332728571942532289631379312455583992563,
        maker_amount=5_000_000,
        taker_amount=10_000_000,
        side="BUY",
        signature_type=0,
        timestamp=1_713_398_400_000,
        metadata="0x" + "00" * 32,
        builder="0x" + "00" * 32,
        expiration=0,
        signature="",
    )
    signature = account.sign_typed_data(full_message=order_typed_data(order, exchange)).signature
    return dataclasses.replace(order, signature="0x" + bytes(signature).hex()), account.address


def test_a_signed_order_recovers_its_signer() -> None:
    order, address = _signed()
    assert recover_order_signer(order, STANDARD_EXCHANGE) == address
    assert order_hash(order, STANDARD_EXCHANGE) != order_hash(order, NEG_RISK_EXCHANGE)


@pytest.mark.parametrize("name", SIGNED_FIELDS)
def test_changing_any_signed_field_after_signing_breaks_the_signature(name: str) -> None:
    order, address = _signed()
    value = getattr(order, name)
    if name in ("maker", "signer"):
        changed = Account.create().address
        order = dataclasses.replace(order, maker=changed, signer=changed)
    elif name == "side":
        changed = "SELL"
    elif name in ("metadata", "builder"):
        changed = "0x" + "11" * 32
    elif name == "signature_type":
        changed = 1
    else:
        changed = value // 2 or 7
    if name not in ("maker", "signer"):
        order = dataclasses.replace(order, **{name: changed})
    try:
        recovered = recover_order_signer(order, STANDARD_EXCHANGE)
    except SignatureError:
        return
    assert recovered != address


def test_expiration_is_not_signed_in_v2() -> None:
    order, address = _signed()
    later = dataclasses.replace(order, expiration=2_000_000_000)
    assert recover_order_signer(later, STANDARD_EXCHANGE) == address


def test_an_eoa_order_must_be_its_own_maker() -> None:
    order, _ = _signed()
    with pytest.raises(SignatureError, match="maker == signer"):
        recover_order_signer(
            dataclasses.replace(order, maker=Account.create().address), STANDARD_EXCHANGE
        )


def test_the_wrong_exchange_recovers_someone_else() -> None:
    order, _ = _signed(NEG_RISK_EXCHANGE)
    with pytest.raises(SignatureError, match="not made by the order's signer"):
        recover_order_signer(order, STANDARD_EXCHANGE)


def test_bad_wire_fields_name_the_field() -> None:
    with pytest.raises(ValueError, match="makerAmount"):
        WireOrder.parse(
            {
                "side": "BUY",
                "salt": 1,
                "maker": "0x" + "ab" * 20,
                "signer": "0x" + "ab" * 20,
                "tokenId": "1",
                "makerAmount": "-5",
            }
        )
    with pytest.raises(ValueError, match="missing"):
        WireOrder.parse({"side": "BUY"})

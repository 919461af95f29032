"""Where the live gateway meets the official SDK's order path (``polymarket-client``).

Orders are built and signed with ``create_limit_order`` and posted with ``post_order``
or ``post_orders``, never with ``place_limit_order``/``place_market_order``: those
approve a ``max`` allowance on chain by themselves when the venue refuses an order for
allowance, and polyterm approves nothing without a person typing ``approve``.

Each signed order's EIP-712 hash is computed here before it is posted: it is the venue's
id for the order, so an order whose answer was lost is looked up by it (and a blind
resend of the same signed order would be refused "Duplicated", never placed twice). The
SDK's private parts touched (the order metadata cache, the environment's exchange
addresses) are touched only here, so an SDK release that moves them breaks this module
and its tests, not the gateway.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.fixed import PRICE_DIGITS, SIZE_DIGITS
from engine.orders import OrderRequest, OrderType, Side

# The venue's GTD expirations must lie this far ahead (the SDK's own check is 180 s; the
# venue keeps a 60 s security margin on top). The engine cancels a GTD order at its own
# expiry; the venue's expiration is only the backstop.
MIN_EXPIRATION_AHEAD_S = 240


@dataclass(frozen=True, slots=True)
class Signed:
    """An order signed for the venue, and its id there (its EIP-712 hash)."""

    order: Any  # polymarket SignedOrder
    venue_id: str
    size: int  # the shares signed (the SDK rounds to the market's size precision)


async def sign(client: Any, order: OrderRequest, *, tick: int | None, now: float) -> Signed:
    """Build and sign `order` with the SDK. `tick` is the market's tick as the engine's
    book has it: when the SDK's cached market disagrees (a ``tick_size_change``), the SDK
    is made to read the market again first."""
    ctx = client._ctx
    metadata = await ctx.order_metadata.resolve_market(ctx, token_id=order.asset_id)
    if tick is not None and _ticks(metadata.tick_size) != tick:
        metadata = await ctx.order_metadata.fetch_current_market(ctx, token_id=order.asset_id)
    expiration = None
    if order.order_type is OrderType.GTD:
        wanted = int(order.expires_at or now)
        expiration = max(wanted, int(now) + MIN_EXPIRATION_AHEAD_S)
    signed = await client.create_limit_order(
        asset_id=order.asset_id,
        price=Decimal(order.price).scaleb(-PRICE_DIGITS),
        size=Decimal(order.size).scaleb(-SIZE_DIGITS),
        side=order.side.value,
        post_only=order.post_only,
        expiration=expiration,
    )
    if order.order_type in (OrderType.FAK, OrderType.FOK):
        # A taking order is a limit order sent as FAK/FOK: its signed price is the worst
        # it may reach. (The order type is not part of what is signed.)
        signed = dataclasses.replace(signed, order_type=order.order_type.value)
    from polymarket._internal.actions.orders.context import resolve_order_exchange_address

    exchange = resolve_order_exchange_address(
        ctx.environment_config, asset_id=order.asset_id, neg_risk=metadata.neg_risk
    )
    shares = signed.taker_amount if order.side is Side.BUY else signed.maker_amount
    return Signed(
        signed, order_hash(signed, str(exchange), ctx.environment_config.chain_id), shares
    )


def _ticks(tick_size: Decimal) -> int:
    return int(Decimal(tick_size).scaleb(PRICE_DIGITS))


def order_hash(signed: Any, exchange: str, chain_id: int) -> str:
    """The EIP-712 digest of a signed V2 order: the id the venue gives it."""
    from eth_account.messages import encode_typed_data
    from eth_utils.crypto import keccak

    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Order": [
                {"name": "salt", "type": "uint256"},
                {"name": "maker", "type": "address"},
                {"name": "signer", "type": "address"},
                {"name": "tokenId", "type": "uint256"},
                {"name": "makerAmount", "type": "uint256"},
                {"name": "takerAmount", "type": "uint256"},
                {"name": "side", "type": "uint8"},
                {"name": "signatureType", "type": "uint8"},
                {"name": "timestamp", "type": "uint256"},
                {"name": "metadata", "type": "bytes32"},
                {"name": "builder", "type": "bytes32"},
            ],
        },
        "primaryType": "Order",
        "domain": {
            "name": "Polymarket CTF Exchange",
            "version": "2",
            "chainId": chain_id,
            "verifyingContract": exchange,
        },
        "message": {
            "salt": signed.salt,
            "maker": signed.maker,
            "signer": signed.signer,
            "tokenId": int(signed.token_id),
            "makerAmount": signed.maker_amount,
            "takerAmount": signed.taker_amount,
            "side": 0 if signed.side == "BUY" else 1,
            "signatureType": signed.signature_type,
            "timestamp": signed.timestamp,
            "metadata": signed.metadata,
            "builder": signed.builder,
        },
    }
    signable = encode_typed_data(full_message=typed)
    return "0x" + keccak(b"\x19\x01" + bytes(signable.header) + bytes(signable.body)).hex()


# -- refusals ---------------------------------------------------------------------------------
def refusal_code(message: str) -> str:
    """The venue's refusal text as the SDK's code for it (``not_enough_balance``,
    ``post_only_would_cross``, ``fok_not_filled``, ``market_not_ready``, ...; ``unknown``
    for anything else): a single order's 400 carries only the text."""
    from polymarket.models.clob.order_response import RawOrderResponse, normalize_order_response

    raw = RawOrderResponse.model_validate(
        {
            "errorMsg": message or "unknown",
            "makingAmount": "0",
            "orderID": "",
            "status": "",
            "success": False,
            "takingAmount": "0",
        }
    )
    code = str(getattr(normalize_order_response(raw), "code", "unknown"))
    if code == "unknown":
        code = _more_codes(message)
    return code


def _more_codes(message: str) -> str:
    lowered = message.lower()
    for needle, code in (
        ("duplicated", "duplicated"),
        ("tick size", "invalid_tick"),
        ("lower than the minimum", "below_minimum_size"),
        ("min size", "below_minimum_size"),
        ("invalid signature", "invalid_signature"),
        ("does not exist", "market_not_found"),
        ("invalid expiration", "invalid_expiration"),
    ):
        if needle in lowered:
            return code
    return "unknown"


_ALLOWANCE = re.compile(r"allowance is not enough", re.IGNORECASE)


def is_allowance_refusal(message: str) -> bool:
    """The venue refused for want of an allowance (not of balance): only an on-chain
    approval fixes it, which polyterm grants only after a typed confirmation."""
    return bool(_ALLOWANCE.search(message))


def reached_the_venue(exc: BaseException) -> bool:
    """False when `exc` proves the request never left (no connection was made): such an
    order can be called refused. Anything else after sending leaves the outcome unknown."""
    import httpx

    cause = exc.__cause__ or exc.__context__
    return not isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout)

"""V2 order signatures, checked as the CTF exchange contracts check them.

An order is EIP-712 typed data in the domain ``Polymarket CTF Exchange`` version ``"2"``
on Polygon (chain 137), whose verifying contract is the exchange the market trades on:
the standard exchange, or the neg-risk exchange for neg-risk markets. The signed struct
holds salt, maker, signer, tokenId, makerAmount, takerAmount, side, signatureType,
timestamp, metadata and builder; ``expiration`` travels beside it, unsigned.

Who may sign, by ``signatureType``:

- 0 (EOA): the signer signs for itself; ``maker`` must equal ``signer``.
- 1, 2 (proxy, Safe): the signer signs; ``maker`` is the wallet that holds the funds.
- 3 (deposit wallet, ERC-1271): ``signer`` and ``maker`` are the wallet; the owner signs
  the order nested in an ERC-7739 ``TypedDataSign`` envelope whose verifying contract is
  the wallet, and the signature carries the app domain separator, the order's struct
  hash and its type string after the 65 signature bytes.

:func:`recover_order_signer` returns the address whose key signed; the caller checks
it against the API key's owner. Any change to a signed field after signing recovers a
different address, so a tampered order is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from polyterm.emulator.contracts import POLYGON_CHAIN_ID

DOMAIN_NAME = "Polymarket CTF Exchange"
DOMAIN_VERSION = "2"

EOA, POLY_PROXY, GNOSIS_SAFE, DEPOSIT_WALLET = 0, 1, 2, 3
SIGNATURE_TYPES = (EOA, POLY_PROXY, GNOSIS_SAFE, DEPOSIT_WALLET)
_ORDER_TYPE = (
    "Order(uint256 salt,address maker,address signer,uint256 tokenId,uint256 makerAmount,"
    "uint256 takerAmount,uint8 side,uint8 signatureType,uint256 timestamp,bytes32 metadata,"
    "bytes32 builder)"
)
_ORDER_FIELDS = [
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
]
_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
_ENVELOPE_FIELDS = [
    {"name": "contents", "type": "Order"},
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
    {"name": "salt", "type": "bytes32"},
]
_ZERO32 = "0x" + "00" * 32


class SignatureError(ValueError):
    """Why an order's signature is refused (the venue answers ``invalid signature``)."""


@dataclass(frozen=True, slots=True)
class WireOrder:
    """The signed order as posted (``order`` in a ``POST /order`` body)."""

    salt: int
    maker: str
    signer: str
    token_id: int
    maker_amount: int
    taker_amount: int
    side: str  # BUY | SELL
    signature_type: int
    timestamp: int
    metadata: str
    builder: str
    expiration: int
    signature: str

    @classmethod
    def parse(cls, raw: Any) -> WireOrder:
        """Read the wire order; ValueError names the field that is wrong."""
        if not isinstance(raw, dict):
            raise ValueError("order must be an object")
        try:
            side = str(raw["side"]).upper()
            if side not in ("BUY", "SELL"):
                raise ValueError(f"side must be BUY or SELL, not {raw['side']!r}")
            return cls(
                salt=_uint(raw, "salt"),
                maker=_address(raw, "maker"),
                signer=_address(raw, "signer"),
                token_id=_uint(raw, "tokenId"),
                maker_amount=_uint(raw, "makerAmount"),
                taker_amount=_uint(raw, "takerAmount"),
                side=side,
                signature_type=_uint(raw, "signatureType"),
                timestamp=_uint(raw, "timestamp"),
                metadata=_bytes32(raw, "metadata"),
                builder=_bytes32(raw, "builder"),
                expiration=_uint(raw, "expiration", default=0),
                signature=str(raw["signature"]),
            )
        except KeyError as exc:
            raise ValueError(f"order is missing {exc.args[0]}") from exc

    def message(self) -> dict[str, Any]:
        return {
            "salt": self.salt,
            "maker": self.maker,
            "signer": self.signer,
            "tokenId": self.token_id,
            "makerAmount": self.maker_amount,
            "takerAmount": self.taker_amount,
            "side": 0 if self.side == "BUY" else 1,
            "signatureType": self.signature_type,
            "timestamp": self.timestamp,
            "metadata": self.metadata,
            "builder": self.builder,
        }


def _uint(raw: dict[str, Any], key: str, default: int | None = None) -> int:
    value = raw.get(key, default)
    if value is None:
        raise KeyError(key)
    if isinstance(value, bool):
        raise ValueError(f"{key} must be an unsigned integer")
    try:
        number = int(str(value), 0) if str(value).startswith("0x") else int(str(value))
    except ValueError as exc:
        raise ValueError(f"{key} must be an unsigned integer, not {value!r}") from exc
    if number < 0 or number >= 2**256:
        raise ValueError(f"{key} is out of the uint256 range")
    return number


def _address(raw: dict[str, Any], key: str) -> str:
    value = str(raw[key])
    if len(value) != 42 or not value.startswith("0x"):
        raise ValueError(f"{key} must be a 0x-prefixed 20-byte address")
    int(value, 16)
    return value


def _bytes32(raw: dict[str, Any], key: str) -> str:
    value = str(raw.get(key) or _ZERO32)
    if len(value) != 66 or not value.startswith("0x"):
        raise ValueError(f"{key} must be a 0x-prefixed 32-byte hex string")
    int(value, 16)
    return value


def _domain(exchange: str) -> dict[str, Any]:
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": POLYGON_CHAIN_ID,
        "verifyingContract": exchange,
    }


def order_typed_data(order: WireOrder, exchange: str) -> dict[str, Any]:
    return {
        "types": {"EIP712Domain": _DOMAIN_FIELDS, "Order": _ORDER_FIELDS},
        "primaryType": "Order",
        "domain": _domain(exchange),
        "message": order.message(),
    }


def order_hash(order: WireOrder, exchange: str) -> str:
    """The EIP-712 digest of the order: what the venue calls the order's hash (its id)."""
    from eth_account.messages import encode_typed_data
    from eth_utils.crypto import keccak

    signable = encode_typed_data(full_message=order_typed_data(order, exchange))
    return "0x" + keccak(b"\x19\x01" + bytes(signable.header) + bytes(signable.body)).hex()


def recover_order_signer(order: WireOrder, exchange: str) -> str:
    """The address that signed `order` for `exchange`; SignatureError if none did.

    Also applies the venue's maker/signer rules for the signature type.
    """
    # eth_account is heavy; only order posts pay for importing it.
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    kind = order.signature_type
    if kind not in SIGNATURE_TYPES:
        raise SignatureError(f"unknown signatureType {kind}: use 0, 1, 2 or 3")
    if kind == EOA and order.maker.lower() != order.signer.lower():
        raise SignatureError("an EOA order (signatureType 0) must have maker == signer")
    if kind == DEPOSIT_WALLET and order.maker.lower() != order.signer.lower():
        raise SignatureError("a deposit wallet order (signatureType 3) must have maker == signer")
    raw = order.signature[2:] if order.signature.startswith("0x") else order.signature
    try:
        blob = bytes.fromhex(raw)
    except ValueError as exc:
        raise SignatureError("signature is not hex") from exc
    if len(blob) < 65:
        raise SignatureError("signature is shorter than 65 bytes")
    standard = encode_typed_data(full_message=order_typed_data(order, exchange))
    if kind == DEPOSIT_WALLET:
        type_string = _ORDER_TYPE.encode()
        trailer = blob[65:]
        expected = (
            bytes(standard.header)
            + bytes(standard.body)
            + type_string
            + len(type_string).to_bytes(2)
        )
        if trailer != expected:
            raise SignatureError("ERC-7739 trailer does not match this order and exchange")
        envelope = {
            "types": {
                "EIP712Domain": _DOMAIN_FIELDS,
                "Order": _ORDER_FIELDS,
                "TypedDataSign": _ENVELOPE_FIELDS,
            },
            "primaryType": "TypedDataSign",
            "domain": _domain(exchange),
            "message": {
                "contents": order.message(),
                "name": "DepositWallet",
                "version": "1",
                "chainId": POLYGON_CHAIN_ID,
                "verifyingContract": order.signer,
                "salt": _ZERO32,
            },
        }
        signable = encode_typed_data(full_message=envelope)
    else:
        if len(blob) != 65:
            raise SignatureError("signature must be 65 bytes for signatureType 0, 1 or 2")
        signable = standard
    try:
        recovered = str(Account.recover_message(signable, signature=blob[:65]))
    except Exception as exc:  # malformed signatures raise several different types
        raise SignatureError(f"unreadable signature ({type(exc).__name__})") from exc
    if kind in (EOA, POLY_PROXY, GNOSIS_SAFE) and recovered.lower() != order.signer.lower():
        raise SignatureError("the signature was not made by the order's signer")
    return recovered

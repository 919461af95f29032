"""Polymarket's two auth levels, as the emulator checks them.

L1: an EIP-712 ``ClobAuth`` signature by the wallet, used to create or derive API keys.
L2: HMAC-SHA256 over ``timestamp + METHOD + path + body`` keyed by the url-safe-base64
secret, for every trading request. A request that fails either gets a 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

CLOB_AUTH_MESSAGE = "This message attests that I control the given wallet"
POLYGON_CHAIN_ID = 137
MAX_CLOCK_SKEW_S = 300


class AuthError(Exception):
    """Why a request is unauthorised (sent back in the 401 body)."""


def hmac_signature(secret: str, timestamp: str, method: str, path: str, body: str = "") -> str:
    raw = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    message = f"{timestamp}{method}{path}{body}".encode()
    return base64.urlsafe_b64encode(hmac.new(raw, message, hashlib.sha256).digest()).decode()


def verify_l2(
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: str,
    secrets: Mapping[str, tuple[str, str, str]],
    now: float,
) -> str:
    """Check L2 headers; returns the API key.

    `secrets` maps api key -> (secret, passphrase, address).
    """
    for name in (
        "POLY_ADDRESS",
        "POLY_API_KEY",
        "POLY_PASSPHRASE",
        "POLY_TIMESTAMP",
        "POLY_SIGNATURE",
    ):
        if not headers.get(name):
            raise AuthError(f"missing header {name}")
    api_key = headers["POLY_API_KEY"]
    known = secrets.get(api_key)
    if known is None:
        raise AuthError("unknown api key")
    secret, passphrase, address = known
    if not hmac.compare_digest(headers["POLY_PASSPHRASE"], passphrase):
        raise AuthError("bad passphrase")
    if headers["POLY_ADDRESS"].lower() != address.lower():
        raise AuthError("address does not own this api key")
    timestamp = headers["POLY_TIMESTAMP"]
    try:
        skew = abs(now - int(timestamp))
    except ValueError as exc:
        raise AuthError("POLY_TIMESTAMP is not an integer") from exc
    if skew > MAX_CLOCK_SKEW_S:
        raise AuthError("POLY_TIMESTAMP too far from server time")
    expected = hmac_signature(secret, timestamp, method, path, body)
    if not hmac.compare_digest(headers["POLY_SIGNATURE"], expected):
        raise AuthError("invalid signature")
    return api_key


def clob_auth_typed_data(
    address: str, timestamp: str, nonce: int, chain_id: int
) -> dict[str, object]:
    return {
        "domain": {"name": "ClobAuthDomain", "version": "1", "chainId": chain_id},
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
            ],
            "ClobAuth": [
                {"name": "address", "type": "address"},
                {"name": "timestamp", "type": "string"},
                {"name": "nonce", "type": "uint256"},
                {"name": "message", "type": "string"},
            ],
        },
        "primaryType": "ClobAuth",
        "message": {
            "address": address,
            "timestamp": timestamp,
            "nonce": nonce,
            "message": CLOB_AUTH_MESSAGE,
        },
    }


def verify_l1(
    headers: Mapping[str, str], now: float, chain_id: int = POLYGON_CHAIN_ID
) -> tuple[str, int]:
    """Recover the wallet from the ClobAuth signature; returns (address, nonce)."""
    for name in ("POLY_ADDRESS", "POLY_SIGNATURE", "POLY_TIMESTAMP"):
        if not headers.get(name):
            raise AuthError(f"missing header {name}")
    address = headers["POLY_ADDRESS"]
    timestamp = headers["POLY_TIMESTAMP"]
    try:
        nonce = int(headers.get("POLY_NONCE") or 0)
        if abs(now - int(timestamp)) > MAX_CLOCK_SKEW_S:
            raise AuthError("POLY_TIMESTAMP too far from server time")
    except ValueError as exc:
        raise AuthError("POLY_TIMESTAMP and POLY_NONCE must be integers") from exc
    # eth_account is heavy; only L1 requests pay for importing it.
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    message = encode_typed_data(
        full_message=clob_auth_typed_data(address, timestamp, nonce, chain_id)
    )
    try:
        recovered = Account.recover_message(message, signature=headers["POLY_SIGNATURE"])
    except Exception as exc:  # malformed signatures raise several different types
        raise AuthError(f"unreadable signature: {type(exc).__name__}") from exc
    if str(recovered).lower() != address.lower():
        raise AuthError("signature does not match POLY_ADDRESS")
    return address, nonce


@dataclass(slots=True)
class ApiKey:
    """One L2 credential triplet and the wallet address (the signer) that owns it."""

    key: str
    secret: str
    passphrase: str
    address: str
    nonce: int


class KeyStore:
    """API keys of this emulator run.

    Secrets are random per run, never derivable from the public address: ``create``
    makes the key of (address, nonce) once (a second create for the same pair is
    refused, as the venue does, so clients fall back to ``derive``); ``derive`` returns
    the key created for that pair in this run, or refuses when there is none.
    """

    def __init__(self) -> None:
        self.by_key: dict[str, ApiKey] = {}
        self._by_owner: dict[tuple[str, int], ApiKey] = {}

    def create(self, address: str, nonce: int) -> ApiKey | None:
        if (address.lower(), nonce) in self._by_owner:
            return None
        api_key = ApiKey(
            str(uuid.uuid4()),
            base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            secrets.token_hex(32),
            address,
            nonce,
        )
        self.by_key[api_key.key] = api_key
        self._by_owner[(address.lower(), nonce)] = api_key
        return api_key

    def derive(self, address: str, nonce: int) -> ApiKey | None:
        return self._by_owner.get((address.lower(), nonce))

    def delete(self, key: str) -> None:
        api_key = self.by_key.pop(key, None)
        if api_key is not None:
            self._by_owner.pop((api_key.address.lower(), api_key.nonce), None)

    def of_address(self, address: str) -> list[str]:
        return [k.key for k in self.by_key.values() if k.address.lower() == address.lower()]

    def triplets(self) -> dict[str, tuple[str, str, str]]:
        """api key -> (secret, passphrase, address), as :func:`verify_l2` wants."""
        return {k.key: (k.secret, k.passphrase, k.address) for k in self.by_key.values()}

    def check_triplet(self, key: str, secret: str, passphrase: str) -> ApiKey | None:
        """The key when all three match (the user channel's auth), else None."""
        api_key = self.by_key.get(key)
        if api_key is None:
            return None
        ok = hmac.compare_digest(api_key.secret, secret) and hmac.compare_digest(
            api_key.passphrase, passphrase
        )
        return api_key if ok else None

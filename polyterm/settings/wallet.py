"""``[wallet]`` in config.toml: which wallet live trading acts for, and the two hosts the
official SDK reads and grants approvals through.

None of it is secret. The private key and the API triplet never live here: they come from
the environment, the OS keyring or the encrypted keyfile (``credentials.py``). This module
imports no keyring and no SDK, so loading the config stays cheap.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, HttpUrl, field_validator

POLYMARKET_DATA_API = "https://data-api.polymarket.com"
POLYGON_RPC = "https://polygon.drpc.org"  # the SDK's own default

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_KEY_LIKE = re.compile(r"^(0[xX])?[0-9a-fA-F]{64}$")
_SHOWN_MAX = 16  # a refused value longer than this is described, never quoted


def refusal(value: str, what: str, fix: str) -> str:
    """Why `value` is not `what` (an address, a signature type), showing the value only
    when it is short: a secret pasted into the wrong setting (a private key in the
    funder's variable) must not come back on the screen, in doctor's --json or a log."""
    text = value.strip()
    if _KEY_LIKE.match(text):
        return (
            f"this looks like a private key, not {what} ({fix}): keep the key in "
            "POLY_PRIVATE_KEY or the keyring, never here"
        )
    shown = repr(value) if len(text) <= _SHOWN_MAX else f"a {len(text)}-character value"
    return f"{shown} is not {what}: {fix}"


class SignatureType(StrEnum):
    """How orders are signed for the funder wallet (the SDK's 0, 1, 2, 3)."""

    EOA = "eoa"  # the key's own address holds the funds
    PROXY = "proxy"  # a Polymarket proxy wallet (email / Magic accounts)
    SAFE = "safe"  # a Gnosis Safe (browser-wallet accounts)
    DEPOSIT = "deposit"  # the deposit wallet: the SDK's default for new accounts

    @property
    def code(self) -> int:
        return _CODES[self]

    @property
    def sdk_wallet_type(self) -> str:
        """The SDK's name for it (``AsyncSecureClient.wallet_type``)."""
        return _SDK_NAMES[self]

    @classmethod
    def parse(cls, text: str) -> SignatureType:
        """From a name (``eoa``, ``proxy``, ``safe``, ``deposit``) or the SDK's number."""
        word = text.strip().lower()
        for member in cls:
            if word in (member.value, str(member.code)):
                return member
        raise ValueError(refusal(text, "a signature type", "use eoa, proxy, safe or deposit"))


_CODES = {
    SignatureType.EOA: 0,
    SignatureType.PROXY: 1,
    SignatureType.SAFE: 2,
    SignatureType.DEPOSIT: 3,
}
_SDK_NAMES = {
    SignatureType.EOA: "EOA",
    SignatureType.PROXY: "POLY_PROXY",
    SignatureType.SAFE: "GNOSIS_SAFE",
    SignatureType.DEPOSIT: "DEPOSIT_WALLET",
}

DEFAULT_SIGNATURE_TYPE = SignatureType.DEPOSIT  # as the SDK: a new account trades through it


def check_address(value: str) -> str:
    """A 0x-prefixed 40-hex-digit address, checksummed; ValueError (naming it) otherwise."""
    text = value.strip()
    if not _ADDRESS.match(text):
        raise ValueError(refusal(value, "an address", "0x and 40 hex digits"))
    from eth_utils.address import to_checksum_address

    return str(to_checksum_address(text))


class WalletConfig(BaseModel):
    """The wallet live trading acts for. ``POLY_SIGNATURE_TYPE`` / ``POLY_FUNDER_ADDRESS``
    (environment) and what ``polyterm auth login`` stored win over these."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    signature_type: SignatureType | None = None  # None: deposit, the SDK's default
    funder: str | None = None  # None: the key's own address (eoa) or derived from it
    # The data API the SDK reads trading approvals from (doctor, auth approve).
    data_url: str = POLYMARKET_DATA_API
    # The Polygon JSON-RPC the SDK reads allowances and sends approvals through.
    rpc_url: str = POLYGON_RPC

    @field_validator("signature_type", mode="before")
    @classmethod
    def _signature_type(cls, value: object) -> object:
        return SignatureType.parse(value) if isinstance(value, str) else value

    @field_validator("funder")
    @classmethod
    def _funder(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else check_address(value)

    @field_validator("data_url", "rpc_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s):// URL")
        HttpUrl(value)
        return value.rstrip("/")

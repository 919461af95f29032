"""`polyterm --live` as a user runs it: a real process against a separately started
`polyterm exchange`, a throwaway key in its environment, and what the venue says."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from tests.kit.keyrings import NO_KEYRING
from tests.kit.live_venue import WALLET
from tests.kit.runs import venue_env
from tests.kit.secrets import PRIVATE_KEY


def live_env(urls: dict[str, Any], **extra: str) -> dict[str, str]:
    """A live run aimed at the exchange process: its URLs, the key, no keyring."""
    return {
        **venue_env(urls),
        "CLOB_WS_URL": urls["ws"],  # the channels' base, as the seed sets it
        "POLYMARKET_DATA_URL": urls["data"],
        "POLYGON_RPC_URL": urls["rpc"],
        "POLY_PRIVATE_KEY": PRIVATE_KEY,
        "POLY_SIGNATURE_TYPE": "eoa",
        "PYTHON_KEYRING_BACKEND": NO_KEYRING,
        **extra,
    }


def admin_get(urls: dict[str, Any], path: str) -> Any:
    headers = {"Authorization": f"Bearer {urls['admin_token']}"}
    response = httpx.get(f"{urls['admin']}{path}", headers=headers, timeout=10)
    response.raise_for_status()
    return response.json()


def our_orders(urls: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        o for o in admin_get(urls, "/orders") if str(o["maker_address"]).lower() == WALLET.lower()
    ]


def our_shares(urls: dict[str, Any]) -> dict[str, Any]:
    from decimal import Decimal

    for wallet in admin_get(urls, "/wallets"):
        if str(wallet["address"]).lower() == WALLET.lower():
            return {t: Decimal(s) for t, s in wallet["tokens"].items() if Decimal(s)}
    return {}


def api_triplet(urls: dict[str, Any]) -> tuple[str, str, str]:
    """The API triplet the venue gave our key (derived again: the same one)."""

    async def derive() -> tuple[str, str, str]:
        from eth_account import Account
        from polymarket import AsyncSecureClient

        from engine.adapters.polymarket.environment import build_environment

        env = build_environment(
            clob_url=urls["clob"],
            ws_url=urls["ws"],
            gamma_url=urls["gamma"],
            data_url=urls["data"],
            rpc_url=urls["rpc"],
        )
        account = Account.from_key(PRIVATE_KEY)
        client = await AsyncSecureClient.create(
            private_key=PRIVATE_KEY, wallet=account.address, environment=env
        )
        try:
            creds = client.credentials
            return str(creds.key), str(creds.secret), str(creds.passphrase)
        finally:
            await client.close()

    return asyncio.run(derive())


def every_output(tmp_path: Path, *texts: str) -> list[str]:
    """Everything a run left readable: the texts given and every file under tmp_path
    (ledgers and their journals, logs, status files, reports), as text."""
    found = list(texts)
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file() and path.name != "keyring.json":
            found.append(path.read_bytes().decode("latin-1"))
    return found

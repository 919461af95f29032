"""API keys through the official SDK: created once per wallet and nonce, derived after,
never derivable from the public address (a secret per emulator run)."""

from __future__ import annotations

import pytest
from eth_account import Account

from tests.kit.venue import sdk_client, venue

pytestmark = pytest.mark.integration


async def test_create_or_derive_returns_one_key_per_wallet_and_nonce() -> None:
    key = "0x" + bytes(Account.create().key).hex()
    async with venue() as emu:
        assert emu.urls is not None
        first = await sdk_client(emu.urls, key)  # creates
        second = await sdk_client(emu.urls, key)  # create refused (400), derive answers
        try:
            assert first.credentials.key == second.credentials.key
            assert first.credentials.secret == second.credentials.secret
            assert await first.fetch_api_keys() == (first.credentials.key,)
        finally:
            await first.close()
            await second.close()


async def test_secrets_are_new_each_run_so_an_address_alone_derives_nothing() -> None:
    key = "0x" + bytes(Account.create().key).hex()
    secrets = []
    for _ in range(2):
        async with venue() as emu:
            assert emu.urls is not None
            client = await sdk_client(emu.urls, key)
            secrets.append(client.credentials.secret)
            await client.close()
    assert secrets[0] != secrets[1]


async def test_credentials_from_another_run_are_refused() -> None:
    from polymarket import AsyncSecureClient

    from tests.kit.venue import environment

    key = "0x" + bytes(Account.create().key).hex()
    async with venue() as emu:
        assert emu.urls is not None
        old = await sdk_client(emu.urls, key)
        creds = old.credentials
        await old.close()
    async with venue() as emu:
        assert emu.urls is not None
        # Given credentials are checked with /auth/api-keys: unknown here, so the SDK
        # falls back to creating a fresh key rather than using the stale one.
        client = await AsyncSecureClient.create(
            private_key=key,
            wallet=Account.from_key(key).address,
            environment=environment(emu.urls),
            credentials=creds,
        )
        try:
            assert client.credentials.key != creds.key
        finally:
            await client.close()

"""The SDK client factory against the strict emulator: derive, validate, refuse, and the
wallet settings checked against what the SDK sees."""

from __future__ import annotations

import socket

import pytest
from eth_account import Account

from polyterm.emulator.server import EmulatorUrls
from polyterm.settings.credentials import (
    API_KEY,
    API_PASSPHRASE,
    API_SECRET,
    FUNDER,
    PRIVATE_KEY,
    SIGNATURE_TYPE,
    CredentialsError,
    TradingCredentials,
    trading_credentials,
)
from polyterm.settings.venue_client import (
    VenueUnreachable,
    VenueUrls,
    authenticated_get,
    connect,
)
from tests.kit import secrets
from tests.kit.keyrings import FileKeyring
from tests.kit.venue import venue

pytestmark = pytest.mark.integration


def _urls(urls: EmulatorUrls) -> VenueUrls:
    return VenueUrls(clob=urls.clob, ws=urls.ws, gamma=urls.gamma, data=urls.data, rpc=urls.rpc)


def _creds(env: dict[str, str], tmp_path: object) -> TradingCredentials:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    creds = trading_credentials(
        env, backend=FileKeyring(tmp_path / "ring.json"), keyfile=tmp_path / "kf.json"
    )
    assert creds is not None
    return creds


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_key_alone_derives_a_triplet_the_venue_accepts(tmp_path: object) -> None:
    async with venue() as emulator:
        creds = _creds({PRIVATE_KEY: secrets.PRIVATE_KEY, SIGNATURE_TYPE: "eoa"}, tmp_path)
        client = await connect(creds, _urls(emulator.urls))
        async with client:
            assert client.wallet == creds.signer
            assert client.wallet_type == "EOA"
            assert client.credentials.key in await client.fetch_api_keys()
            assert await authenticated_get(client, "/v1/user/rate-limit-tier") == {
                "tier": "default"
            }


async def test_a_stored_triplet_is_used_when_the_venue_knows_it(tmp_path: object) -> None:
    async with venue() as emulator:
        env = {PRIVATE_KEY: secrets.PRIVATE_KEY, SIGNATURE_TYPE: "eoa"}
        first = await connect(_creds(env, tmp_path), _urls(emulator.urls))
        async with first:
            triplet = first.credentials
        env |= {
            API_KEY: triplet.key,
            API_SECRET: triplet.secret,
            API_PASSPHRASE: triplet.passphrase,
        }
        again = await connect(_creds(env, tmp_path), _urls(emulator.urls))
        async with again:
            assert again.credentials.key == triplet.key


async def test_a_funder_that_is_not_the_keys_eoa_is_refused(tmp_path: object) -> None:
    other = Account.from_key(secrets.OTHER_KEY).address
    async with venue() as emulator:
        env = {PRIVATE_KEY: secrets.PRIVATE_KEY, SIGNATURE_TYPE: "eoa", FUNDER: other}
        with pytest.raises(CredentialsError) as caught:
            await connect(_creds(env, tmp_path), _urls(emulator.urls))
    assert str(caught.value).startswith(f"{other} is not this key's eoa wallet")
    assert secrets.leaks([str(caught.value)]) == []


async def test_an_unreachable_venue_is_one_line_without_secrets(tmp_path: object) -> None:
    port = _free_port()
    urls = VenueUrls(
        clob=f"http://127.0.0.1:{port}",
        ws=f"ws://127.0.0.1:{port}/ws",
        gamma=f"http://127.0.0.1:{port}/gamma",
    )
    env = {PRIVATE_KEY: secrets.PRIVATE_KEY, SIGNATURE_TYPE: "eoa"}
    with pytest.raises(VenueUnreachable) as caught:
        await connect(_creds(env, tmp_path), urls)
    assert str(caught.value).startswith("connecting to the venue: the venue cannot be reached")
    assert "\n" not in str(caught.value)
    assert secrets.leaks([str(caught.value)]) == []

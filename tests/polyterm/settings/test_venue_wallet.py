"""Which wallet the SDK client is made for: the funder, an EOA's own address, a proxy or
Safe derived from the key as the SDK derives it, the deposit wallet left to the SDK; and a
funder the SDK would read as another type refused before any request."""

from __future__ import annotations

import pytest
from polymarket._internal.wallet import try_classify_wallet_type

from engine.adapters.polymarket.environment import build_environment
from polyterm.settings.credentials import PRIVATE_KEY, CredentialsError, Secret
from polyterm.settings.credentials import TradingCredentials as Creds
from polyterm.settings.venue_client import check_wallet, wallet_for
from polyterm.settings.wallet import SignatureType
from tests.kit import secrets

# Closed loopback ports: nothing here may send a request anywhere.
ENV = build_environment(
    clob_url="http://127.0.0.1:9", ws_url="ws://127.0.0.1:9/ws", gamma_url="http://127.0.0.1:9"
)


def _creds(kind: SignatureType, funder: str | None = None) -> Creds:
    key = Secret(PRIVATE_KEY, secrets.PRIVATE_KEY, "env")
    return Creds(private_key=key, signature_type=kind, funder=funder, api=None)


@pytest.mark.parametrize(
    ("kind", "sdk"), [(SignatureType.PROXY, "POLY_PROXY"), (SignatureType.SAFE, "GNOSIS_SAFE")]
)
def test_a_proxy_or_safe_without_funder_is_derived_from_the_key(
    kind: SignatureType, sdk: str
) -> None:
    from polymarket._internal.environment import get_environment_config

    creds = _creds(kind)
    wallet = wallet_for(creds, ENV)
    assert wallet is not None
    assert wallet != creds.signer
    derivation = get_environment_config(ENV).wallet_derivation
    assert try_classify_wallet_type(signer=creds.signer, wallet=wallet, config=derivation) == sdk
    check_wallet(creds, ENV, wallet)  # what was derived is what was asked for


def test_the_deposit_wallet_is_left_to_the_sdk_and_an_eoa_is_its_key() -> None:
    assert wallet_for(_creds(SignatureType.DEPOSIT), ENV) is None
    eoa = _creds(SignatureType.EOA)
    assert wallet_for(eoa, ENV) == eoa.signer


def test_a_proxy_address_asked_for_as_a_safe_is_refused() -> None:
    proxy = wallet_for(_creds(SignatureType.PROXY), ENV)
    safe = _creds(SignatureType.SAFE, funder=proxy)
    with pytest.raises(CredentialsError) as caught:
        check_wallet(safe, ENV, proxy)
    assert str(caught.value) == (
        f"{proxy} is not this key's safe wallet (the SDK sees POLY_PROXY): fix "
        "POLY_FUNDER_ADDRESS / --funder or POLY_SIGNATURE_TYPE / --signature-type"
    )


def test_a_venue_elsewhere_gets_no_request_at_polymarkets_relayer() -> None:
    """The SDK asks the relayer where a deposit wallet is (and relays a proxy's, Safe's or
    deposit wallet's approvals through it): pointed at `polyterm exchange`, that used to
    go to relayer-v2.polymarket.com, with the signer's address (and, for `auth approve`,
    signed transactions). Polymarket's own hosts keep Polymarket's relayer."""
    from polymarket._internal.environment import PRODUCTION_CONFIG, get_environment_config

    from polyterm.settings.venue_client import VenueUrls, environment

    local = VenueUrls(
        clob="http://127.0.0.1:8123",
        ws="ws://127.0.0.1:8123/ws",
        gamma="http://127.0.0.1:8123/gamma",
        data="http://127.0.0.1:8123/data-api",
        rpc="http://127.0.0.1:8123/rpc",
    )
    relayer = get_environment_config(environment(local)).relayer_url
    assert relayer.startswith("http://127.0.0.1:8123/"), relayer
    production = VenueUrls(
        clob=PRODUCTION_CONFIG.clob_url,
        ws="wss://ws-subscriptions-clob.polymarket.com/ws",
        gamma=PRODUCTION_CONFIG.gamma_url,
    )
    assert get_environment_config(environment(production)).relayer_url == (
        PRODUCTION_CONFIG.relayer_url
    )

"""The official SDK's async secure client, built from :class:`TradingCredentials` and the
configured venue URLs: the one place both ``polyterm auth``/``doctor`` and the live gateway
get a signed, authenticated client from.

The SDK (``polymarket``) is heavy and imported here lazily. Its hosts come from an
``Environment`` built from the configured URLs (``engine/adapters/polymarket/
environment.py``), so the same code talks to Polymarket and to ``polyterm exchange``.

Every failure becomes one line with every secret masked: :class:`VenueUnreachable` when
the venue did not answer (nothing is known about the credentials), :class:`VenueRefused`
when it answered no, :class:`CredentialsError` when the wallet settings do not fit the key.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from polyterm.settings.credentials import CredentialsError, TradingCredentials
from polyterm.settings.wallet import SignatureType

if TYPE_CHECKING:
    from polyterm.settings.config import AppConfig

CONNECT_TIMEOUT_S = 30.0  # creating a client is a few requests (derive, validate)


class VenueError(Exception):
    """The venue could not be used; ``str()`` is one line with no secret in it."""


class VenueUnreachable(VenueError):
    """No answer: connection refused, DNS, TLS, a timeout."""


class VenueRefused(VenueError):
    """The venue answered with a refusal (a 4xx/5xx): ``status`` says which."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class VenueUrls:
    """The hosts the SDK talks to. `ws` is the channels' base (``…/ws``; an old value
    ending in ``/market`` works too); `data` and `rpc` default to Polymarket's."""

    clob: str
    ws: str
    gamma: str
    data: str | None = None
    rpc: str | None = None

    @classmethod
    def from_config(cls, app: AppConfig) -> VenueUrls:
        feed = app.engine.feed
        return cls(
            clob=feed.clob_rest_url,
            ws=feed.market_ws_url,
            gamma=feed.gamma_url,
            data=app.wallet.data_url,
            rpc=app.wallet.rpc_url,
        )


def environment(urls: VenueUrls) -> Any:
    """A ``polymarket.Environment`` whose hosts are `urls`.

    The relayer (where the SDK looks a deposit wallet up, and relays a proxy's, Safe's or
    deposit wallet's approvals) is Polymarket's only for Polymarket's own CLOB: for a venue
    elsewhere (``polyterm exchange``) it is under that venue's URL, so nothing of this
    key's (its address, a signed approval) ever goes to Polymarket by the way. A venue
    that does not serve it refuses, in one line, rather than the request going out."""
    from polymarket._internal.environment import PRODUCTION_CONFIG

    from engine.adapters.polymarket.environment import build_environment

    production = urls.clob.rstrip("/") == PRODUCTION_CONFIG.clob_url.rstrip("/")
    return build_environment(
        clob_url=urls.clob,
        ws_url=urls.ws,
        gamma_url=urls.gamma,
        data_url=urls.data,
        rpc_url=urls.rpc,
        relayer_url=None if production else f"{urls.clob.rstrip('/')}/relayer",
    )


def wallet_for(creds: TradingCredentials, env: Any) -> str | None:
    """The wallet address to hand the SDK: the funder when set; for a proxy or Safe
    without one, the address the SDK's own derivation gives for the key; None for the
    deposit wallet (the SDK finds it)."""
    if creds.funder is not None:
        return creds.funder
    if creds.signature_type is SignatureType.EOA:
        return creds.signer
    if creds.signature_type is SignatureType.DEPOSIT:
        return None
    from polymarket._internal.environment import get_environment_config
    from polymarket._internal.wallet import (
        derive_proxy_wallet_address,
        derive_safe_wallet_address,
    )

    derivation = get_environment_config(env).wallet_derivation
    derive = (
        derive_proxy_wallet_address
        if creds.signature_type is SignatureType.PROXY
        else derive_safe_wallet_address
    )
    return str(derive(creds.signer, derivation))


def venue_error(exc: BaseException, creds: TradingCredentials, doing: str) -> VenueError:
    """`exc` (from the SDK, httpx or a timeout) as one redacted line about `doing`."""
    from polymarket.errors import RateLimitError, RequestRejectedError, TransportError

    if isinstance(exc, TimeoutError):
        return VenueUnreachable(f"{doing}: the venue did not answer in time")
    if isinstance(exc, TransportError | OSError):
        detail = creds.redact(" ".join(str(exc).split())) or type(exc).__name__
        return VenueUnreachable(f"{doing}: the venue cannot be reached ({detail})")
    if isinstance(exc, RateLimitError):
        return VenueRefused(f"{doing}: rate limited by the venue; try again shortly", 429)
    if isinstance(exc, RequestRejectedError):
        detail = creds.redact(" ".join(str(exc).split()))
        return VenueRefused(f"{doing}: the venue refused (HTTP {exc.status}: {detail})", exc.status)
    detail = creds.redact(" ".join(str(exc).split())) or type(exc).__name__
    return VenueRefused(f"{doing}: {detail}")


async def connect(
    creds: TradingCredentials,
    urls: VenueUrls,
    *,
    logger: logging.Logger | None = None,
    on_rate_limit_update: Callable[[Any], None] | None = None,
    timeout_s: float = CONNECT_TIMEOUT_S,
) -> Any:
    """An authenticated ``polymarket.AsyncSecureClient`` for `creds` at `urls` (close it
    with ``await client.close()``, or ``async with``).

    With ``creds.api`` the SDK checks the triplet (``GET /auth/api-keys``) and, when the
    venue does not know it, derives one instead: compare ``client.credentials.key``. Without
    it, the triplet is created or derived (L1). The SDK's wallet type must be the
    signature type asked for, or CredentialsError says which setting to fix.
    """
    from polymarket import AsyncSecureClient
    from polymarket.errors import PolymarketError, UserInputError
    from polymarket.models.clob.api_key import ApiKeyCreds

    env = environment(urls)
    wallet = wallet_for(creds, env)
    check_wallet(creds, env, wallet)
    given = None
    if creds.api is not None:
        given = ApiKeyCreds.model_validate(
            {
                "apiKey": creds.api.key.reveal(),
                "secret": creds.api.secret.reveal(),
                "passphrase": creds.api.passphrase.reveal(),
            }
        )
    try:
        async with asyncio.timeout(timeout_s):
            client = await AsyncSecureClient.create(
                private_key=creds.private_key.reveal(),
                wallet=wallet,
                environment=env,
                credentials=given,
                logger=logger,
                on_rate_limit_update=on_rate_limit_update,
            )
    except UserInputError as exc:
        # The SDK's own words about the key or wallet; masked, never chained.
        raise CredentialsError(
            f"the SDK refused the wallet settings: {creds.redact(' '.join(str(exc).split()))}"
        ) from None
    except (PolymarketError, OSError, TimeoutError) as exc:
        raise venue_error(exc, creds, "connecting to the venue") from None
    expected = creds.signature_type.sdk_wallet_type
    if client.wallet_type != expected:
        await client.close()
        raise _mismatch(creds, str(client.wallet), str(client.wallet_type))
    return client


def check_wallet(creds: TradingCredentials, env: Any, wallet: str | None) -> None:
    """Refuse, before any request, a funder the SDK would take for another wallet type
    (it picks the type from the address, not from what was asked)."""
    if wallet is None:
        return
    from polymarket._internal.environment import get_environment_config
    from polymarket._internal.wallet import try_classify_wallet_type

    derivation = get_environment_config(env).wallet_derivation
    kind = try_classify_wallet_type(signer=creds.signer, wallet=wallet, config=derivation)
    expected = creds.signature_type.sdk_wallet_type
    # An address the key derives to nothing is a deposit wallet it signs for as a session
    # key: the SDK's own reading, fine only when a deposit wallet was asked for.
    seen = "DEPOSIT_WALLET" if kind is None else kind
    if seen != expected:
        raise _mismatch(creds, wallet, seen)


def _mismatch(creds: TradingCredentials, wallet: str | None, seen: str) -> CredentialsError:
    return CredentialsError(
        f"{wallet} is not this key's {creds.signature_type.value} wallet (the SDK sees "
        f"{seen}): fix POLY_FUNDER_ADDRESS / --funder or POLY_SIGNATURE_TYPE / --signature-type"
    )


async def authenticated_get(client: Any, path: str) -> Any:
    """GET `path` on the CLOB with the client's L2 headers, for the routes the SDK has no
    method for (``/v1/user/rate-limit-tier``). Reaches into the SDK's private transport:
    kept to this one function and its test."""
    return await client._ctx.secure_clob.get_json(path)

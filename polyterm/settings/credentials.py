"""Secrets: from the environment first (servers, CI), else the OS keyring (service
"polyterm"), else, for the trading secrets, the encrypted keyfile (``keyfile.py``).

A secret is handed around as a :class:`Secret`, whose ``repr``, ``str`` and format show
``***``: only :meth:`Secret.reveal` gives the value, at the one place that sends it (an
HTTP header, the SDK client that signs). No secret is ever read from config.toml or
written anywhere by polyterm except the keyring and the keyfile.

Trading credentials (:func:`trading_credentials`) are read as one set: the private key
from the first place that has it, and the API triplet, signature type and funder from the
environment or else from the same place as the key (a triplet or funder stored for
another key is never paired with this one). The triplet is optional: without it the live
gateway derives it through the SDK at start.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import keyring
from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend
from keyring.errors import KeyringError

from polyterm.settings.wallet import (
    DEFAULT_SIGNATURE_TYPE,
    SignatureType,
    WalletConfig,
    check_address,
)

if TYPE_CHECKING:
    from polyterm.settings.keyfile import KeyfileInfo

log = logging.getLogger("polyterm.credentials")

SERVICE = "polyterm"
NEWSAPI_KEY = "NEWSAPI_KEY"
TWITTER_BEARER_TOKEN = "TWITTER_BEARER_TOKEN"
KNOWN = (NEWSAPI_KEY, TWITTER_BEARER_TOKEN)

# The trading settings, by their environment names (the keyring and keyfile use the same).
PRIVATE_KEY = "POLY_PRIVATE_KEY"
API_KEY = "POLYMARKET_API_KEY"
API_SECRET = "POLYMARKET_API_SECRET"
API_PASSPHRASE = "POLYMARKET_API_PASSPHRASE"
SIGNATURE_TYPE = "POLY_SIGNATURE_TYPE"
FUNDER = "POLY_FUNDER_ADDRESS"
API_NAMES = (API_KEY, API_SECRET, API_PASSPHRASE)
TRADING_SECRETS = (PRIVATE_KEY, *API_NAMES)
TRADING_NAMES = (*TRADING_SECRETS, SIGNATURE_TYPE, FUNDER)

Origin = Literal["env", "keyring", "keyfile"]

NO_KEYRING_CHOICES = (
    "set POLY_PRIVATE_KEY (and POLYMARKET_API_KEY, POLYMARKET_API_SECRET, "
    "POLYMARKET_API_PASSPHRASE) in the environment, or keep them in an encrypted keyfile "
    "with `polyterm auth login --keyfile`"
)
# keyrings.alt's backends that keep secrets readable on disk: never used.
_PLAINTEXT_BACKENDS = {"keyrings.alt.file.PlaintextKeyring"}
_NO_BACKENDS = {"keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"}
_PRIVATE_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")

__all__ = [
    "ApiTriplet",
    "CredentialsError",
    "Secret",
    "SignatureType",
    "TradingCredentials",
    "trading_credentials",
]


class CredentialsError(ValueError):
    """A credential that cannot be used; ``str()`` is one line naming the setting and the
    fix, and never holds a secret's value."""


class Secret:
    """A value that never shows itself."""

    __slots__ = ("_value", "name", "origin")

    def __init__(self, name: str, value: str, origin: Origin) -> None:
        self.name = name
        self.origin = origin
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.name}, from {self.origin}, ***)"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a Secret is not serialisable")


class Credentials:
    """Looks secrets up by their environment name; the keyring entry has the same name
    under service "polyterm" (``keyring set polyterm NEWSAPI_KEY``).

    `backend` is the keyring to ask (tests pass a file backend in a temp dir); by default
    the OS keyring. A missing or locked keyring means "not there", never an error.
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        backend: KeyringBackend | None = None,
    ) -> None:
        self._env = os.environ if env is None else env
        self._backend = backend
        self.keyring_note = ""  # why the keyring could not be read, one line (never a secret)

    def _keyring(self) -> KeyringBackend:
        return self._backend if self._backend is not None else keyring.get_keyring()

    def get(self, name: str) -> Secret | None:
        value = self._env.get(name, "").strip()
        if value:
            return Secret(name, value, "env")
        try:
            stored = self._keyring().get_password(SERVICE, name)
        except (KeyringError, RuntimeError) as exc:
            # The "fail" backend (no keyring on this machine) raises NoKeyringError.
            self.keyring_note = f"keyring unavailable ({type(exc).__name__})"
            log.debug("%s: %s", name, self.keyring_note)
            return None
        if stored and stored.strip():
            return Secret(name, stored.strip(), "keyring")
        return None

    def store(self, name: str, value: str) -> None:
        """Save a secret in the keyring (raises KeyringError when there is none)."""
        self._keyring().set_password(SERVICE, name, value)

    @property
    def newsapi_key(self) -> Secret | None:
        return self.get(NEWSAPI_KEY)

    @property
    def twitter_bearer_token(self) -> Secret | None:
        return self.get(TWITTER_BEARER_TOKEN)

    def __repr__(self) -> str:
        return "Credentials(env, keyring service 'polyterm')"


# -- trading credentials ------------------------------------------------------------------


@dataclass(frozen=True)
class ApiTriplet:
    """The L2 API credentials (the venue's key, its HMAC secret and passphrase)."""

    key: Secret
    secret: Secret
    passphrase: Secret


@dataclass(frozen=True)
class TradingCredentials:
    """What live trading signs and authenticates with.

    `funder` is the wallet orders are made for: for an EOA the key's own address unless
    told otherwise; None for the other types means "derive it from the key" (the SDK does
    for the deposit wallet; :mod:`polyterm.settings.venue_client` for proxy and safe).
    `api` None: derive the triplet through the SDK at start. `origins` maps each setting's
    name to where it came from: ``env``, ``keyring`` or ``keyfile``, and for the signature
    type and funder also ``config`` or ``default``.
    """

    private_key: Secret
    signature_type: SignatureType
    funder: str | None
    api: ApiTriplet | None
    origins: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def signer(self) -> str:
        """The key's own address (checksummed)."""
        return signer_address(self.private_key)

    def secrets(self) -> tuple[Secret, ...]:
        found = [self.private_key]
        if self.api is not None:
            found += [self.api.key, self.api.secret, self.api.passphrase]
        return tuple(found)

    def redact(self, text: str) -> str:
        """`text` with every one of these secrets masked (for messages that come from a
        library or the network, which polyterm does not write itself)."""
        return redact(text, self.secrets())


def redact(text: str, secrets: tuple[Secret, ...] | list[Secret]) -> str:
    for secret in secrets:
        value = secret.reveal()
        # Hex keys travel in either case and with or without 0x: match them all.
        for form in (value, value.removeprefix("0x")):
            if len(form) >= 6:  # a short value would mask ordinary words
                text = re.sub(re.escape(form), "***", text, flags=re.IGNORECASE)
    return text


def normal_private_key(name: str, value: str, origin: str) -> str:
    """``0x`` + 64 lower-case hex digits; CredentialsError (naming where it came from,
    never the value) otherwise."""
    text = value.strip()
    if not _PRIVATE_KEY.match(text):
        raise CredentialsError(
            f"{name} ({origin}) is not a private key: write 64 hex digits, with or without 0x"
        )
    return "0x" + text.removeprefix("0x").removeprefix("0X").lower()


def signer_address(private_key: Secret) -> str:
    from eth_account import Account

    try:
        return str(Account.from_key(private_key.reveal()).address)
    except Exception:  # the library's message may quote the key: never chained
        raise CredentialsError(
            f"{private_key.name} ({private_key.origin}) is not a valid secp256k1 private key"
        ) from None


def _backend_name(backend: KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def keyring_choice(backend: KeyringBackend | None = None) -> tuple[KeyringBackend | None, str]:
    """The one keyring backend to read and write trading secrets in, or None and why not
    (one line). Out of keyring's chain of backends: the first that keeps secrets safe;
    keyrings.alt's plain-text file is never one, nor the fail/null stand-ins."""
    chosen = backend if backend is not None else keyring.get_keyring()
    members = list(chosen.backends) if isinstance(chosen, ChainerBackend) else [chosen]
    names = [_backend_name(b) for b in members]
    for member, name in zip(members, names, strict=True):
        if name not in _PLAINTEXT_BACKENDS and name not in _NO_BACKENDS:
            return member, ""
    if any(name in _PLAINTEXT_BACKENDS for name in names):
        return None, (
            "the keyring library chose keyrings.alt's PlaintextKeyring, which keeps secrets "
            "in plain text: refused"
        )
    return None, "no OS keyring works here (keyring: NoKeyringError)"


def usable_keyring(backend: KeyringBackend | None = None) -> KeyringBackend:
    """The keyring to store secrets in, or CredentialsError naming the choices."""
    chosen, problem = keyring_choice(backend)
    if chosen is None:
        raise CredentialsError(f"{problem}; {NO_KEYRING_CHOICES}")
    return chosen


def store_in_keyring(values: Mapping[str, str], backend: KeyringBackend | None = None) -> None:
    """Put trading settings in the keyring, then remove every earlier one not among them
    (a triplet left from another key must not outlive it); each is read back, so a
    keyring that drops writes never passes for a store."""
    chosen = usable_keyring(backend)
    try:
        for name, value in values.items():
            chosen.set_password(SERVICE, name, value)
        for name, value in values.items():
            if chosen.get_password(SERVICE, name) != value:
                raise CredentialsError(f"the keyring did not keep {name}; {NO_KEYRING_CHOICES}")
        for name in TRADING_NAMES:
            if name not in values and chosen.get_password(SERVICE, name) is not None:
                chosen.delete_password(SERVICE, name)
    except KeyringError as exc:
        raise CredentialsError(
            f"the keyring refused to store secrets ({type(exc).__name__}); {NO_KEYRING_CHOICES}"
        ) from None


def remove_from_keyring(backend: KeyringBackend | None = None) -> list[str]:
    """Delete every trading setting from the keyring; the names that were there."""
    chosen, _ = keyring_choice(backend)
    if chosen is None:
        return []
    removed = []
    for name in TRADING_NAMES:
        try:
            if chosen.get_password(SERVICE, name) is None:
                continue
            chosen.delete_password(SERVICE, name)
        except KeyringError:
            continue
        removed.append(name)
    return removed


class TradingSources:
    """Where each trading setting is found: the environment, the keyring, the keyfile.

    The keyfile is only opened (and its passphrase only asked for) when the key is in
    neither of the first two.
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        backend: KeyringBackend | None = None,
        keyfile: Path | None = None,
        passphrase: Callable[[], str] | None = None,
    ) -> None:
        from polyterm.settings import keyfile as keyfiles

        self.env = os.environ if env is None else env
        self.backend = backend
        self.keyfile = keyfile if keyfile is not None else keyfiles.default_path()
        self.passphrase = passphrase
        self.keyring_note = ""  # why the keyring could not be read (one line, no secret)

    def from_env(self) -> dict[str, str]:
        return {n: v.strip() for n in TRADING_NAMES if (v := self.env.get(n, "")).strip()}

    def from_keyring(self) -> dict[str, str]:
        chosen, problem = keyring_choice(self.backend)
        if chosen is None:
            self.keyring_note = problem
            return {}
        found: dict[str, str] = {}
        try:
            for name in TRADING_NAMES:
                value = chosen.get_password(SERVICE, name)
                if value and value.strip():
                    found[name] = value.strip()
        except (KeyringError, RuntimeError) as exc:
            self.keyring_note = f"keyring unavailable ({type(exc).__name__})"
            return {}
        return found

    def keyfile_info(self) -> KeyfileInfo | None:
        from polyterm.settings import keyfile as keyfiles

        return keyfiles.inspect(self.keyfile)

    def from_keyfile(self) -> dict[str, str]:
        """Open the keyfile: CredentialsError when it is locked and no passphrase comes."""
        from polyterm.settings import keyfile as keyfiles

        phrase = keyfiles.passphrase_from(self.env, self.passphrase)
        if phrase is None:
            raise CredentialsError(
                f"the keyfile {self.keyfile} is locked: set {keyfiles.PASSPHRASE_ENV} "
                "(or a systemd credential of that name), or run where polyterm can ask for it"
            )
        return keyfiles.read(self.keyfile, phrase)

    def credentials(self, wallet: WalletConfig | None = None) -> TradingCredentials | None:
        env = self.from_env()
        store: dict[str, str] = {}
        origin: Origin = "env"
        if PRIVATE_KEY not in env:
            store = self.from_keyring()
            origin = "keyring"
            if PRIVATE_KEY not in store:
                info = self.keyfile_info()
                if info is None or PRIVATE_KEY not in info.names:
                    return None
                store = self.from_keyfile()
                origin = "keyfile"
        origins: dict[str, str] = {}

        def pick(name: str) -> tuple[str, Origin] | None:
            if name in env:
                return env[name], "env"
            if origin != "env" and name in store:
                return store[name], origin
            return None

        raw_key = pick(PRIVATE_KEY)
        assert raw_key is not None
        private_key = Secret(PRIVATE_KEY, normal_private_key(PRIVATE_KEY, *raw_key), raw_key[1])
        signer = signer_address(private_key)
        origins[PRIVATE_KEY] = raw_key[1]
        api = self._triplet(env, store if origin != "env" else {}, origin, origins)
        signature_type = self._signature_type(pick(SIGNATURE_TYPE), wallet, origins)
        funder = self._funder(pick(FUNDER), wallet, signature_type, signer, origins)
        return TradingCredentials(
            private_key=private_key,
            signature_type=signature_type,
            funder=funder,
            api=api,
            origins=origins,
        )

    @staticmethod
    def _triplet(
        env: dict[str, str], store: dict[str, str], origin: Origin, origins: dict[str, str]
    ) -> ApiTriplet | None:
        given = [n for n in API_NAMES if n in env]
        source: Mapping[str, str]
        where: Origin
        if given:
            missing = [n for n in API_NAMES if n not in env]
            if missing:
                raise CredentialsError(
                    f"{', '.join(missing)} not set: set all of {', '.join(API_NAMES)} in the "
                    "environment, or none (the triplet is then derived at start)"
                )
            source, where = env, "env"
        elif all(n in store for n in API_NAMES):
            source, where = store, origin
        else:
            return None
        for name in API_NAMES:
            origins[name] = where
        return ApiTriplet(*(Secret(n, source[n], where) for n in API_NAMES))

    @staticmethod
    def _signature_type(
        found: tuple[str, Origin] | None, wallet: WalletConfig | None, origins: dict[str, str]
    ) -> SignatureType:
        if found is not None:
            try:
                parsed = SignatureType.parse(found[0])
            except ValueError as exc:
                raise CredentialsError(f"{SIGNATURE_TYPE} ({found[1]}): {exc}") from None
            origins[SIGNATURE_TYPE] = found[1]
            return parsed
        if wallet is not None and wallet.signature_type is not None:
            origins[SIGNATURE_TYPE] = "config"
            return wallet.signature_type
        origins[SIGNATURE_TYPE] = "default"
        return DEFAULT_SIGNATURE_TYPE

    @staticmethod
    def _funder(
        found: tuple[str, Origin] | None,
        wallet: WalletConfig | None,
        signature_type: SignatureType,
        signer: str,
        origins: dict[str, str],
    ) -> str | None:
        if found is not None:
            try:
                address = check_address(found[0])
            except ValueError as exc:
                raise CredentialsError(f"{FUNDER} ({found[1]}): {exc}") from None
            origins[FUNDER] = found[1]
            return address
        if wallet is not None and wallet.funder is not None:
            origins[FUNDER] = "config"
            return wallet.funder
        if signature_type is SignatureType.EOA:
            origins[FUNDER] = "default"
            return signer
        return None


def trading_credentials(
    env: Mapping[str, str] | None = None,
    *,
    passphrase: Callable[[], str] | None = None,
    backend: KeyringBackend | None = None,
    keyfile: Path | None = None,
    wallet: WalletConfig | None = None,
) -> TradingCredentials | None:
    """The trading credentials, or None when no private key is anywhere.

    `env` defaults to ``os.environ``; `passphrase` is asked only when the key is in the
    keyfile alone and neither ``POLYTERM_KEYFILE_PASSPHRASE`` nor a systemd credential
    gives it; `backend` is the keyring (default: the OS one); `keyfile` its path (default:
    in the data dir); `wallet` is config.toml's ``[wallet]`` (signature type and funder
    defaults). Raises CredentialsError (one line, no secret) for a value that cannot be
    used or a keyfile that cannot be opened.
    """
    sources = TradingSources(env, backend=backend, keyfile=keyfile, passphrase=passphrase)
    return sources.credentials(wallet)

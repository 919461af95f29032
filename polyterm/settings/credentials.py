"""Secrets: from the environment first (servers, CI), else the OS keyring (service
"polyterm").

A secret is handed around as a :class:`Secret`, whose ``repr``, ``str`` and format show
``***``: only :meth:`Secret.reveal` gives the value, at the one place that sends it (an
HTTP header). No secret is ever read from config.toml or written anywhere by polyterm.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Literal

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError

log = logging.getLogger("polyterm.credentials")

SERVICE = "polyterm"
NEWSAPI_KEY = "NEWSAPI_KEY"
TWITTER_BEARER_TOKEN = "TWITTER_BEARER_TOKEN"
KNOWN = (NEWSAPI_KEY, TWITTER_BEARER_TOKEN)

Origin = Literal["env", "keyring"]


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

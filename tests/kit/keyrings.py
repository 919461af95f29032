"""Keyring backends for tests (keyrings.alt is not a dependency).

:class:`FileKeyring` keeps passwords in a JSON file (0600) in a temp dir: a real backend
of the keyring library, never chosen automatically; tests pass it explicitly.
:class:`EnvFileKeyring` is the same for a polyterm subprocess, which picks it with
``PYTHON_KEYRING_BACKEND=tests.kit.keyrings.EnvFileKeyring`` and finds its file in
``POLYTERM_TEST_KEYRING`` (see :func:`subprocess_env`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import PasswordDeleteError

BACKEND_ENV = "PYTHON_KEYRING_BACKEND"
FILE_ENV = "POLYTERM_TEST_KEYRING"
NO_KEYRING = "keyring.backends.fail.Keyring"  # what keyring falls back to on a headless box


class FileKeyring(KeyringBackend):
    @classmethod
    def priority(cls) -> float:  # type: ignore[override]
        # Not viable for keyring's own backend discovery: only tests pass it explicitly.
        raise RuntimeError("test backend: pass it explicitly")

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def _load(self) -> dict[str, dict[str, str]]:
        if not self.path.exists():
            return {}
        data: dict[str, dict[str, str]] = json.loads(self.path.read_text())
        return data

    def _save(self, data: dict[str, dict[str, str]]) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps(data))

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data.setdefault(service, {})[username] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if username not in data.get(service, {}):
            raise PasswordDeleteError(username)
        del data[service][username]
        self._save(data)


class EnvFileKeyring(FileKeyring):
    """A :class:`FileKeyring` whose file is ``$POLYTERM_TEST_KEYRING`` (for subprocesses,
    where keyring builds the backend itself, without arguments)."""

    @properties.classproperty
    def priority(cls) -> float:
        # keyring considers every backend class imported into the process: this one is
        # viable only where a test set its file (a subprocess), never in the test runner.
        if FILE_ENV not in os.environ:
            raise RuntimeError(f"test backend: {FILE_ENV} is not set")
        return 1

    def __init__(self) -> None:
        super().__init__(Path(os.environ[FILE_ENV]))


def subprocess_env(path: Path) -> dict[str, str]:
    """The environment that gives a polyterm subprocess the file keyring at `path`."""
    return {BACKEND_ENV: f"{__name__}.EnvFileKeyring", FILE_ENV: str(path)}

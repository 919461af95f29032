"""Which keyring holds trading secrets: a real one, never keyrings.alt's plain-text file,
and none at all on a headless machine (one line naming the other choices)."""

from __future__ import annotations

from pathlib import Path

import pytest
from keyring.backends.fail import Keyring as NoKeyring
from keyring.backends.null import Keyring as NullKeyring
from keyrings.alt.file import PlaintextKeyring

from polyterm.settings.credentials import (
    PRIVATE_KEY,
    CredentialsError,
    keyring_choice,
    store_in_keyring,
    trading_credentials,
)
from tests.kit import secrets
from tests.kit.keyrings import FileKeyring

CHOICES = (
    "set POLY_PRIVATE_KEY (and POLYMARKET_API_KEY, POLYMARKET_API_SECRET, "
    "POLYMARKET_API_PASSPHRASE) in the environment, or keep them in an encrypted keyfile "
    "with `polyterm auth login --keyfile`"
)


def _plaintext(tmp_path: Path) -> PlaintextKeyring:
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "plain.cfg")  # never the user's own file
    return backend


def test_keyrings_alt_plaintext_backend_is_refused_by_name(tmp_path: Path) -> None:
    backend = _plaintext(tmp_path)
    with pytest.raises(CredentialsError) as caught:
        store_in_keyring({PRIVATE_KEY: secrets.PRIVATE_KEY}, backend)
    assert str(caught.value) == (
        "the keyring library chose keyrings.alt's PlaintextKeyring, which keeps secrets in "
        f"plain text: refused; {CHOICES}"
    )
    assert not (tmp_path / "plain.cfg").exists()


def test_a_key_someone_left_in_the_plaintext_file_is_not_read(tmp_path: Path) -> None:
    backend = _plaintext(tmp_path)
    backend.set_password("polyterm", PRIVATE_KEY, secrets.PRIVATE_KEY)
    assert trading_credentials({}, backend=backend, keyfile=tmp_path / "kf.json") is None


@pytest.mark.parametrize("backend", [NoKeyring(), NullKeyring()], ids=["fail", "null"])
def test_no_keyring_names_the_environment_and_the_keyfile(backend: NoKeyring) -> None:
    with pytest.raises(CredentialsError) as caught:
        store_in_keyring({PRIVATE_KEY: secrets.PRIVATE_KEY}, backend)
    assert str(caught.value) == f"no OS keyring works here (keyring: NoKeyringError); {CHOICES}"


def test_a_real_backend_is_chosen(tmp_path: Path) -> None:
    ring = FileKeyring(tmp_path / "ring.json")
    assert keyring_choice(ring) == (ring, "")

"""Credentials: the environment first, else the keyring (a file backend in a temp dir);
a secret's value never shows in repr, str, formatting or logs."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import pytest
from keyring.backends.fail import Keyring as NoKeyring

from polyterm.settings.credentials import NEWSAPI_KEY, SERVICE, TWITTER_BEARER_TOKEN, Credentials
from tests.kit.keyrings import FileKeyring

KEY = "nk-5f3c9a0e1b2d4c6e8f7a"
TOKEN = "AAAAAAAAAAAAAAAAAAAAAbearer-9d8c7b6a"


@pytest.fixture
def keyring_file(tmp_path: Path) -> FileKeyring:
    return FileKeyring(tmp_path / "keyring.json")


def test_environment_wins_over_the_keyring(keyring_file: FileKeyring) -> None:
    keyring_file.set_password(SERVICE, NEWSAPI_KEY, "from-keyring")
    creds = Credentials(env={NEWSAPI_KEY: KEY}, backend=keyring_file)
    secret = creds.newsapi_key
    assert secret is not None
    assert secret.reveal() == KEY
    assert secret.origin == "env"


def test_the_keyring_is_read_under_service_polyterm(keyring_file: FileKeyring) -> None:
    creds = Credentials(env={}, backend=keyring_file)
    assert creds.twitter_bearer_token is None
    creds.store(TWITTER_BEARER_TOKEN, TOKEN)
    assert keyring_file.get_password("polyterm", TWITTER_BEARER_TOKEN) == TOKEN
    secret = Credentials(env={NEWSAPI_KEY: "  "}, backend=keyring_file).twitter_bearer_token
    assert secret is not None
    assert secret.reveal() == TOKEN
    assert secret.origin == "keyring"


def test_blank_values_count_as_absent(keyring_file: FileKeyring) -> None:
    keyring_file.set_password(SERVICE, NEWSAPI_KEY, "   ")
    assert Credentials(env={NEWSAPI_KEY: ""}, backend=keyring_file).newsapi_key is None


def test_no_keyring_on_this_machine_means_absent_not_an_error() -> None:
    creds = Credentials(env={}, backend=NoKeyring())
    assert creds.newsapi_key is None
    assert creds.keyring_note == "keyring unavailable (NoKeyringError)"


def test_a_secret_never_shows_its_value(
    keyring_file: FileKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    keyring_file.set_password(SERVICE, NEWSAPI_KEY, KEY)
    creds = Credentials(env={}, backend=keyring_file)
    secret = creds.newsapi_key
    assert secret is not None
    shown = [repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{secret:>40}", repr(creds)]
    assert all(KEY not in text for text in shown)
    assert repr(secret) == "Secret(NEWSAPI_KEY, from keyring, ***)"
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("polyterm.test").info("using %s (%r)", secret, secret)
    assert KEY not in caplog.text
    assert "***" in caplog.text
    with pytest.raises(TypeError):
        pickle.dumps(secret)

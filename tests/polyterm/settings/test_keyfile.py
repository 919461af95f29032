"""The encrypted keyfile: an Ethereum v3 keystore the signing library reads, 0600, the
API triplet sealed beside the key, nothing readable without the passphrase."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from polyterm.settings import keyfile
from polyterm.settings.credentials import (
    API_KEY,
    API_PASSPHRASE,
    API_SECRET,
    FUNDER,
    PRIVATE_KEY,
    SIGNATURE_TYPE,
)
from polyterm.settings.keyfile import KeyfileError
from tests.kit import secrets

VALUES = {
    PRIVATE_KEY: secrets.PRIVATE_KEY,
    API_KEY: secrets.API_KEY,
    API_SECRET: secrets.API_SECRET,
    API_PASSPHRASE: secrets.API_PASSPHRASE,
    SIGNATURE_TYPE: "eoa",
    FUNDER: Account.from_key(secrets.PRIVATE_KEY).address,
}


def _write(path: Path, values: dict[str, str] = VALUES) -> None:
    keyfile.write(path, values, secrets.PASSPHRASE, work_factor=secrets.SMALL_WORK)


def test_the_round_trip_gives_back_every_setting(tmp_path: Path) -> None:
    path = tmp_path / "data" / "keyfile.json"
    _write(path)
    assert keyfile.read(path, secrets.PASSPHRASE) == VALUES


def test_the_file_is_a_v3_keystore_the_signing_library_opens(tmp_path: Path) -> None:
    path = tmp_path / "keyfile.json"
    _write(path)
    data = json.loads(path.read_text())
    assert data["version"] == 3
    assert data["crypto"]["kdf"] == "scrypt"
    assert {"ciphertext", "mac", "kdfparams", "cipher"} <= set(data["crypto"])
    key = Account.decrypt(data, secrets.PASSPHRASE)
    assert "0x" + bytes(key).hex() == secrets.PRIVATE_KEY


def test_it_is_private_and_holds_no_secret_in_the_clear(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "keyfile.json"
    _write(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert secrets.leaks([path.read_text()]) == []
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_every_directory_it_creates_is_private(tmp_path: Path) -> None:
    """A first `auth login --keyfile` creates the data dir (and any missing parent): each
    is 0700 whatever the umask (the data dir itself used to be left 0755)."""
    import os

    old = os.umask(0o022)
    try:
        _write(tmp_path / "home" / "polyterm" / "keyfile.json")
    finally:
        os.umask(old)
    for directory in (tmp_path / "home", tmp_path / "home" / "polyterm"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory


def test_inspect_lists_what_it_holds_without_the_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "keyfile.json"
    _write(path, {PRIVATE_KEY: secrets.PRIVATE_KEY, SIGNATURE_TYPE: "proxy"})
    info = keyfile.inspect(path)
    assert info is not None
    assert info.names == (PRIVATE_KEY, SIGNATURE_TYPE)
    assert info.address.lower() == Account.from_key(secrets.PRIVATE_KEY).address.lower()
    assert info.plain == {SIGNATURE_TYPE: "proxy"}
    assert keyfile.inspect(tmp_path / "none.json") is None


def test_a_wrong_passphrase_is_one_line_and_reveals_nothing(tmp_path: Path) -> None:
    path = tmp_path / "keyfile.json"
    _write(path)
    with pytest.raises(KeyfileError) as caught:
        keyfile.read(path, "not the passphrase")
    assert str(caught.value) == (
        f"the keyfile {path} did not open: wrong passphrase (POLYTERM_KEYFILE_PASSPHRASE or "
        "the prompt), or the file was changed"
    )


def test_a_sealed_triplet_changed_after_writing_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keyfile.json"
    _write(path)
    data = json.loads(path.read_text())
    sealed = data["polyterm"]["sealed"]
    flipped = int(sealed["ciphertext"][:2], 16) ^ 1
    sealed["ciphertext"] = f"{flipped:02x}" + sealed["ciphertext"][2:]
    path.write_text(json.dumps(data))
    with pytest.raises(KeyfileError) as caught:
        keyfile.read(path, secrets.PASSPHRASE)
    assert "was changed after it was written" in str(caught.value)


def test_a_short_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyfileError) as caught:
        keyfile.write(tmp_path / "k.json", VALUES, "short", work_factor=secrets.SMALL_WORK)
    assert str(caught.value) == "the keyfile passphrase must be at least 8 characters"
    assert not (tmp_path / "k.json").exists()


def test_a_file_that_is_not_a_keystore_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "keyfile.json"
    path.write_text('{"private_key": "plain"}')
    with pytest.raises(KeyfileError) as caught:
        keyfile.inspect(path)
    assert str(caught.value) == (
        f"the keyfile {path} is not an Ethereum v3 keystore written by polyterm: move it "
        "aside and run `polyterm auth login --keyfile`"
    )


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d["crypto"].pop("mac"),
        lambda d: d["crypto"].update(kdf="bogus"),
        lambda d: d["crypto"]["kdfparams"].update(n="x"),
        lambda d: d.update(crypto="x"),
        lambda d: d["crypto"].update(cipherparams=None),
    ],
)
def test_a_damaged_keystore_is_one_line(
    tmp_path: Path, damage: Callable[[dict[str, Any]], object]
) -> None:
    """A keystore damaged by hand (a field gone, a wrong type) is one KeyfileError line,
    never the signing library's KeyError or TypeError and its traceback."""
    path = tmp_path / "keyfile.json"
    _write(path)
    data = json.loads(path.read_text())
    damage(data)
    path.write_text(json.dumps(data))
    with pytest.raises(KeyfileError) as refused:
        keyfile.read(path, secrets.PASSPHRASE)
    assert str(refused.value).startswith(f"the keyfile {path} ")
    assert "\n" not in str(refused.value)


def test_the_passphrase_comes_from_env_then_systemd_then_the_prompt(tmp_path: Path) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "POLYTERM_KEYFILE_PASSPHRASE").write_text("from-systemd\n")
    both = {"POLYTERM_KEYFILE_PASSPHRASE": "from-env", "CREDENTIALS_DIRECTORY": str(creds)}
    assert keyfile.passphrase_from(both) == "from-env"
    assert keyfile.passphrase_from({"CREDENTIALS_DIRECTORY": str(creds)}) == "from-systemd"
    assert keyfile.passphrase_from({}, lambda: "typed") == "typed"
    assert keyfile.passphrase_from({}) is None

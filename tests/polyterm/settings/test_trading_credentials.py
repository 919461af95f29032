"""Trading credentials: the environment, else the keyring (a real file backend in a temp
dir), else the encrypted keyfile; one set from one place; no value ever shown."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import pytest
from eth_account import Account
from keyring.backends.fail import Keyring as NoKeyring

from polyterm.settings import keyfile
from polyterm.settings.credentials import (
    API_KEY,
    API_PASSPHRASE,
    API_SECRET,
    FUNDER,
    PRIVATE_KEY,
    SERVICE,
    SIGNATURE_TYPE,
    CredentialsError,
    SignatureType,
    TradingCredentials,
    store_in_keyring,
    trading_credentials,
)
from polyterm.settings.wallet import WalletConfig
from tests.kit import secrets
from tests.kit.keyrings import FileKeyring

SIGNER = Account.from_key(secrets.PRIVATE_KEY).address
OTHER_SIGNER = Account.from_key(secrets.OTHER_KEY).address
FUNDER_ADDRESS = "0x" + "12" * 20
TRIPLET = {
    API_KEY: secrets.API_KEY,
    API_SECRET: secrets.API_SECRET,
    API_PASSPHRASE: secrets.API_PASSPHRASE,
}


@pytest.fixture
def ring(tmp_path: Path) -> FileKeyring:
    return FileKeyring(tmp_path / "keyring.json")


def _read(
    env: dict[str, str], ring: FileKeyring | NoKeyring, tmp_path: Path, **kw: object
) -> TradingCredentials | None:
    return trading_credentials(env, backend=ring, keyfile=tmp_path / "keyfile.json", **kw)  # type: ignore[arg-type]


def test_nothing_anywhere_is_none(ring: FileKeyring, tmp_path: Path) -> None:
    assert _read({}, ring, tmp_path) is None


def test_the_environment_alone_gives_a_key_whose_triplet_is_derived_at_start(
    ring: FileKeyring, tmp_path: Path
) -> None:
    creds = _read({PRIVATE_KEY: secrets.PRIVATE_KEY.removeprefix("0x")}, ring, tmp_path)
    assert creds is not None
    assert creds.private_key.reveal() == secrets.PRIVATE_KEY
    assert creds.api is None
    assert creds.signer == SIGNER
    assert creds.origins[PRIVATE_KEY] == "env"
    # The SDK's default: the deposit wallet, which the SDK finds itself.
    assert creds.signature_type is SignatureType.DEPOSIT
    assert creds.funder is None


def test_an_eoa_funds_from_its_own_address_unless_told(ring: FileKeyring, tmp_path: Path) -> None:
    env = {PRIVATE_KEY: secrets.PRIVATE_KEY, SIGNATURE_TYPE: "eoa"}
    creds = _read(env, ring, tmp_path)
    assert creds is not None
    assert creds.signature_type is SignatureType.EOA
    assert creds.funder == SIGNER
    assert creds.origins[FUNDER] == "default"
    told = _read({**env, FUNDER: FUNDER_ADDRESS}, ring, tmp_path)
    assert told is not None
    assert told.funder == "0x" + "12" * 20
    assert told.origins[FUNDER] == "env"


def test_the_environment_wins_over_the_keyring(ring: FileKeyring, tmp_path: Path) -> None:
    store_in_keyring({PRIVATE_KEY: secrets.OTHER_KEY, **TRIPLET, SIGNATURE_TYPE: "safe"}, ring)
    creds = _read({PRIVATE_KEY: secrets.PRIVATE_KEY}, ring, tmp_path)
    assert creds is not None
    assert creds.signer == SIGNER
    # What the keyring holds belongs to the other key: none of it is paired with this one.
    assert creds.api is None
    assert creds.signature_type is SignatureType.DEPOSIT


def test_the_keyring_gives_the_whole_set_under_service_polyterm(
    ring: FileKeyring, tmp_path: Path
) -> None:
    store_in_keyring(
        {
            PRIVATE_KEY: secrets.PRIVATE_KEY,
            **TRIPLET,
            SIGNATURE_TYPE: "proxy",
            FUNDER: FUNDER_ADDRESS,
        },
        ring,
    )
    assert ring.get_password(SERVICE, PRIVATE_KEY) == secrets.PRIVATE_KEY
    creds = _read({}, ring, tmp_path)
    assert creds is not None
    assert creds.api is not None
    assert creds.api.secret.reveal() == secrets.API_SECRET
    assert creds.signature_type is SignatureType.PROXY
    assert set(creds.origins.values()) == {"keyring"}


def test_a_new_store_leaves_nothing_of_the_old_one(ring: FileKeyring, tmp_path: Path) -> None:
    store_in_keyring({PRIVATE_KEY: secrets.OTHER_KEY, **TRIPLET}, ring)
    store_in_keyring({PRIVATE_KEY: secrets.PRIVATE_KEY}, ring)
    creds = _read({}, ring, tmp_path)
    assert creds is not None
    assert creds.signer == SIGNER
    assert creds.api is None
    assert ring.get_password(SERVICE, API_SECRET) is None


def test_an_environment_triplet_is_all_three_or_none(ring: FileKeyring, tmp_path: Path) -> None:
    env = {PRIVATE_KEY: secrets.PRIVATE_KEY, API_KEY: secrets.API_KEY}
    with pytest.raises(CredentialsError) as caught:
        _read(env, ring, tmp_path)
    assert str(caught.value).startswith("POLYMARKET_API_SECRET, POLYMARKET_API_PASSPHRASE not set")
    creds = _read({PRIVATE_KEY: secrets.PRIVATE_KEY, **TRIPLET}, ring, tmp_path)
    assert creds is not None
    assert creds.api is not None
    assert creds.api.key.origin == "env"


def test_config_gives_the_wallet_when_nothing_else_does(ring: FileKeyring, tmp_path: Path) -> None:
    wallet = WalletConfig(signature_type=SignatureType.SAFE, funder=FUNDER_ADDRESS)
    creds = _read({PRIVATE_KEY: secrets.PRIVATE_KEY}, ring, tmp_path, wallet=wallet)
    assert creds is not None
    assert (creds.signature_type, creds.funder) == (SignatureType.SAFE, wallet.funder)
    assert creds.origins[SIGNATURE_TYPE] == creds.origins[FUNDER] == "config"
    env = {PRIVATE_KEY: secrets.PRIVATE_KEY, SIGNATURE_TYPE: "3"}
    told = _read(env, ring, tmp_path, wallet=wallet)
    assert told is not None
    assert told.signature_type is SignatureType.DEPOSIT


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {PRIVATE_KEY: "0x1234"},
            "POLY_PRIVATE_KEY (env) is not a private key: write 64 hex digits, with or without 0x",
        ),
        (
            {PRIVATE_KEY: "0x" + "0" * 64},
            "POLY_PRIVATE_KEY (env) is not a valid secp256k1 private key",
        ),
        (
            {PRIVATE_KEY: secrets.PRIVATE_KEY, SIGNATURE_TYPE: "metamask"},
            "POLY_SIGNATURE_TYPE (env): 'metamask' is not a signature type: use eoa, proxy, "
            "safe or deposit",
        ),
        (
            {PRIVATE_KEY: secrets.PRIVATE_KEY, FUNDER: "0x12"},
            "POLY_FUNDER_ADDRESS (env): '0x12' is not an address: 0x and 40 hex digits",
        ),
    ],
)
def test_a_bad_value_is_one_line_naming_it(
    env: dict[str, str], message: str, ring: FileKeyring, tmp_path: Path
) -> None:
    with pytest.raises(CredentialsError) as caught:
        _read(env, ring, tmp_path)
    assert str(caught.value) == message
    # No library error rides along (its text may quote the value).
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_a_key_that_is_almost_right_never_shows_in_the_error(
    ring: FileKeyring, tmp_path: Path
) -> None:
    near = secrets.PRIVATE_KEY[:-1] + "z"
    with pytest.raises(CredentialsError) as caught:
        _read({PRIVATE_KEY: near}, ring, tmp_path)
    assert near.removeprefix("0x")[:20] not in str(caught.value)


@pytest.mark.parametrize("name", [FUNDER, SIGNATURE_TYPE])
@pytest.mark.parametrize("pasted", [secrets.OTHER_KEY, secrets.API_SECRET])
def test_a_secret_pasted_into_a_public_setting_is_never_echoed(
    name: str, pasted: str, ring: FileKeyring, tmp_path: Path
) -> None:
    """A key pasted into the funder's (or the signature type's) variable is refused
    without being quoted: the refusal reaches the screen, doctor's --json and logs."""
    with pytest.raises(CredentialsError) as caught:
        _read({PRIVATE_KEY: secrets.PRIVATE_KEY, name: pasted}, ring, tmp_path)
    assert secrets.leaks([str(caught.value)]) == []
    assert str(caught.value).startswith(f"{name} (env): ")
    if pasted == secrets.OTHER_KEY:
        assert "looks like a private key" in str(caught.value)


def test_no_keyring_on_this_machine_means_absent(tmp_path: Path) -> None:
    assert _read({}, NoKeyring(), tmp_path) is None


def test_the_keyfile_serves_when_neither_has_the_key(ring: FileKeyring, tmp_path: Path) -> None:
    path = tmp_path / "keyfile.json"
    keyfile.write(
        path,
        {PRIVATE_KEY: secrets.PRIVATE_KEY, **TRIPLET, SIGNATURE_TYPE: "eoa"},
        secrets.PASSPHRASE,
        work_factor=secrets.SMALL_WORK,
    )
    asked: list[int] = []

    def prompt() -> str:
        asked.append(1)
        return secrets.PASSPHRASE

    creds = _read({}, NoKeyring(), tmp_path, passphrase=prompt)
    assert creds is not None
    assert asked == [1]
    assert creds.signer == SIGNER
    assert creds.api is not None
    assert creds.api.passphrase.reveal() == secrets.API_PASSPHRASE
    assert creds.funder == SIGNER
    assert {creds.origins[n] for n in (PRIVATE_KEY, API_KEY, SIGNATURE_TYPE)} == {"keyfile"}
    # With the key in the environment the keyfile is never opened: no prompt.
    _read({PRIVATE_KEY: secrets.OTHER_KEY}, NoKeyring(), tmp_path, passphrase=prompt)
    assert asked == [1]


def test_a_locked_keyfile_names_the_ways_to_open_it(tmp_path: Path) -> None:
    path = tmp_path / "keyfile.json"
    keyfile.write(
        path, {PRIVATE_KEY: secrets.PRIVATE_KEY}, secrets.PASSPHRASE, work_factor=secrets.SMALL_WORK
    )
    with pytest.raises(CredentialsError) as caught:
        _read({}, NoKeyring(), tmp_path)
    assert str(caught.value) == (
        f"the keyfile {path} is locked: set POLYTERM_KEYFILE_PASSPHRASE (or a systemd "
        "credential of that name), or run where polyterm can ask for it"
    )
    creds = _read({"POLYTERM_KEYFILE_PASSPHRASE": secrets.PASSPHRASE}, NoKeyring(), tmp_path)
    assert creds is not None
    assert creds.signer == SIGNER


def test_a_systemd_credential_opens_the_keyfile(tmp_path: Path) -> None:
    keyfile.write(
        tmp_path / "keyfile.json",
        {PRIVATE_KEY: secrets.PRIVATE_KEY},
        secrets.PASSPHRASE,
        work_factor=secrets.SMALL_WORK,
    )
    creds_dir = tmp_path / "creds"
    creds_dir.mkdir()
    (creds_dir / "POLYTERM_KEYFILE_PASSPHRASE").write_text(secrets.PASSPHRASE + "\n")
    creds = _read({"CREDENTIALS_DIRECTORY": str(creds_dir)}, NoKeyring(), tmp_path)
    assert creds is not None
    assert creds.signer == SIGNER


def test_trading_secrets_never_show(
    ring: FileKeyring, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store_in_keyring({PRIVATE_KEY: secrets.PRIVATE_KEY, **TRIPLET}, ring)
    creds = _read({}, ring, tmp_path)
    assert creds is not None
    assert creds.api is not None
    shown = [repr(creds), str(creds), f"{creds}", f"{creds.api}", f"{creds.private_key:>70}"]
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("polyterm.test").info("creds %s %r", creds, creds.api)
    assert secrets.leaks([*shown, caplog.text]) == []
    with pytest.raises(TypeError):
        pickle.dumps(creds)


def test_redact_masks_every_secret_in_a_foreign_message(ring: FileKeyring, tmp_path: Path) -> None:
    creds = _read({PRIVATE_KEY: secrets.PRIVATE_KEY, **TRIPLET}, ring, tmp_path)
    assert creds is not None
    message = (
        f"bad key {secrets.PRIVATE_KEY.removeprefix('0x').upper()} with "
        f"{secrets.API_SECRET} and {secrets.API_PASSPHRASE} for {secrets.API_KEY}"
    )
    assert secrets.leaks([creds.redact(message)]) == []
    assert creds.redact("nothing secret here") == "nothing secret here"

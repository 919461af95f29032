"""`polyterm auth login` asks with hidden input where it may, never echoes the key, and
turns bad input into one line (in-process: the venue is a closed port, no emulator)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from click.testing import CliRunner
from eth_account import Account

from polyterm.cli import main
from tests.kit import secrets
from tests.kit.keyrings import FileKeyring
from tests.kit.trading import unreachable_env

SIGNER = Account.from_key(secrets.PRIVATE_KEY).address


@pytest.fixture
def ring(tmp_path: Path) -> Iterator[FileKeyring]:
    backend = FileKeyring(tmp_path / "keyring.json")
    before = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "POLYTERM_CONFIG_DIR": str(tmp_path / "cfg"),
        "POLYTERM_DATA_DIR": str(tmp_path / "data"),
        **unreachable_env(_closed_port()),
    }


def test_login_asks_for_the_key_hidden_then_the_wallet(tmp_path: Path, ring: FileKeyring) -> None:
    runner = CliRunner()
    typed = f"{secrets.PRIVATE_KEY}\neoa\n\n"
    done = runner.invoke(main, ["auth", "login"], input=typed, env=_env(tmp_path))
    assert done.exit_code == 0, done.output
    assert "Polygon private key (hidden): " in done.output
    assert "Signature type (eoa, proxy, safe, deposit) [deposit]: eoa" in done.output
    assert "Funder address (blank: the key's own address) []: " in done.output
    assert secrets.leaks([done.output]) == []
    stored = json.loads((tmp_path / "keyring.json").read_text())["polyterm"]
    assert stored == {"POLY_PRIVATE_KEY": secrets.PRIVATE_KEY, "POLY_SIGNATURE_TYPE": "eoa"}
    assert f"signer {SIGNER}, wallet {SIGNER} (eoa)" in done.output


def test_login_asks_for_a_given_keys_secret_and_passphrase_hidden(
    tmp_path: Path, ring: FileKeyring
) -> None:
    """On the command line the triplet's secret and passphrase show in `ps` (to every
    local user) and in shell history: with --api-key alone, login asks for them hidden."""
    typed = f"{secrets.PRIVATE_KEY}\neoa\n\n{secrets.API_SECRET}\n{secrets.API_PASSPHRASE}\n"
    done = CliRunner().invoke(
        main, ["auth", "login", "--api-key", secrets.API_KEY], input=typed, env=_env(tmp_path)
    )
    assert done.exit_code == 0, done.output
    assert "API secret (hidden): " in done.output
    assert "API passphrase (hidden): " in done.output
    assert secrets.leaks([done.output]) == []
    stored = json.loads((tmp_path / "keyring.json").read_text())["polyterm"]
    assert stored["POLYMARKET_API_SECRET"] == secrets.API_SECRET
    assert stored["POLYMARKET_API_PASSPHRASE"] == secrets.API_PASSPHRASE
    # Given on the command line they still work, with a word about where they showed.
    again = CliRunner().invoke(
        main,
        [
            "auth",
            "login",
            "--private-key-stdin",
            "--api-key",
            secrets.API_KEY,
            "--api-secret",
            secrets.API_SECRET,
            "--api-passphrase",
            secrets.API_PASSPHRASE,
        ],
        input=secrets.PRIVATE_KEY + "\n",
        env=_env(tmp_path),
    )
    assert again.exit_code == 0, again.output
    assert "show in `ps` and shell history" in again.output


@pytest.mark.parametrize(
    ("args", "typed", "line"),
    [
        (
            ["--api-secret", "s"],
            "",
            "--api-key, --api-secret and --api-passphrase go together: give all three or none",
        ),
        (
            ["--private-key-stdin", "--api-key", "k"],
            secrets.PRIVATE_KEY + "\n",
            "--api-key needs --api-secret and --api-passphrase (or POLYMARKET_API_SECRET and "
            "POLYMARKET_API_PASSPHRASE in the environment): --private-key-stdin never prompts",
        ),
        (
            ["--private-key-stdin"],
            "\n",
            "--private-key-stdin: stdin was empty: pipe the private key in",
        ),
        (
            ["--private-key-stdin"],
            secrets.PRIVATE_KEY[:-2] + "\n",
            "POLY_PRIVATE_KEY (stdin) is not a private key: write 64 hex digits, with or "
            "without 0x",
        ),
        (
            ["--private-key-stdin", "--funder", "0xnope"],
            secrets.PRIVATE_KEY + "\n",
            "--funder: '0xnope' is not an address: 0x and 40 hex digits",
        ),
    ],
)
def test_bad_login_input_is_one_line(
    args: list[str], typed: str, line: str, tmp_path: Path, ring: FileKeyring
) -> None:
    done = CliRunner().invoke(main, ["auth", "login", *args], input=typed, env=_env(tmp_path))
    assert done.exit_code == 2
    assert done.output == f"polyterm: error: {line}\n"
    assert not (tmp_path / "keyring.json").exists()


def test_status_never_shows_a_key_pasted_into_the_funder(tmp_path: Path, ring: FileKeyring) -> None:
    env = {
        **_env(tmp_path),
        "POLY_PRIVATE_KEY": secrets.PRIVATE_KEY,
        "POLY_FUNDER_ADDRESS": secrets.OTHER_KEY,
        "POLY_SIGNATURE_TYPE": secrets.API_SECRET,
    }
    for args in (["auth", "status"], ["auth", "status", "--json"]):
        done = CliRunner().invoke(main, args, env=env)
        assert done.exit_code == 0, done.output
        assert secrets.leaks([done.output]) == []
        assert "POLY_FUNDER_ADDRESS" in done.output
    done = CliRunner().invoke(
        main,
        ["auth", "login", "--private-key-stdin", "--funder", secrets.OTHER_KEY],
        input=secrets.PRIVATE_KEY + "\n",
        env=_env(tmp_path),
    )
    assert done.exit_code == 2
    assert secrets.leaks([done.output], [secrets.OTHER_KEY]) == []
    assert "looks like a private key" in done.output

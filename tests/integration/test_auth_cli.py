"""`polyterm auth` as a user runs it, against the strict emulator: log in (keyring,
keyfile, no keyring, unreachable venue, a triplet the venue does not know), status, test,
logout, and approvals granted only after the typed confirmation. No secret in any output."""

from __future__ import annotations

import json
import socket
import stat
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from polyterm.emulator.server import ExchangeEmulator
from tests.kit import secrets
from tests.kit.keyrings import FileKeyring
from tests.kit.trading import Done, polyterm, unreachable_env, venue_env
from tests.kit.venue import admin, venue

pytestmark = pytest.mark.integration

SIGNER = Account.from_key(secrets.PRIVATE_KEY).address
LOGIN = ["auth", "login", "--private-key-stdin", "--signature-type", "eoa"]
NO_KEYRING_LINE = (
    "polyterm: error: no OS keyring works here (keyring: NoKeyringError); set POLY_PRIVATE_KEY "
    "(and POLYMARKET_API_KEY, POLYMARKET_API_SECRET, POLYMARKET_API_PASSPHRASE) in the "
    "environment, or keep them in an encrypted keyfile with `polyterm auth login --keyfile`\n"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stored(tmp_path: Path) -> dict[str, str]:
    ring = tmp_path / "keyring.json"
    return json.loads(ring.read_text()).get("polyterm", {}) if ring.exists() else {}


def _clean(*runs: Done, tmp_path: Path) -> None:
    """No test secret in any output, nor in any file polyterm wrote but the keyring and
    keyfile (where they belong)."""
    texts = [r.out for r in runs] + [r.err for r in runs]
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.name not in ("keyring.json", "keyfile.json"):
            texts.append(path.read_text(errors="replace"))
    assert secrets.leaks(texts) == []


async def test_login_status_test_logout_through_the_keyring(tmp_path: Path) -> None:
    async with venue() as emulator:
        env = venue_env(emulator.urls)
        login = await polyterm(LOGIN, tmp_path, stdin=secrets.PRIVATE_KEY + "\n", **env)
        assert login.code == 0, login.err
        stored = _stored(tmp_path)
        assert stored["POLY_PRIVATE_KEY"] == secrets.PRIVATE_KEY
        assert stored["POLY_SIGNATURE_TYPE"] == "eoa"
        assert {"POLYMARKET_API_KEY", "POLYMARKET_API_SECRET", "POLYMARKET_API_PASSPHRASE"} <= set(
            stored
        )
        assert f"signer {SIGNER}, wallet {SIGNER} (eoa)" in login.out
        key = stored["POLYMARKET_API_KEY"]
        assert f"the API key …{key[-4:]} is active at {emulator.urls.clob}" in login.out

        status = await polyterm(["auth", "status", "--json"], tmp_path, **env)
        rows = {r["name"]: r for r in json.loads(status.out)["secrets"]}
        assert rows["POLY_PRIVATE_KEY"] == {
            "name": "POLY_PRIVATE_KEY",
            "origin": "keyring",
            "value": f"set (signer {SIGNER})",
        }
        assert rows["POLYMARKET_API_KEY"]["value"] == f"…{key[-4:]}"
        assert rows["POLYMARKET_API_SECRET"]["value"] == "set"
        # The environment wins, and status says so.
        shadowed = await polyterm(
            ["auth", "status"], tmp_path, POLY_SIGNATURE_TYPE="deposit", **env
        )
        assert "POLY_SIGNATURE_TYPE        env      deposit" in shadowed.out

        test = await polyterm(["auth", "test"], tmp_path, **env)
        assert test.code == 0, test.err
        assert test.out.startswith(f"ok: signer {SIGNER}, wallet {SIGNER} (eoa), API key …")

        logout = await polyterm(["auth", "logout"], tmp_path, **env)
        assert logout.code == 0
        assert logout.out.startswith("removed from the OS keyring: POLY_PRIVATE_KEY, ")
        assert _stored(tmp_path) == {}
        empty = await polyterm(["auth", "status"], tmp_path, **env)
        assert empty.out == (
            "no trading credentials: run `polyterm auth login` (or set POLY_PRIVATE_KEY)\n"
        )
        gone = await polyterm(["auth", "test"], tmp_path, **env)
        assert gone.code == 2
    _clean(login, status, shadowed, test, logout, empty, gone, tmp_path=tmp_path)


async def test_no_keyring_exits_2_naming_the_choices(tmp_path: Path) -> None:
    done = await polyterm(
        LOGIN, tmp_path, stdin=secrets.PRIVATE_KEY + "\n", keyring=False, **unreachable_env(1)
    )
    assert (done.code, done.out, done.err) == (2, "", NO_KEYRING_LINE)
    _clean(done, tmp_path=tmp_path)


async def test_an_unreachable_venue_still_stores_the_key(tmp_path: Path) -> None:
    env = unreachable_env(_free_port())
    done = await polyterm(LOGIN, tmp_path, stdin=secrets.PRIVATE_KEY + "\n", **env)
    assert done.code == 0, done.err
    assert _stored(tmp_path) == {
        "POLY_PRIVATE_KEY": secrets.PRIVATE_KEY,
        "POLY_SIGNATURE_TYPE": "eoa",
    }
    assert done.out.splitlines()[-1].endswith(
        "the API triplet will be derived and checked at the first live start "
        "(`polyterm auth test` checks it any time)"
    )
    assert "the venue cannot be reached" in done.out
    test = await polyterm(["auth", "test"], tmp_path, **env)
    assert test.code == 2
    assert test.err.startswith("polyterm: error: connecting to the venue: the venue cannot be")
    _clean(done, test, tmp_path=tmp_path)


async def test_a_triplet_the_venue_does_not_know_stores_nothing(tmp_path: Path) -> None:
    async with venue() as emulator:
        done = await polyterm(
            [
                *LOGIN,
                "--api-key",
                secrets.API_KEY,
                "--api-secret",
                secrets.API_SECRET,
                "--api-passphrase",
                secrets.API_PASSPHRASE,
            ],
            tmp_path,
            stdin=secrets.PRIVATE_KEY + "\n",
            **venue_env(emulator.urls),
        )
    assert done.code == 2
    assert done.err == (
        "polyterm: error: the venue does not know the given API key for this wallet: check "
        "--api-key/--api-secret/--api-passphrase, or leave them out to derive the triplet; "
        "nothing was stored\n"
    )
    assert _stored(tmp_path) == {}
    _clean(done, tmp_path=tmp_path)


async def test_the_keyfile_where_no_keyring_works(tmp_path: Path) -> None:
    phrase = {"POLYTERM_KEYFILE_PASSPHRASE": secrets.PASSPHRASE}
    async with venue() as emulator:
        env = venue_env(emulator.urls)
        login = await polyterm(
            [*LOGIN, "--keyfile"],
            tmp_path,
            stdin=secrets.PRIVATE_KEY + "\n",
            keyring=False,
            **phrase,
            **env,
        )
        assert login.code == 0, login.err
        path = tmp_path / "data" / "keyfile.json"
        assert login.out.startswith(f"stored in the keyfile {path}: POLY_PRIVATE_KEY, ")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert secrets.leaks([path.read_text()]) == []

        locked = await polyterm(["auth", "status"], tmp_path, keyring=False, **env)
        assert locked.out.startswith(
            f"POLY_PRIVATE_KEY           keyfile  set (signer {SIGNER}; keyfile locked)\n"
        )
        test = await polyterm(["auth", "test"], tmp_path, keyring=False, **phrase, **env)
        assert test.code == 0, test.err
        assert "(from keyfile)" in test.out
        shut = await polyterm(["auth", "test"], tmp_path, keyring=False, **env)
        assert shut.code == 2
        assert shut.err == (
            f"polyterm: error: the keyfile {path} is locked: set POLYTERM_KEYFILE_PASSPHRASE "
            "(or a systemd credential of that name), or run where polyterm can ask for it\n"
        )
        logout = await polyterm(["auth", "logout"], tmp_path, keyring=False, **env)
        assert logout.out == f"deleted the keyfile {path}\n"
        assert not path.exists()
    _clean(login, locked, test, shut, logout, tmp_path=tmp_path)


async def test_keyfile_with_stdin_and_no_passphrase_never_prompts(tmp_path: Path) -> None:
    done = await polyterm(
        [*LOGIN, "--keyfile"], tmp_path, stdin=secrets.PRIVATE_KEY + "\n", **unreachable_env(1)
    )
    assert done.code == 2
    assert done.err == (
        "polyterm: error: --keyfile with --private-key-stdin needs POLYTERM_KEYFILE_PASSPHRASE "
        "(or a systemd credential of that name): --private-key-stdin never prompts\n"
    )
    assert not (tmp_path / "data" / "keyfile.json").exists()


async def _approvals(emulator: ExchangeEmulator) -> list[Any]:
    got = await admin(emulator.urls, "GET", "/approvals")
    assert isinstance(got, list)
    return got


async def test_approvals_are_granted_only_after_typing_approve(tmp_path: Path) -> None:
    async with venue() as emulator:
        env = venue_env(emulator.urls)
        login = await polyterm(LOGIN, tmp_path, stdin=secrets.PRIVATE_KEY + "\n", **env)
        assert login.code == 0, login.err
        await admin(emulator.urls, "POST", f"/wallets/{SIGNER}/fund", {"approve": False})
        before = len(await _approvals(emulator))

        refused = await polyterm(["auth", "approve"], tmp_path, stdin="yes\n", **env)
        assert refused.code == 2
        assert refused.err.endswith(
            "polyterm: error: not confirmed (type approve): nothing was approved\n"
        )
        assert "lacks 4 trading approvals" in refused.out
        silent = await polyterm(["auth", "approve"], tmp_path, stdin="", **env)
        assert silent.code == 2
        assert len(await _approvals(emulator)) == before

        granted = await polyterm(["auth", "approve"], tmp_path, stdin="approve\n", **env)
        assert granted.code == 0, granted.err
        assert granted.out.endswith(f"every trading approval is in place for wallet {SIGNER}\n")
        made = (await _approvals(emulator))[before:]
        assert len(made) == 4
        assert {a["via"] for a in made} == {"rpc"}
        again = await polyterm(["auth", "approve"], tmp_path, **env)
        assert again.code == 0
        assert again.out == f"every trading approval is in place for wallet {SIGNER}\n"
    _clean(login, refused, silent, granted, again, tmp_path=tmp_path)


def test_the_test_keyring_file_is_private(tmp_path: Path) -> None:
    ring = FileKeyring(tmp_path / "keyring.json")
    ring.set_password("polyterm", "x", "y")
    assert stat.S_IMODE((tmp_path / "keyring.json").stat().st_mode) == 0o600

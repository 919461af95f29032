"""`polyterm doctor` against the emulator (ready, then approvals revoked, then an empty
wallet) and against a venue that cannot be reached: one line per check, exit 2 naming
what blocks live trading, no secret anywhere."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from eth_account import Account

from tests.kit import secrets
from tests.kit.trading import polyterm, unreachable_env, venue_env
from tests.kit.venue import admin, venue

pytestmark = pytest.mark.integration

SIGNER = Account.from_key(secrets.PRIVATE_KEY).address
KEY_ENV = {"POLY_PRIVATE_KEY": secrets.PRIVATE_KEY, "POLY_SIGNATURE_TYPE": "eoa"}
CHECKS = [
    "credentials",
    "wallet",
    "venue",
    "clock",
    "api key",
    "closed-only",
    "approvals",
    "balance",
    "rate limit",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_doctor_against_the_emulator(tmp_path: Path) -> None:
    async with venue() as emulator:
        env = {**venue_env(emulator.urls), **KEY_ENV}
        ready = await polyterm(["doctor"], tmp_path, **env)
        assert ready.code == 0, ready.out + ready.err
        lines = ready.out.splitlines()
        assert [line[6:17].strip() for line in lines] == CHECKS
        assert all(line.startswith("ok ") for line in lines), ready.out
        assert "private key from env; API triplet derived at start" in lines[0]
        assert f"signer {SIGNER}, eoa (from env), funder {SIGNER} (from default)" in lines[1]
        assert f"{emulator.urls.clob} reachable, CLOB version 2" in lines[2]
        assert f"10,000.00 pUSD in {SIGNER}" in lines[7]
        assert lines[8].endswith("tier default")

        await admin(emulator.urls, "POST", f"/wallets/{SIGNER}/fund", {"approve": False})
        revoked = await polyterm(["doctor", "--json"], tmp_path, **env)
        assert revoked.code == 2
        report = json.loads(revoked.out)
        assert report["ok"] is False
        by_name = {c["check"]: c for c in report["checks"]}
        assert by_name["approvals"]["status"] == "fail"
        assert by_name["approvals"]["detail"].startswith("4 missing (pUSD allowance for the CTF")
        assert by_name["approvals"]["detail"].endswith("run `polyterm auth approve`")
        assert revoked.err == ("polyterm: error: doctor: 1 checks block live trading (approvals)\n")

        await admin(
            emulator.urls, "POST", f"/wallets/{SIGNER}/fund", {"collateral": "0", "approve": True}
        )
        empty = await polyterm(["doctor"], tmp_path, **env)
        assert empty.code == 2
        assert f"fail  balance      no pUSD in {SIGNER}: deposit some to trade" in empty.out
    assert secrets.leaks([ready.out, ready.err, revoked.out, revoked.err, empty.out]) == []


async def test_doctor_against_an_unreachable_venue(tmp_path: Path) -> None:
    done = await polyterm(["doctor"], tmp_path, **unreachable_env(_free_port()), **KEY_ENV)
    assert done.code == 2
    lines = done.out.splitlines()
    assert lines[0].startswith("ok    credentials")
    assert lines[2].startswith("fail  venue        http://127.0.0.1:")
    assert "cannot be reached" in lines[2]
    assert [line[:4] for line in lines[3:]] == ["skip"] * 6  # clock and the account
    assert done.err == "polyterm: error: doctor: 1 checks block live trading (venue)\n"
    assert secrets.leaks([done.out, done.err]) == []


async def test_doctor_without_credentials_names_auth_login(tmp_path: Path) -> None:
    done = await polyterm(["doctor", "--json"], tmp_path, **unreachable_env(_free_port()))
    assert done.code == 2
    first = json.loads(done.out)["checks"][0]
    assert first == {
        "check": "credentials",
        "status": "fail",
        "detail": "no trading credentials: run `polyterm auth login` (or set POLY_PRIVATE_KEY)",
    }

"""Starting a live run: paper stays the default, live needs credentials and a typed
confirmation (`live`, or --yes); every refusal is one line and starts nothing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.kit.keyrings import NO_KEYRING
from tests.kit.process import POLYTERM, environ
from tests.kit.secrets import PRIVATE_KEY

pytestmark = pytest.mark.integration

KEY = {"POLY_PRIVATE_KEY": PRIVATE_KEY, "POLY_SIGNATURE_TYPE": "eoa"}
QUIET = {"PYTHON_KEYRING_BACKEND": NO_KEYRING, "SENTIMENT_ENABLED": "false"}


def polyterm(
    tmp_path: Path, args: list[str], stdin: str, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*POLYTERM, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=environ(tmp_path, **QUIET, **env),
        check=False,
    )


def test_live_without_the_typed_confirmation_starts_nothing(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    done = polyterm(tmp_path, ["--live", "--no-ui", "--ledger", str(ledger)], "yes\n", **KEY)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "polyterm: error: live trading not started: type live to confirm, or pass --yes"
    )
    assert not ledger.exists()


def test_live_without_credentials_is_one_line(tmp_path: Path) -> None:
    done = polyterm(tmp_path, ["--live", "--yes", "--no-ui", "--duration", "1"], "")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "polyterm: error: live trading needs credentials: run `polyterm auth login`, or set "
        "POLY_PRIVATE_KEY"
    )


def test_poly_dry_run_false_and_typing_live_starts_a_live_run(tmp_path: Path) -> None:
    done = polyterm(
        tmp_path,
        ["--no-ui", "--json", "--duration", "4"],
        "live\n",
        POLY_DRY_RUN="false",
        **KEY,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["mode"] == "live"
    assert "LIVE trading" in done.stderr

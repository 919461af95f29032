"""`polyterm --live --yes --no-ui` against a separately started `polyterm exchange`, with
a throwaway key in the environment and the default configuration: it trades as a paper
run does, every order signed and accepted, fills from the user channel, the venue's ids
in the ledger, and the positions equal to the venue's balances at the end. No secret
anywhere in what it leaves behind."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from tests.kit.live_process import (
    api_triplet,
    every_output,
    live_env,
    our_orders,
    our_shares,
)
from tests.kit.process import run
from tests.kit.runs import exchange, finish, start
from tests.kit.secrets import leaks

pytestmark = pytest.mark.integration


def test_a_live_run_trades_on_the_exchange_and_ends_matching_its_balances(
    tmp_path: Path,
) -> None:
    ledger = tmp_path / "live.sqlite"
    status = tmp_path / "status.json"
    with exchange(tmp_path / "venue", "--markets", "8", "--seed", "7") as urls:
        proc = start(
            tmp_path,
            "--online",
            "--live",
            "--yes",
            "--no-ui",
            "--duration",
            "45",
            "--ledger",
            str(ledger),
            "--status-file",
            str(status),
            "-vv",  # every debug line too: none may hold a secret
            **live_env(urls),
        )
        code, out, err = finish(proc)
        assert code == 0, err[-3000:]
        venue_orders = our_orders(urls)
        venue_shares = our_shares(urls)
        triplet = api_triplet(urls)
        report = run(
            ["report", "summary", "--ledger", str(ledger), "--format", "json"],
            tmp_path,
            PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        )
    assert report.returncode == 0, report.stderr
    assert "LIVE trading" in err
    db = sqlite3.connect(ledger)
    try:
        ((mode, started),) = db.execute("SELECT mode, started_at FROM runs").fetchall()
        orders = db.execute("SELECT id, venue_id, status, created_at FROM orders").fetchall()
        fills = db.execute("SELECT fill_id, at FROM fills").fetchall()
        positions = {a: s for a, s in db.execute("SELECT asset_id, shares FROM positions") if s}
    finally:
        db.close()
    assert mode == "live"
    # Orders and fills within the first minute, as a paper run trades.
    assert any(at < started + 60 for *_, at in orders)
    assert any(at < started + 60 for _, at in fills)
    # One venue id per order, and every order the venue took is one of the ledger's.
    # (An order refused before it was signed -- a taking order under the venue's $1
    # minimum -- never left, and has none.)
    assert all(status == "rejected" for _, v, status, _ in orders if v is None)
    venue_ids = [v for _, v, _, _ in orders if v is not None]
    assert len(set(venue_ids)) == len(venue_ids)
    taken = {o["id"] for o in venue_orders}
    assert taken <= set(venue_ids)
    refused = {v for _, v, status, _ in orders if v not in taken}
    assert all(s == "rejected" for _, v, s, _ in orders if v in refused)
    # The account is the venue's: the ledger's positions are the wallet's shares.
    from decimal import Decimal

    assert {a: Decimal(s).scaleb(-6) for a, s in positions.items()} == venue_shares
    # Stopping cancelled what was resting.
    assert not [o for o in venue_orders if o["status"] == "LIVE"]
    summary = out.split("polyterm run summary (LIVE)", 1)[1]
    assert re.search(r"^ +mode +live$", summary, re.MULTILINE)
    assert all(
        line.startswith("LIVE [") for line in out.split("polyterm run summary")[0].splitlines()
    )
    assert '"mode": "live"' in report.stdout  # every report says what the run was
    assert json.loads(status.read_text())["mode"] == "live"
    assert leaks(every_output(tmp_path, out, err, report.stdout, report.stderr), triplet) == []
    assert leaks(every_output(tmp_path, out, err, report.stdout, report.stderr)) == []

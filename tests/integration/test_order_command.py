"""`polyterm order` against a running headless instance: real processes, the offline
emulator, a real ledger. A preview sends nothing; a buy by slug and outcome goes through
the risk gate and the gateway and is recorded as manual (by ctl); a size the gate refuses
and a market named without its outcome are one line and exit 2; a price that could be
cents or dollars is refused before anything is sent."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.kit.ctl import wait_status
from tests.kit.process import POLYTERM, environ

pytestmark = pytest.mark.integration

# No strategy trades: the person's orders are the only ones.
QUIET = {
    f"STRATEGIES_{name}_ENABLED": "false"
    for name in (
        "MEAN_REVERSION",
        "MOMENTUM_SCALPING",
        "EVENT_DRIVEN",
        "MICRO_ARBITRAGE",
        "CROSS_MARKET_ARBITRAGE",
    )
}


def order(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*POLYTERM, "order", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=90,
        check=False,
    )


def _market(ledger: Path) -> tuple[str, str]:
    """A market the instance trades: (slug, its first token)."""
    with sqlite3.connect(ledger) as db:
        slug, tokens = db.execute("SELECT slug, tokens_json FROM markets LIMIT 1").fetchone()
    return str(slug), str(json.loads(tokens)[0][0])  # [[token, outcome], ...]


def test_polyterm_order_goes_through_the_risk_gate_of_a_running_instance(
    tmp_path: Path,
) -> None:
    ledger = tmp_path / "l.sqlite"
    env = environ(tmp_path, POLYTERM_RUNTIME_DIR=str(tmp_path / "run"), **QUIET)
    proc = subprocess.Popen(
        [*POLYTERM, "--offline", "--no-ui", "--json", "--markets", "4", "--ledger", str(ledger)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def alive() -> str | None:
        if proc.poll() is None:
            return None
        return f"the instance exited {proc.returncode}: {proc.communicate()[1][-2000:]}"

    try:
        wait_status(env, lambda s: s["state"] == "running" and s["books"] > 0, alive=alive)
        slug, token = _market(ledger)

        # A price that could be either convention is refused before anything is sent.
        bad = order(["buy", token, "5", "--price", "52"], env)
        assert bad.returncode == 2
        assert bad.stderr.splitlines() == [
            "polyterm: error: --price '52': a price is below 1 dollar: write 0.523 "
            "(dollars) or 52c (cents)"
        ]

        # A market named by its slug needs the outcome.
        vague = order(["buy", slug, "5", "--price", "0.99"], env)
        assert vague.returncode == 2
        [line] = vague.stderr.splitlines()
        assert "is a market: add --outcome (Yes or No)" in line

        # The preview asks the gate and the book, and sends nothing.
        preview = order(["buy", token, "5", "--price", "99c", "--preview", "--json"], env)
        assert preview.returncode == 0, preview.stderr
        command = json.loads(preview.stdout)["command"]
        assert command["preview"] is True
        assert command["approved"] is True
        assert command["order_id"] is None
        assert command["price"] == "0.99"  # plain decimals on the wire

        # Past the per-order cap: refused by name, nothing sent.
        refused = order(["buy", token, "1000", "--price", "0.99"], env)
        assert refused.returncode == 2
        [line] = refused.stderr.splitlines()
        assert line.startswith("polyterm: error: order refused by max order: ")

        # A buy by slug and outcome: sent, filled, recorded as manual (by ctl).
        sent = order(["buy", slug, "5", "--outcome", "yes", "--price", "0.99"], env)
        assert sent.returncode == 0, sent.stderr
        assert sent.stdout.startswith("order ")
        assert "filled" in sent.stdout
        assert "¢" in sent.stdout  # prices for people in cents, never a 4-decimal figure
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    with sqlite3.connect(ledger) as db:
        rows = db.execute(
            "SELECT strategy, reason, side, status FROM orders WHERE strategy = 'manual'"
        ).fetchall()
        refusals = db.execute(
            "SELECT count(*) FROM risk_events WHERE strategy = 'manual'"
        ).fetchone()[0]
    assert rows == [("manual", "manual (by ctl)", "BUY", "filled")]
    assert refusals >= 1  # the refused order is on the record, as a strategy's would be

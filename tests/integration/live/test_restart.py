"""kill -9 in the middle of a live run, then a restart: no order is placed twice, no
fill is lost or counted twice, the orders still working at the venue are adopted (or
cancelled, per execution.on_restart), and the kill switch's latch is kept."""

from __future__ import annotations

import json
import signal
from decimal import Decimal
from pathlib import Path

import pytest

from tests.kit.ledgers import rows as table
from tests.kit.live_process import live_env, our_orders, our_shares
from tests.kit.process import run
from tests.kit.runs import BUSY, exchange, finish, start, wait_status

pytestmark = pytest.mark.integration


def test_kill_9_then_restart_places_nothing_twice_and_loses_no_fill(tmp_path: Path) -> None:
    ledger = tmp_path / "live.sqlite"
    status = tmp_path / "status.json"
    args = ["--online", "--live", "--yes", "--no-ui", "--ledger", str(ledger)]
    with exchange(tmp_path / "venue", "--markets", "4", "--seed", "3") as urls:
        # Entries rest (GTD) so that some are working at the venue when the process dies.
        env = live_env(urls, **BUSY, STRATEGY_ORDER_STYLE="rest")
        first = start(tmp_path, *args, "--status-file", str(status), "--duration", "300", **env)
        wait_status(status, lambda s: s.get("open_orders", 0) >= 2, first)
        first.send_signal(signal.SIGKILL)
        finish(first)
        resting = {o["id"] for o in our_orders(urls) if o["status"] == "LIVE"}
        assert resting  # left working at the venue by the dead process

        # The next run adopts them, and then a person latches the kill switch.
        second = start(
            tmp_path,
            *args,
            "--status-file",
            str(status),
            "--duration",
            "300",
            **{**env, "EXECUTION_ON_RESTART": "adopt"},
        )
        wait_status(status, lambda s: s.get("run_id") == 2 and not s.get("trading_blocked"), second)
        adopted = table(
            ledger,
            "SELECT DISTINCT o.venue_id FROM order_events e JOIN orders o ON o.id = e.order_id "
            "WHERE e.detail = 'found at the venue on restart'",
        )
        killed = run(["ctl", "kill", "--ledger", str(ledger), "--json"], tmp_path, **env)
        assert killed.returncode == 0, killed.stderr
        second.send_signal(signal.SIGKILL)
        finish(second)

        # A third run on the default configuration: the latch is still on.
        third = start(tmp_path, *args, "--duration", "8", "--json", **env)
        code, out, err = finish(third)
        assert code == 0, err[-3000:]
        venue = our_orders(urls)
        shares = our_shares(urls)
    summary = json.loads(out)
    assert summary["kill_switch"]["killed_by"] == "ctl"
    assert summary["kill_switch"]["state"] != "armed"
    # Every order resting when the first run died was adopted by the second.
    assert {v for (v,) in adopted} >= resting
    # Nothing placed twice: every order at the venue is one ledger order, and no ledger
    # order went to the venue twice.
    venue_ids = [
        v for (v,) in table(ledger, "SELECT venue_id FROM orders WHERE venue_id IS NOT NULL")
    ]
    assert len(venue_ids) == len(set(venue_ids))
    assert {o["id"] for o in venue} <= set(venue_ids)
    # No fill lost or counted twice: the ledger's positions are the wallet's shares.
    positions = {
        a: Decimal(s).scaleb(-6)
        for a, s in table(ledger, "SELECT asset_id, shares FROM positions")
        if s
    }
    assert positions == shares
    fills = [f for (f,) in table(ledger, "SELECT fill_id FROM fills")]
    assert len(fills) == len(set(fills))
    assert not [o for o in venue if o["status"] == "LIVE"]  # the last stop cancelled them

"""`polyterm ctl cancel-all` (a real process) against a running live instance: every
resting order comes off the venue's book, the answer names them, the ledger says who."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from polyterm.faces.ctl_server import ControlServer
from tests.kit.ctl import actl
from tests.kit.live import snapshot_where
from tests.kit.live_venue import (
    QUIET,
    live_engine,
    ready,
    rest_bids,
    rows,
    throwaway_key,
    venue_orders,
)
from tests.kit.process import environ
from tests.kit.venue import venue

pytestmark = pytest.mark.integration


async def test_ctl_cancel_all_takes_a_live_instances_orders_off_the_venue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    throwaway_key(monkeypatch)
    env = environ(tmp_path, POLYTERM_RUNTIME_DIR=str(tmp_path / "run"))
    ledger = tmp_path / "live.sqlite"
    async with venue() as emu, live_engine(emu, ledger, QUIET) as live:
        server = ControlServer(live.runner, ledger, "headless", directory=tmp_path / "run")
        await server.start()
        try:
            await snapshot_where(live, ready)
            ids = await rest_bids(live, emu, 3)
            code, out, err = await actl(["cancel-all", "--json"], env)
            assert code == 0, err
            answer = json.loads(out)
            assert sorted(answer["command"]["cancels"]) == sorted(ids)
            assert answer["command"]["still_open"] == []
            assert [o["status"] for o in await venue_orders(emu)] == ["CANCELED"] * 3
            assert live.runner.builder.build().orders == ()
        finally:
            await server.close()
    assert (
        rows(ledger, "SELECT status, venue_status, status_reason FROM orders")
        == [("cancelled", "cancelled", "cancel all (by ctl)")] * 3
    )

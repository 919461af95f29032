"""Stopping a live run: resting orders are cancelled at the venue and the run waits for
its confirmations (execution.on_stop = "cancel"), or are left working ("leave") for the
next run to adopt; and the cancel-all command."""

from __future__ import annotations

from pathlib import Path

import pytest

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
from tests.kit.venue import admin, venue

pytestmark = pytest.mark.integration


async def test_stopping_cancels_resting_orders_at_the_venue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    throwaway_key(monkeypatch)
    ledger = tmp_path / "live.sqlite"
    async with venue() as emu:
        async with live_engine(emu, ledger, QUIET) as live:
            await snapshot_where(live, ready)
            await rest_bids(live, emu)
        assert [o["status"] for o in await venue_orders(emu)] == ["CANCELED", "CANCELED"]
    assert rows(ledger, "SELECT status, venue_status, status_reason FROM orders") == [
        ("cancelled", "cancelled", "engine stopped"),
        ("cancelled", "cancelled", "engine stopped"),
    ]


async def test_cancel_all_takes_every_order_off_the_book_and_waits_for_the_venue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    throwaway_key(monkeypatch)
    ledger = tmp_path / "live.sqlite"
    async with venue() as emu, live_engine(emu, ledger, QUIET) as live:
        await snapshot_where(live, ready)
        await rest_bids(live, emu)
        assert await live.runner.cancel_all(who="test") == ()
        assert live.runner.builder.build().orders == ()
        assert [o["status"] for o in await venue_orders(emu)] == ["CANCELED", "CANCELED"]
    assert rows(ledger, "SELECT status_reason FROM orders") == [
        ("cancel all (by test)",),
        ("cancel all (by test)",),
    ]


async def test_cancel_all_is_one_request_to_the_venue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The venue's batch cancel (DELETE /orders), not a cancel per order: with each cancel
    route allowed one request per window, four orders still all come off the book."""
    throwaway_key(monkeypatch)
    async with venue() as emu, live_engine(emu, tmp_path / "live.sqlite", QUIET) as live:
        assert emu.urls is not None
        await snapshot_where(live, ready)
        await rest_bids(live, emu, 4)
        await admin(emu.urls, "POST", "/limits", {"DELETE /order": 1, "DELETE /orders": 1})
        assert await live.runner.cancel_all(who="test") == ()
        assert [o["status"] for o in await venue_orders(emu)] == ["CANCELED"] * 4
        state = await admin(emu.urls, "GET", "/state")
        assert state["pacing"]["limited"] == 0  # no cancel was turned away


async def test_leave_keeps_orders_working_and_the_next_run_adopts_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    throwaway_key(monkeypatch)
    ledger = tmp_path / "live.sqlite"
    async with venue() as emu:
        env = {**QUIET, "EXECUTION_ON_STOP": "leave", "EXECUTION_ON_RESTART": "adopt"}
        async with live_engine(emu, ledger, env) as live:
            await snapshot_where(live, ready)
            ids = await rest_bids(live, emu)
        assert [o["status"] for o in await venue_orders(emu)] == ["LIVE", "LIVE"]
        assert rows(ledger, "SELECT status FROM orders") == [("live",), ("live",)]
        # The next run (before the venue's dead-man switch fires) finds them working.
        async with live_engine(emu, ledger, {**QUIET, "EXECUTION_ON_RESTART": "adopt"}) as live:
            snap = await snapshot_where(live, lambda s: ready(s) and len(s.orders) == 2)
            assert sorted(o.order_id for o in snap.orders) == sorted(ids)
            assert {o.venue_status for o in snap.orders} == {"live"}
        assert len(await venue_orders(emu)) == 2  # adopted, never placed again
    assert rows(ledger, "SELECT status FROM orders") == [("cancelled",), ("cancelled",)]


async def test_orders_left_working_are_cancelled_at_the_next_start_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In one request: with each cancel route allowed one request per window, all three
    come off the book at the next start, none turned away."""
    throwaway_key(monkeypatch)
    ledger = tmp_path / "live.sqlite"
    async with venue() as emu:
        assert emu.urls is not None
        async with live_engine(emu, ledger, {**QUIET, "EXECUTION_ON_STOP": "leave"}) as live:
            await snapshot_where(live, ready)
            await rest_bids(live, emu, 3)
        await admin(emu.urls, "POST", "/limits", {"DELETE /order": 1, "DELETE /orders": 1})
        async with live_engine(emu, ledger, QUIET) as live:  # on_restart = "cancel"
            snap = await snapshot_where(live, ready)
            assert snap.orders == ()
            assert [o["status"] for o in await venue_orders(emu)] == ["CANCELED"] * 3
        state = await admin(emu.urls, "GET", "/state")
        assert state["pacing"]["limited"] == 0
    assert (
        rows(ledger, "SELECT status, status_reason FROM orders")
        == [("cancelled", "cancelled on restart")] * 3
    )

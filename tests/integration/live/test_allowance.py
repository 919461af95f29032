"""An allowance missing: the venue refuses the order for it, entries stop with one line
naming `polyterm auth approve`, and nothing is approved on chain behind the user's back
(the SDK's own place_* would approve `max` by itself; the gateway never calls them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.orders import Side
from engine.runtime.manual import ManualOrder
from engine.venue import BlockReason
from tests.kit.live import snapshot_where
from tests.kit.live_venue import QUIET, WALLET, live_engine, rows, throwaway_key
from tests.kit.venue import admin, venue

pytestmark = pytest.mark.integration
SHARES = 10**6


async def test_a_missing_allowance_stops_entries_and_approves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    throwaway_key(monkeypatch)
    ledger = tmp_path / "live.sqlite"
    async with venue() as emu:
        assert emu.urls is not None
        await admin(emu.urls, "POST", f"/wallets/{WALLET}/fund", {"approve": False})
        book = emu.exchange.markets[0].yes
        async with live_engine(emu, ledger, QUIET) as live:
            await snapshot_where(live, lambda s: not s.trading_blocks and bool(s.markets))
            assert book.best_ask is not None
            buy = ManualOrder(book.asset_id, Side.BUY, 5 * SHARES, book.best_ask + book.tick)
            await live.runner.manual_order(buy, who="test")
            snap = await snapshot_where(
                live,
                lambda s: any(b.reason is BlockReason.ALLOWANCE for b in s.trading_blocks),
            )
            (block,) = snap.trading_blocks
            assert "polyterm auth approve" in block.detail
            assert "\n" not in block.detail
            assert live.runner.manual_preview(buy).rule == "trading_blocked"
            # Approved by the user (here: the venue's admin), the block lifts by itself.
            await admin(emu.urls, "POST", f"/wallets/{WALLET}/fund", {"approve": True})
            await snapshot_where(live, lambda s: not s.trading_blocks)
        approvals = await admin(emu.urls, "GET", "/approvals")
    assert [a for a in approvals if a.get("via") == "rpc"] == []  # nothing approved on chain
    ((status, reason),) = rows(ledger, "SELECT status, status_reason FROM orders")
    assert status == "rejected"
    assert reason.startswith("not_enough_balance: not enough balance / allowance")

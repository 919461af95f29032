"""`report drift` on the ledger of a real live run against the strict emulator: a buy
and a sell through the venue, each priced by the paper shadow too; the report's rows are
the ledger's venue fills and shadow fills, order by order."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.orders import Side
from engine.runtime.manual import ManualOrder
from polyterm.cli import main as polyterm_main
from tests.kit.live import snapshot_where
from tests.kit.live_venue import QUIET, live_engine, rows, throwaway_key
from tests.kit.venue import eventually, venue

pytestmark = pytest.mark.integration
SHARES = 10**6


def ready(snap: object) -> bool:
    return not getattr(snap, "trading_blocks", True) and bool(getattr(snap, "markets", ()))


def _filled(ledger: Path, table: str, order_id: str) -> Decimal:
    ((size,),) = rows(
        ledger, f"SELECT coalesce(sum(size), 0) FROM {table} WHERE order_id = ?", order_id
    )
    return Decimal(size) / SHARES


async def test_drift_on_a_live_run_matches_the_ledgers_fills_and_shadow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    throwaway_key(monkeypatch)
    ledger = tmp_path / "live.sqlite"
    async with venue() as emu:
        book = emu.exchange.markets[0].yes
        async with live_engine(emu, ledger, QUIET) as live:
            await snapshot_where(live, ready)
            assert book.best_ask is not None
            bought = await live.runner.manual_order(
                ManualOrder(book.asset_id, Side.BUY, 5 * SHARES, book.best_ask + book.tick),
                who="test",
            )
            assert bought.order_id is not None, bought.reason
            await snapshot_where(live, lambda s: bool(s.positions))
            await eventually(lambda: rows(ledger, "SELECT count(*) FROM shadow_fills") != [(0,)])
    result = CliRunner().invoke(
        polyterm_main, ["report", "drift", "--ledger", str(ledger), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["mode"] == "live"
    shadowed = {oid for (oid,) in rows(ledger, "SELECT order_id FROM shadow_orders")}
    by_order = {r["order_id"]: r for r in report["tables"]["orders"]}
    assert set(by_order) == shadowed
    assert bought.order_id in shadowed
    assert report["orders"] == len(shadowed)
    for oid, row in by_order.items():
        assert Decimal(row["venue_filled"]) == _filled(ledger, "fills", oid)
        assert Decimal(row["shadow_filled"]) == _filled(ledger, "shadow_fills", oid)
        assert Decimal(row["size_diff"]) == Decimal(row["venue_filled"]) - Decimal(
            row["shadow_filled"]
        )
    row = by_order[bought.order_id]
    assert Decimal(row["venue_filled"]) > 0
    assert Decimal(row["shadow_filled"]) > 0
    assert row["price_diff_bps"] is not None
    html = CliRunner().invoke(
        polyterm_main, ["report", "drift", "--ledger", str(ledger), "--format", "html"]
    )
    assert html.exit_code == 0
    assert html.output.count('class="chart"') == 1

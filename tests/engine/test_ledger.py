"""The ledger on a real SQLite file."""

import sqlite3
from pathlib import Path

import pytest

from engine.ledger.writer import SCHEMA_VERSION, LedgerError, SqliteLedger
from engine.market.markets import MarketInfo, Outcome
from engine.orders import Fill, OrderRequest, OrderResult, OrderStatus, OrderType, Side


async def test_ledger_writes_runs_orders_fills(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    ledger = await SqliteLedger(path).open()
    run = await ledger.start_run("paper", "emulator", "{}")
    market = MarketInfo("0xc", "Q?", "q", (Outcome("1", "Yes"), Outcome("2", "No")))
    ledger.record_markets([market])
    order = OrderRequest(
        "c1", "1", "0xc", Side.BUY, 5000, 10**7, OrderType.FAK, "mean_reversion", "z low", 1.0
    )
    fill = Fill("p1", "1", "0xc", Side.BUY, 5000, 10**7, 780_000, "taker", 2.0)
    ledger.record_order(order, OrderResult("p1", OrderStatus.CONFIRMED, (fill,)), run)
    ledger.record_fill(fill, run)
    await ledger.end_run(run, '{"fills": 1}')
    await ledger.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT price, size, fee, liquidity FROM fills").fetchall() == [
        ("0.5", "10", "0.000078", "taker")
    ]
    assert db.execute("SELECT status, filled FROM orders").fetchall() == [("confirmed", "10")]
    assert db.execute("SELECT summary_json FROM runs").fetchone()[0] == '{"fills": 1}'
    db.close()
    # Reopening migrates nothing and keeps what was recorded.
    again = await SqliteLedger(path).open()
    await again.close()
    assert sqlite3.connect(path).execute("SELECT count(*) FROM fills").fetchone()[0] == 1


async def test_ledger_refuses_newer_schema_and_junk(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite"
    db = sqlite3.connect(newer)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(LedgerError, match="newer polyterm"):
        await SqliteLedger(newer).open()
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerError, match="--ledger"):
        await SqliteLedger(junk).open()

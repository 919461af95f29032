"""The ledger on a real SQLite file, and tapes written then replayed."""

import sqlite3
from pathlib import Path

import pytest

from engine.adapters.polymarket.books import BookStore
from engine.adapters.tape.tape import TapeError, TapeFeed, TapeWriter, read_frames
from engine.ledger.writer import SCHEMA_VERSION, LedgerError, SqliteLedger
from engine.market.markets import MarketInfo, Outcome
from engine.orders import Fill, OrderRequest, OrderResult, OrderStatus, OrderType, Side
from tests.conftest import FakeClock


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


@pytest.mark.parametrize("name", ["tape.jsonl", "tape.jsonl.zst"])
async def test_tape_round_trip_rebuilds_the_same_books(
    tmp_path: Path, recorded: Path, name: str
) -> None:
    frames = [
        (recorded / "ws" / f).read_bytes()
        for f in ("legacy_book.json", "legacy_price_change_v2.json", "legacy_last_trade_price.json")
    ]
    path = tmp_path / name
    writer = TapeWriter(path)
    writer.write_markets([MarketInfo("0xc", "Q?", "q", (Outcome("1", "Yes"),))], 1.0)
    for i, raw in enumerate(frames):
        writer.write_frame(raw, 2.0 + i, "ws")
    writer.close()
    direct = BookStore()
    for raw in frames:
        direct.apply_frame(raw)
    replayed = BookStore()

    class Sink:
        markets: list[MarketInfo] = []

        def on_markets(self, markets: list[MarketInfo]) -> None:
            self.markets = markets

        def on_frame(self, raw: bytes | str, recv_ts: float, source: str) -> None:
            replayed.apply_frame(raw)

    sink = Sink()
    await TapeFeed(path, FakeClock(), speed=0).run(sink)
    assert sink.markets[0].question == "Q?"
    assert {a: b.to_dict() for a, b in replayed.books.items()} == {
        a: b.to_dict() for a, b in direct.books.items()
    }
    assert len(list(read_frames(path))) == 3


def test_read_frames_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"event_type": "book", "asset_id": "1"}\nnot json\n')
    with pytest.raises(TapeError, match=r"bad.jsonl:2"):
        list(read_frames(bad))
    with pytest.raises(TapeError, match="no such file"):
        list(read_frames(tmp_path / "missing.jsonl"))

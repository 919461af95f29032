"""The exit desk: rules reached become closing sells, held exits are recorded once a
minute (not every housekeeping tick), and a sell never leaves dust."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

from engine.adapters.tape.tape import TapeWriter
from tests.kit.tapes import FEE_MARKET as MARKET
from tests.kit.tapes import Scripted, backtest, change, opening_books


async def test_a_held_exit_is_recorded_once_not_every_tick(tmp_path: Path) -> None:
    market = dataclasses.replace(MARKET, min_order_size=5_000_000)
    exit_frame = change(
        1_000_003_000,
        ("Y", "0.50", "0", "SELL"),
        ("Y", "0.51", "0", "SELL"),
        ("Y", "0.57", "100", "SELL"),
        ("Y", "0.56", "27", "BUY"),
        ("N", "0.50", "0", "BUY"),
        ("N", "0.49", "0", "BUY"),
        ("N", "0.43", "100", "BUY"),
        ("N", "0.44", "27", "SELL"),
    )
    quiet = change(1_000_063_000, ("Y", "0.57", "99", "SELL"), ("N", "0.43", "99", "BUY"))
    writer = TapeWriter(tmp_path / "t.jsonl")
    writer.write_markets([market], 1000.0)
    for t, frame in [(1001.0, opening_books()), (1003.0, exit_frame), (1063.0, quiet)]:
        writer.write_frame(json.dumps(frame), t, "ws")
    writer.close()
    snap = await backtest(tmp_path / "t.jsonl", tmp_path / "l.sqlite", Scripted(exit_at=5500))
    assert [(p.asset_id, str(p.shares)) for p in snap.positions if p.shares] == [("Y", "3")]
    db = sqlite3.connect(tmp_path / "l.sqlite")
    # 60 s of housekeeping at 10 Hz over a 3-share (dust) remainder: one row, not hundreds.
    assert db.execute("SELECT count(*) FROM risk_events").fetchone()[0] <= 2
    assert snap.telemetry.refused == 0  # entries refused; the held exit is not one

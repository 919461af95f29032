"""The exit desk: rules reached become closing sells, held exits are recorded once a
minute (not every housekeeping tick), and a sell never leaves dust."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

from engine.adapters.tape.tape import TapeWriter
from engine.orders import OrderType, Side
from engine.strategies.base import Execution, Signal
from tests.kit.engine import Once, book, level, open_rig, trade
from tests.kit.tapes import FEE_MARKET as MARKET
from tests.kit.tapes import Scripted, backtest, change, opening_books

SHARES = 10**6


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
    # The bids took 25 of the 30 (leaving the 5-share minimum, never dust); the last 5 go
    # all or none, and the bid the first sell emptied cannot take them.
    assert [(p.asset_id, str(p.shares)) for p in snap.positions if p.shares] == [("Y", "5")]
    db = sqlite3.connect(tmp_path / "l.sqlite")
    # 60 s of housekeeping at 10 Hz over a held remainder: a few rows, not hundreds.
    assert db.execute("SELECT count(*) FROM risk_events").fetchone()[0] <= 2
    sells = db.execute("SELECT order_type, size FROM orders WHERE side = 'SELL'").fetchall()
    assert sells[0] == ("FAK", 25_000_000)
    assert len(sells) <= 3, sells  # not sent again into a book that did not change
    assert snap.telemetry.refused == 0  # entries refused; the held exit is not one


def resting_buyer(size: int = 10 * SHARES) -> Once:
    return Once(
        "rester",
        1.0,
        lambda ctx: (
            Signal("rester", "Y", Side.BUY, 1.0, "in", size_hint=size, execution=Execution.REST)
            if ctx.asset_id == "Y"
            else None
        ),
    )


async def test_an_exit_takes_its_lots_resting_entry_off_the_book_first(tmp_path: Path) -> None:
    """Reproduced from a backtest: a resting entry bid filled 5.14 of 10 shares, the lot's
    exit sold the 5.14, then the bid's remaining 4.86 filled -- a 4.86-share position
    below the 5-share minimum that no order could ever sell. The exit now cancels the
    lot's resting entries before it sells."""
    r = await open_rig(tmp_path / "l.sqlite", [resting_buyer()])
    r.frame(
        book("Y", [("0.40", "100")], [("0.42", "100")]),
        book("N", [("0.58", "100")], [("0.60", "100")]),
    )
    # Sellers print 106 at our bid: the 100 shown ahead of us, then 6 of ours.
    r.frame(trade("Y", "0.40", "106", "SELL"), level("Y", "0.40", "0", "BUY"))
    assert r.position("Y") == 6 * SHARES
    # The strategy's own exit: sells the 6 held...
    r.core.strategies[:] = [
        Once("rester", 1.0, lambda c: Signal("rester", "Y", Side.SELL, 1.0, "out", True))
    ]
    r.frame(level("Y", "0.39", "50", "BUY"))
    assert r.position("Y") == 0
    # ...and a later print at the old bid finds no entry of ours left to fill.
    r.frame(level("Y", "0.40", "10", "BUY"), trade("Y", "0.40", "20", "SELL"))
    assert r.position("Y") == 0
    assert r.open_orders() == []
    await r.close()


async def test_the_last_shares_wait_for_bids_that_take_them_all(tmp_path: Path) -> None:
    """8 shares held, the bids show 4: selling them would leave 4 that could never be
    sold. The exit holds (recorded once) until the bids can take the 8, all or none."""
    taker = Once(
        "taker",
        1.0,
        lambda ctx: (
            Signal("taker", "Y", Side.BUY, 1.0, "in", size_hint=8 * SHARES)
            if ctx.asset_id == "Y"
            else None
        ),
    )
    r = await open_rig(tmp_path / "l.sqlite", [taker], {"strategy": {"order_style": "take"}})
    r.frame(
        book("Y", [("0.40", "100")], [("0.42", "100")]),
        book("N", [("0.58", "100")], [("0.60", "100")]),
    )
    assert r.position("Y") == 8 * SHARES
    r.core.strategies[:] = [
        Once("taker", 1.0, lambda c: Signal("taker", "Y", Side.SELL, 1.0, "out", True))
    ]
    r.frame(book("Y", [("0.40", "4")], [("0.42", "100")]))
    assert r.position("Y") == 8 * SHARES  # not 4: no dust
    r.core.strategies[:] = [
        Once("taker", 1.0, lambda c: Signal("taker", "Y", Side.SELL, 1.0, "out", True))
    ]
    r.frame(level("Y", "0.40", "30", "BUY"))
    assert r.position("Y") == 0
    sells = [(o.order_type, o.size) for o in r.sent if o.side is Side.SELL]
    assert sells == [(OrderType.FOK, 8 * SHARES)]
    await r.ledger.flush()
    db = sqlite3.connect(tmp_path / "l.sqlite")
    held = db.execute("SELECT reason FROM risk_events").fetchall()
    assert len(held) == 1
    assert "less than the market's minimum order size" in held[0][0]
    await r.close()


async def test_a_taking_entry_asks_only_what_the_book_offers(tmp_path: Path) -> None:
    """A FAK for 10 shares into 3 shown would open a 3-share position, below the minimum:
    refused. Into 7 shown it asks for the 7 (resized, by name)."""
    taker = Once(
        "taker",
        1.0,
        lambda ctx: Signal("taker", "Y", Side.BUY, 1.0, "in") if ctx.asset_id == "Y" else None,
    )
    r = await open_rig(tmp_path / "l.sqlite", [taker], {"strategy": {"order_style": "take"}})
    r.frame(
        book("Y", [("0.40", "100")], [("0.42", "3")]),
        book("N", [("0.58", "100")], [("0.60", "100")]),
    )
    assert r.position("Y") == 0
    assert not r.sent
    assert dict(r.engine.builder.build().reject_reasons) == {"thin_book": 1}
    taker.fired = False
    r.frame(level("Y", "0.42", "7", "SELL"))
    assert [o.size for o in r.sent] == [7 * SHARES]
    assert r.position("Y") == 7 * SHARES
    await r.ledger.flush()
    db = sqlite3.connect(tmp_path / "l.sqlite")
    notes = [row[0] for row in db.execute("SELECT reason FROM risk_events ORDER BY id")]
    assert notes[0].startswith("the asks offer 3 within the limit")
    assert notes[1] == "resized: book depth -> 7"
    await r.close()

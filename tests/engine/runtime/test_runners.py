"""The steppable core under the backtest runner: real tapes, a real SQLite ledger.

A constructed tape with a scripted strategy gives fills, fees and PnL computed by hand;
two backtests of one tape give byte-identical ledger files; settlement, stale REST
snapshots and overlapping exits each get the scenario that broke the old engine.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from engine.clock import SimClock
from engine.ledger.writer import SqliteLedger
from engine.market.health import FeedHealth, FeedSource
from engine.orders import Side
from engine.runtime.kernel import build_engine
from engine.strategies.base import MarketContext, Signal
from tests.kit.tapes import (
    EXIT_FRAME,
    FEE_MARKET,
    Scripted,
    backtest,
    book_at,
    change,
    opening_books,
    runner_config,
    write_tape,
)

MARKET = FEE_MARKET
config = runner_config
book = book_at


async def test_constructed_tape_fills_fees_and_pnl_to_the_cent(tmp_path: Path) -> None:
    tape = write_tape(
        tmp_path / "t.jsonl",
        [
            (1001.0, opening_books()),
            # Buyers lift every ask and bid 0.55 x 50 (NO mirrors it): the exit fires.
            (1003.0, EXIT_FRAME),
        ],
    )
    snap = await backtest(tape, tmp_path / "l.sqlite", Scripted())
    # Buy 30 at limit 0.51 (best ask + 1 tick): 20 @ 0.50 + 10 @ 0.51.
    #   fees: 20 x 0.25 x (0.5 x 0.5)^2 = 0.3125; 10 x 0.25 x (0.51 x 0.49)^2 = 0.156125025
    #   -> rounded up to the USDC unit: 0.156126
    # Sell 30 into the 0.55 bid: fee 30 x 0.25 x (0.55 x 0.45)^2 = 0.459421875 -> 0.459422
    # cash = 1000 - 10 - 5.10 - 0.3125 - 0.156126 + 16.50 - 0.459422 = 1000.471952
    assert snap.cash == Decimal("1000.471952")
    assert snap.realized_pnl == Decimal("0.471952")
    assert snap.fees == Decimal("0.928048")
    assert snap.counters.fills == 3
    db = sqlite3.connect(tmp_path / "l.sqlite")
    rows = db.execute("SELECT side, price, size, fee, liquidity FROM fills ORDER BY id").fetchall()
    assert rows == [
        ("BUY", 5000, 20_000_000, 3_125_000_000, "taker"),
        ("BUY", 5100, 10_000_000, 1_561_260_000, "taker"),
        ("SELL", 5500, 30_000_000, 4_594_220_000, "taker"),
    ]
    exits = db.execute(
        "SELECT reason, shares, entry_price, exit_price, realized, holding_s, mae, mfe FROM exits"
    ).fetchall()
    # The exit's own realized PnL: 16.50 - 15.10 cost - 0.459422 exit fee (entry fees were
    # realized when paid, so the run's total is 0.471952). Entry at 15.10 / 30 = 0.5033;
    # marked at the 0.48 bid at once (MAE 0.0233), then at 0.55 (MFE 0.0467); held 2 s.
    assert exits == [("scripted exit", 30_000_000, 5033, 5500, 9_405_780_000, 2.0, 233, 467)]
    slippage = db.execute("SELECT decision_mid, slippage_bps FROM fills ORDER BY id").fetchall()
    # Mid at the entry decision (0.48 + 0.50) / 2 = 0.49: paid 0.50 and 0.51 -> +204, +408
    # bps; the exit decided at mid (0.55 + 0.56) / 2 = 0.555, sold at 0.55 -> +90.09 bps.
    assert slippage == [(4900, 204.08), (4900, 408.16), (5550, 90.09)]
    statuses = db.execute(
        "SELECT order_id, group_concat(status, '>') FROM order_events GROUP BY order_id"
    ).fetchall()
    assert statuses == [("r1-1", "new>filled"), ("r1-2", "new>filled")]


async def test_market_resolution_settles_positions_and_cancels_orders(tmp_path: Path) -> None:
    tape = write_tape(
        tmp_path / "t.jsonl",
        [
            (1001.0, opening_books()),
            (
                1005.0,
                {
                    "event_type": "market_resolved",
                    "market": "0xm",
                    "assets_ids": ["Y", "N"],
                    "winning_asset_id": "Y",
                    "winning_outcome": "Yes",
                    "timestamp": "1000005000",
                },
            ),
        ],
    )
    snap = await backtest(tape, tmp_path / "l.sqlite", Scripted(exit_at=9900))
    # Bought 30 Yes for 15.10 + 0.468626 fees; Yes won: 30 shares pay 30.
    assert snap.cash == Decimal("1000") - Decimal("15.10") - Decimal("0.468626") + 30
    assert snap.counters.settlements == 1
    assert not [p for p in snap.positions if p.shares]
    db = sqlite3.connect(tmp_path / "l.sqlite")
    assert db.execute("SELECT reason, exit_price FROM exits").fetchall() == [("settlement", 10000)]
    assert db.execute("SELECT shares, payout_price FROM settlements").fetchall() == [
        (30_000_000, 10000)
    ]


async def test_exits_never_sell_a_share_twice(tmp_path: Path) -> None:
    """Reproduced: two overlapping exit passes both sold the position; the second raised.
    With latency, the first exit is still on its way when the next frame asks again."""

    class Eager(Scripted):
        def on_tick(self, ctx: MarketContext) -> Signal | None:
            if ctx.position == 0 and not self.bought:
                self.bought = True
                return Signal(self.name, ctx.asset_id, Side.BUY, 1.0, "entry")
            if ctx.position > 0:
                return Signal(self.name, ctx.asset_id, Side.SELL, 1.0, "exit", True)
            return None

    frames: list[tuple[float, object]] = [(1001.0, opening_books())]
    for i in range(5):  # book updates 10 ms apart, well inside the 200 ms latency
        ts = 1_000_002_000 + 10 * i
        frames.append((1002.0 + i / 100, change(ts, ("Y", "0.47", str(10 + i), "BUY"))))
    tape = write_tape(tmp_path / "t.jsonl", frames)
    cfg = config().model_copy(
        update={"paper": config().paper.model_copy(update={"latency_ms": 200})}
    )
    snap = await backtest(tape, tmp_path / "l.sqlite", Eager(), cfg)
    db = sqlite3.connect(tmp_path / "l.sqlite")
    sold = db.execute("SELECT coalesce(sum(size), 0) FROM fills WHERE side = 'SELL'").fetchone()
    bought = db.execute("SELECT coalesce(sum(size), 0) FROM fills WHERE side = 'BUY'").fetchone()
    assert sold[0] <= bought[0]
    assert snap.error is None
    sells = db.execute("SELECT count(*) FROM orders WHERE side = 'SELL'").fetchone()[0]
    assert sells == 1


def test_sim_clock_fires_due_timers_in_order_before_moving_on() -> None:
    clock = SimClock(100.0)
    fired: list[tuple[str, float]] = []
    clock.call_at(105.0, lambda: fired.append(("b", clock.time())))
    clock.call_at(102.0, lambda: fired.append(("a", clock.time())))
    clock.call_at(105.0, lambda: fired.append(("c", clock.time())))
    assert clock.advance_to(104.0) == 1
    assert fired == [("a", 102.0)]
    assert clock.time() == 104.0
    clock.advance_to(110.0)
    assert fired == [("a", 102.0), ("b", 105.0), ("c", 105.0)]
    clock.advance_to(50.0)  # never backwards
    assert clock.monotonic() == 110.0


@pytest.mark.parametrize("stale_first", [True, False])
async def test_stale_rest_snapshot_is_asked_for_again(tmp_path: Path, stale_first: bool) -> None:
    """Reproduced: a REST snapshot older than the last WS update was dropped while the
    token was no longer queued, so the book stayed untradeable until a reconnect."""
    from engine.adapters.polymarket.books import BookStore

    asked: list[list[str]] = []

    class Feed:
        def want_snapshot(self, asset_ids: object) -> None:
            asked.append(list(asset_ids))  # type: ignore[call-overload]

        def hit(self, asset_id: str) -> None:
            return None

        def market_listed(self, event: object) -> None:
            return None

        def market_resolved(self, condition_id: str) -> None:
            return None

    clock = SimClock(1000.0)
    ledger = await SqliteLedger(tmp_path / "l.sqlite", autocommit=False).open()
    try:
        health = FeedHealth()
        health.set_source(FeedSource.WS_LIVE, 0.0)
        engine = build_engine(
            config(), clock, ledger, venue="t", feed=Feed(), health=health, strategies=[]
        )
        core = engine.core
        await ledger.start_run("paper", "t", "{}", 1000.0, engine.starting_cash)
        core.start(1)
        core.on_markets([MARKET])
        books: BookStore = core.intake.books
        core.on_frame(json.dumps(opening_books(1_000_001_000)), 1001.0)
        # A price change that disagrees with the venue's reported best bid: a gap.
        gap = change(1_000_002_000, ("Y", "0.47", "5", "BUY"))
        gap["price_changes"][0]["best_bid"] = "0.40"
        core.on_frame(json.dumps(gap), 1002.0)
        assert books.books["Y"].needs_snapshot
        clock.advance_to(1002.1)
        core.on_timer()
        assert asked == [["Y"]]
        # The REST answer is older than the WS update we already applied: dropped...
        stale = book("Y", [("0.48", "100")], [("0.50", "20")], 1_000_001_500)
        core.on_frame(json.dumps([stale]), 1002.2, "rest")
        assert books.books["Y"].needs_snapshot
        # ...and asked for again, spaced out by the backoff, never forgotten.
        clock.advance_to(1002.3)
        core.on_timer()
        assert asked == [["Y"]]  # too soon
        clock.advance_to(1003.0)
        core.on_timer()
        assert asked == [["Y"], ["Y"]]
        fresh = book("Y", [("0.48", "100")], [("0.50", "20")], 1_000_003_000)
        core.on_frame(json.dumps([fresh]), 1003.1, "rest")
        assert not books.books["Y"].needs_snapshot
    finally:
        await ledger.close()


async def test_resting_entries_fill_as_maker_through_the_queue_and_expire(tmp_path: Path) -> None:
    """order_style = "rest": a post-only GTD bid joins the queue behind the size shown,
    fills only when prints eat through that size, and whatever is left expires."""
    frames: list[tuple[float, object]] = [
        (1001.0, opening_books()),
        # Sellers hit the 0.48 bid: 100 shown ahead of us, then 30 more reach us.
        (
            1002.0,
            {
                "event_type": "last_trade_price",
                "asset_id": "Y",
                "market": "0xm",
                "price": "0.48",
                "size": "100",
                "side": "SELL",
                "timestamp": "1000002000",
            },
        ),
        (1002.0, change(1_000_002_000, ("Y", "0.48", "0", "BUY"), ("N", "0.52", "0", "SELL"))),
        (
            1003.0,
            {
                "event_type": "last_trade_price",
                "asset_id": "Y",
                "market": "0xm",
                "price": "0.48",
                "size": "12",
                "side": "SELL",
                "timestamp": "1000003000",
            },
        ),
        # Nothing more trades there; the rest of the order expires after its 5 s.
        (1010.0, change(1_000_010_000, ("Y", "0.47", "40", "BUY"), ("N", "0.53", "40", "SELL"))),
    ]
    tape = write_tape(tmp_path / "t.jsonl", frames)
    cfg = config(order_style="rest", rest_ttl_s=5)
    snap = await backtest(tape, tmp_path / "l.sqlite", Scripted(exit_at=9900), cfg)
    db = sqlite3.connect(tmp_path / "l.sqlite")
    fills = db.execute("SELECT side, price, size, fee, liquidity FROM fills").fetchall()
    assert fills == [("BUY", 4800, 12_000_000, 0, "maker")]
    order = db.execute("SELECT order_type, post_only, status, filled FROM orders").fetchone()
    assert order == ("GTD", 1, "expired", 12_000_000)
    steps = [r[0] for r in db.execute("SELECT status FROM order_events ORDER BY id")]
    assert steps == ["new", "live", "partially_filled", "expired"]
    assert snap.cash == Decimal("1000") - Decimal("5.76")


async def test_an_order_in_flight_when_its_market_resolves_never_fills(tmp_path: Path) -> None:
    resolved = {
        "event_type": "market_resolved",
        "market": "0xm",
        "assets_ids": ["Y", "N"],
        "winning_asset_id": "N",
        "winning_outcome": "No",
        "timestamp": "1000001050",
    }
    tape = write_tape(
        tmp_path / "t.jsonl",
        [(1001.0, opening_books()), (1001.05, resolved), (1002.0, opening_books(1_000_002_000))],
    )
    cfg = config().model_copy(
        update={"paper": config().paper.model_copy(update={"latency_ms": 100})}
    )
    snap = await backtest(tape, tmp_path / "l.sqlite", Scripted(exit_at=9900), cfg)
    db = sqlite3.connect(tmp_path / "l.sqlite")
    assert db.execute("SELECT count(*) FROM fills").fetchone()[0] == 0
    assert not [p for p in snap.positions if p.shares]
    assert snap.equity == 1000


async def test_every_fill_comes_in_by_the_order_managers_one_entry_point(tmp_path: Path) -> None:
    """Fills that cross at once and fills of resting orders (a print, a level that moved)
    take one route: the paper exchange reports them to the order manager's on_reports,
    as a live venue's user channel will; nothing else writes a fill."""
    from engine.clock import SimClock
    from engine.runtime.backtest import replay_records
    from engine.runtime.kernel import build_engine, replay_health
    from engine.venue import FillReport

    def printed(ts: int, size: str) -> dict[str, str]:
        return {
            "event_type": "last_trade_price",
            "asset_id": "Y",
            "market": "0xm",
            "price": "0.48",
            "size": size,
            "side": "SELL",
            "timestamp": str(ts),
        }

    frames: list[tuple[float, object]] = [
        (1001.0, opening_books()),
        (1002.0, printed(1_000_002_000, "100")),  # the size shown ahead of our bid
        (1002.0, change(1_000_002_000, ("Y", "0.48", "0", "BUY"), ("N", "0.52", "0", "SELL"))),
        (1003.0, printed(1_000_003_000, "12")),  # 12 reach our resting bid: maker
        (1004.0, EXIT_FRAME),  # the bid reaches the exit: a taking sell
    ]
    tape = write_tape(tmp_path / "t.jsonl", frames)
    clock = SimClock()
    ledger = await SqliteLedger(tmp_path / "l.sqlite", autocommit=False).open()
    try:
        engine = build_engine(
            config(order_style="rest", rest_ttl_s=30),
            clock,
            ledger,
            venue="backtest",
            health=replay_health(),
            strategies=[Scripted()],
        )
        oms = engine.core.oms
        through: list[str] = []
        entry = oms.on_reports

        def counted(reports: object) -> None:
            through.extend(r.fill.fill_id for r in reports if isinstance(r, FillReport))  # type: ignore[attr-defined]
            entry(reports)  # type: ignore[arg-type]

        oms.on_reports = counted  # type: ignore[method-assign]
        runner = engine.backtest_runner(clock, ledger)
        await runner.run(replay_records([tape]), starting_cash=engine.starting_cash)
    finally:
        await ledger.close()
    db = sqlite3.connect(tmp_path / "l.sqlite")
    recorded = [r[0] for r in db.execute("SELECT fill_id FROM fills ORDER BY id")]
    kinds = {r[0] for r in db.execute("SELECT liquidity FROM fills")}
    assert recorded == through
    assert kinds == {"maker", "taker"}

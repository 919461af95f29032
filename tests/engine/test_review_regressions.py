"""Defects a review of the second shape found, each as a test that failed before its fix."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

from engine.adapters.tape.tape import TapeWriter
from engine.clock import SimClock
from engine.config import EngineConfig
from engine.events import KillSwitchChanged
from engine.execution.paper import PaperVenue
from engine.ledger.reader import AccountState
from engine.ledger.writer import SqliteLedger
from engine.market.book import OrderBook
from engine.market.health import FeedHealth, FeedSource
from engine.market.markets import MarketInfo, Outcome
from engine.orders import Fill, Liquidity, OrderRequest, OrderType, Side
from polyterm.faces.wiring import build_engine
from tests.engine.harness import NoFeed
from tests.engine.test_runtime import (
    MARKET,
    Scripted,
    backtest,
    change,
    config,
    opening_books,
    write_tape,
)


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


def test_one_sides_book_alone_never_gives_taken_liquidity_back() -> None:
    yes, no = OrderBook("Y", "0xm"), OrderBook("N", "0xm")
    yes.replace([], [(5000, 20_000_000)])
    no.replace([(5000, 20_000_000)], [])
    books = {"Y": yes, "N": no}
    venue = PaperVenue(books.get, lambda t: MARKET if t in books else None)
    venue.add_markets([MARKET])

    def buy(order_id: str) -> int:
        order = OrderRequest(
            order_id, "Y", "0xm", Side.BUY, 5000, 20_000_000, OrderType.FAK, "t", "r", 0.0
        )
        return sum(f.size for f in venue.submit(order, 0.0).fills)

    assert buy("a") == 20_000_000
    no.set_level(True, 5000, 0)  # NO's book updates first; YES still shows the 20
    venue.after_frame(["N"], 1.0)
    assert buy("b") == 0
    yes.set_level(False, 5000, 0)  # now both agree the level is gone
    venue.after_frame(["Y"], 2.0)
    yes.set_level(False, 5000, 7_000_000)  # and 7 new shares arrive: only those
    no.set_level(True, 5000, 7_000_000)
    venue.after_frame(["Y", "N"], 3.0)
    assert buy("c") == 7_000_000


async def _restored_core(tmp_path: Path, state: AccountState) -> object:
    ledger = await SqliteLedger(tmp_path / "l.sqlite", autocommit=False).open()
    health = FeedHealth()
    health.set_source(FeedSource.REPLAY, 0.0)
    cfg = EngineConfig.model_validate(
        {
            "risk": {"max_total_exposure": "250"},
            "execution": {"on_restart": "replace"},
            "strategy": {"order_size": "10"},
        }
    )
    old = MarketInfo("0xold", "Old?", "old", (Outcome("OY", "Yes"), Outcome("ON", "No")))
    parts = build_engine(
        cfg,
        SimClock(100_000.0),
        ledger,
        feed=NoFeed(),
        health=health,
        mode="paper",
        venue="t",
        state=state,
        known_markets=[old, MARKET],
        strategies=[],
    )
    parts.core.ledger_for_test = ledger  # type: ignore[attr-defined]
    return parts


async def test_restored_positions_count_in_exposure_and_wait_for_their_marks(
    tmp_path: Path,
) -> None:
    fills = (
        Fill(
            "r1-1#1", "r1-1", "OY", "0xold", Side.BUY, 5000, 400_000_000, 0, Liquidity.TAKER, 10.0
        ),
        Fill("r1-2#1", "r1-2", "Y", "0xm", Side.BUY, 5000, 30_000_000, 0, Liquidity.TAKER, 11.0),
    )
    state = AccountState(10_000_000_000_000, fills, (), (), 1, None)
    parts = await _restored_core(tmp_path, state)
    core = parts.core  # type: ignore[attr-defined]
    ledger = core.ledger_for_test
    try:
        await ledger.start_run("paper", "t", "{}", 100_000.0, parts.starting_cash)  # type: ignore[attr-defined]
        core.start(2)
        core.on_markets([MARKET])  # this run does not list 0xold
        _, _, total = core.exposures.of(MARKET)
        assert total >= 200 * 10**10  # the $200 held in 0xold still counts
        # The kill switch takes no baseline while held positions have no mark yet.
        assert core.risk.kill_switch.view(100_000.0).baseline == 0
        core.on_frame(json.dumps(opening_books(1_000_001_000)), 100_001.0)
        core.clock.advance_to(100_001.0)
        core.on_timer()
        # 0xold never gets a book: still waiting within the grace period...
        assert core.risk.kill_switch.view(100_001.0).baseline == 0
        core.clock.advance_to(100_040.0)
        core.on_timer()
        view = core.risk.kill_switch.view(100_040.0)
        # ...then counted at cost; Y is marked at its 0.48 bid, not at cost.
        assert view.baseline == 10_000_000_000_000 - 5000 * 430_000_000 + 200 * 10**10 + (
            4800 * 30_000_000
        )
    finally:
        await ledger.close()


async def test_replaced_orders_go_through_the_risk_gate(tmp_path: Path) -> None:
    from engine.ledger.reader import OrderRecord
    from engine.orders import OrderStatus

    old = OrderRequest(
        "r1-9", "Y", "0xm", Side.BUY, 4800, 10_000_000, OrderType.GTC, "mean_reversion", "r", 50.0
    )
    record = OrderRecord(1, old, OrderStatus.LIVE, 0, None, None, 50.0)
    killed = KillSwitchChanged(
        60.0, "tripped", 0.0, 10_000_000_000_000, 0, 10, 60.0, None, 0.0, "kill", "alice"
    )
    state = AccountState(10_000_000_000_000, (), (), (record,), 1, killed)
    parts = await _restored_core(tmp_path, state)
    core = parts.core  # type: ignore[attr-defined]
    ledger = core.ledger_for_test
    try:
        await ledger.start_run("paper", "t", "{}", 100_000.0, parts.starting_cash)  # type: ignore[attr-defined]
        core.start(2)
        core.on_markets([MARKET])
        core.on_frame(json.dumps(opening_books(1_000_001_000)), 100_001.0)
        core.clock.advance_to(100_001.0)
        core.on_timer()
        assert not core.outbox, "a replacement bypassed the latched kill switch"
        assert core.rejects["kill_switch"] == 1
    finally:
        await ledger.close()

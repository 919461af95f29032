"""The ledger on real SQLite files: writer -> file -> reader, migrations, failures."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from engine.config import TradingConfig
from engine.events import (
    BookUpdated,
    EngineEvent,
    EngineStateChanged,
    ErrorRaised,
    FeedSourceChanged,
    Filled,
    IntentRejected,
    KillSwitchChanged,
    MarketsLoaded,
    OrderSubmitted,
    OrderUpdated,
    PositionChanged,
    PositionClosed,
    PositionSettled,
    RunStarted,
    SignalRaised,
)
from engine.fixed import ONE
from engine.ledger.errors import LedgerError
from engine.ledger.reader import (
    AccountState,
    ErrorRecord,
    LedgerReader,
    MarketRecord,
    OrderEventRecord,
    OrderRecord,
    Recorded,
)
from engine.ledger.schema import SCHEMA_VERSION, create_v1, create_v2, create_v7
from engine.ledger.writer import SqliteLedger
from engine.market.fees import FeeSchedule
from engine.market.markets import MarketInfo, Outcome
from engine.orders import Fill, Liquidity, OrderRequest, OrderStatus, OrderType, Side
from engine.risk.kill_switch import KillSwitch
from tests.kit.ledgers import rows as table

T0 = 1_700_000_000.25
CASH = 1_000 * 10**10  # 1000 USDC in cash units
S = 10**6  # one share


def order(oid: str, at: float = T0, **changes: object) -> OrderRequest:
    fields: dict[str, object] = {
        "order_id": oid,
        "asset_id": "tok-yes",
        "market": "0xc",
        "side": Side.BUY,
        "price": 4_321,
        "size": 12_345_678,
        "order_type": OrderType.GTC,
        "strategy": "mean_reversion",
        "reason": "z below -2",
        "created_at": at,
    }
    fields.update(changes)
    return OrderRequest(**fields)  # type: ignore[arg-type]


def filled(oid: str, n: int, at: float = T0, **changes: object) -> Filled:
    fields: dict[str, object] = {
        "fill_id": f"{oid}#{n}",
        "order_id": oid,
        "asset_id": "tok-yes",
        "market": "0xc",
        "side": Side.BUY,
        "price": 4_321,
        "size": 1_000_001,
        "fee": 123_456_789_012_345,  # more than fits in a float's mantissa exactly
        "liquidity": Liquidity.TAKER,
        "at": at,
    }
    fields.update(changes)
    fill = Fill(**fields)  # type: ignore[arg-type]
    return Filled(at, fill, "mean_reversion", "z below -2")


async def new_ledger(path: Path, **options: object) -> tuple[SqliteLedger, int]:
    ledger = await SqliteLedger(path, **options).open()  # type: ignore[arg-type]
    run = await ledger.start_run("paper", "emulator", '{"k": 1}', T0, CASH)
    return ledger, run


# -- round trip ------------------------------------------------------------------------
async def test_every_event_kind_round_trips_with_exact_ints(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    ledger = await SqliteLedger(path).open()
    market = MarketInfo(
        "0xc",
        "Will it?",
        "will-it",
        (Outcome("tok-yes", "Yes"), Outcome("tok-no", "No")),
        fees=FeeSchedule(Decimal("0.25"), Decimal("2")),
        neg_risk=True,
    )
    ledger.record(MarketsLoaded(T0 - 5, (market,)))  # markets may come before the run
    run = await ledger.start_run("paper", "emulator", '{"k": 1}', T0, CASH)
    o = order("r1-1", post_only=True, expires_at=T0 + 60.5, is_exit=True)
    fill = filled("r1-1", 1, T0 + 1)
    position = PositionChanged(T0 + 1, "tok-yes", "0xc", 1_000_001, 4_321 * 1_000_001, -7, 7)
    exit_ = PositionClosed(
        T0 + 2, "tok-yes", "0xc", "mean_reversion", "take_profit", S, 4_321, 5_000, 679, 1
    )
    settled = PositionSettled(T0 + 3, "tok-yes", "0xc", 1, ONE, ONE * 1, ONE - 4_321)
    signal = SignalRaised(T0, "momentum", "tok-no", Side.SELL, 0.1 + 0.2, "breakout", True, "order")
    rejected = IntentRejected(T0, "tok-no", Side.SELL, "momentum", "max exposure", 5 * S, 2 * S)
    error = ErrorRaised(T0 + 4, "feed", "ws closed")
    seqs = [
        ledger.record(OrderSubmitted(T0, o)),
        ledger.record(OrderUpdated(T0 + 0.5, "r1-1", OrderStatus.LIVE, 0, o.size, None, "v-9")),
        ledger.record(fill),
        ledger.record(position),
        ledger.record(exit_),
        ledger.record(settled),
        ledger.record(signal),
        ledger.record(rejected),
        ledger.record(error),
    ]
    # Events with no table write nothing, but are numbered in line all the same.
    for transient in (
        BookUpdated(T0, "tok-yes", 3),
        FeedSourceChanged(T0, "ws_live", "rest_only", None),
        EngineStateChanged(T0, "running", "starting"),
        RunStarted(T0, run, "paper", "emulator", "{}"),
    ):
        seqs.append(ledger.record(transient))
    assert seqs == list(range(seqs[0], seqs[0] + 13))
    await ledger.end_run(run, '{"fills": 1}', T0 + 9)
    assert ledger.committed_seq == seqs[-1] + 1

    reader = LedgerReader(path)
    assert reader.fills() == [Recorded(run, fill)]
    assert reader.fills(run_id=run, asset_id="tok-yes") == [Recorded(run, fill)]
    assert reader.fills(asset_id="tok-no") == []
    assert reader.orders() == [
        OrderRecord(run, o, OrderStatus.LIVE, 0, "v-9", None, T0 + 0.5),
    ]
    assert reader.positions() == [position]
    assert reader.exits() == [Recorded(run, exit_)]
    assert reader.settlements() == [Recorded(run, settled)]
    assert reader.signals() == [Recorded(run, signal)]
    assert reader.risk_events(run_id=run) == [Recorded(run, rejected)]
    assert reader.errors() == [ErrorRecord(run, error)]
    assert reader.markets() == [
        MarketRecord(
            "0xc",
            "Will it?",
            "will-it",
            market.outcomes,
            Decimal("0.25"),
            Decimal("2"),
            True,
            T0 - 5,
        )
    ]
    (record,) = reader.runs()
    assert (record.id, record.started_at, record.ended_at) == (run, T0, T0 + 9)
    assert (record.mode, record.venue, record.config_json) == ("paper", "emulator", '{"k": 1}')
    assert record.summary_json == '{"fills": 1}'
    assert reader.run(run) == record
    assert reader.run(run + 1) is None
    await ledger.close()

    # Money is stored as SQLite integers, exactly the ints of the events.
    assert table(path, "SELECT typeof(price), price, size, fee FROM fills") == [
        ("integer", 4_321, 1_000_001, 123_456_789_012_345)
    ]
    assert table(path, "SELECT starting_cash, created_at FROM account") == [(CASH, T0)]
    assert table(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert table(path, "PRAGMA journal_mode") == [("wal",)]
    # Reopening migrates nothing and keeps what was recorded.
    again = await SqliteLedger(path).open()
    await again.close()
    assert LedgerReader(path).fills() == [Recorded(run, fill)]


async def test_records_need_a_run_and_a_known_kind(tmp_path: Path) -> None:
    ledger = await SqliteLedger(tmp_path / "l.sqlite").open()
    with pytest.raises(LedgerError, match="before start_run"):
        ledger.record(filled("r1-1", 1))
    with pytest.raises(LedgerError, match="KillSwitchChanged recorded before start_run"):
        ledger.record(KillSwitchChanged(T0, "armed", T0, CASH, 0, 1, None, None, 1.0, "x", "y"))
    ledger.record(PositionChanged(T0, "a", "m", 0, 0, 0, 0))  # no run needed

    class Unknown(ErrorRaised):
        pass

    with pytest.raises(TypeError, match="no table for Unknown"):
        ledger.record(Unknown(T0, "x", "y"))
    await ledger.close()
    with pytest.raises(LedgerError, match="not open"):
        ledger.record(PositionChanged(T0, "a", "m", 0, 0, 0, 0))
    await ledger.close()  # idempotent


# -- orders ----------------------------------------------------------------------------
async def test_order_ids_are_unique_across_runs(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    ledger, run1 = await new_ledger(path)
    for n in (1, 2):
        ledger.record(OrderSubmitted(T0, order(f"r{run1}-{n}")))
    await ledger.end_run(run1, "{}", T0 + 10)
    run2 = await ledger.start_run("paper", "emulator", "{}", T0 + 20, CASH * 5)
    for n in (1, 2):
        ledger.record(OrderSubmitted(T0 + 20, order(f"r{run2}-{n}", T0 + 20)))
    await ledger.close()
    reader = LedgerReader(path)
    assert [o.order.order_id for o in reader.orders(run_id=run1)] == ["r1-1", "r1-2"]
    assert [o.order.order_id for o in reader.orders(run_id=run2)] == ["r2-1", "r2-2"]
    assert len(reader.orders()) == 4
    state = reader.load_state()
    assert state.starting_cash == CASH  # the account keeps the cash it started with
    assert state.last_run_id == run2


async def test_order_lifecycle_updates_the_row_and_logs_each_transition(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    ledger, run = await new_ledger(path)
    o = order("r1-1", size=10 * S)
    reader = LedgerReader(path)
    ledger.record(OrderSubmitted(T0, o))
    await ledger.flush()
    assert reader.order("r1-1") == OrderRecord(run, o, OrderStatus.NEW, 0, None, None, T0)
    steps = [
        OrderUpdated(T0 + 1, "r1-1", OrderStatus.LIVE, 0, 10 * S, None, "0xvenue"),
        OrderUpdated(T0 + 2, "r1-1", OrderStatus.PARTIALLY_FILLED, 4 * S, 6 * S, "maker fill"),
        OrderUpdated(T0 + 3, "r1-1", OrderStatus.FILLED, 10 * S, 0),
    ]
    for step in steps:
        ledger.record(step)
        await ledger.flush()
        current = reader.order("r1-1")
        assert current is not None
        assert (current.status, current.filled) == (step.status, step.filled)
        assert (current.status_reason, current.updated_at) == (step.reason, step.at)
        assert current.venue_id == "0xvenue"  # learnt once, kept
        assert current.order == o
        assert bool(reader.orders(open_only=True)) == step.status.is_open
    assert reader.order_events("r1-1") == [
        OrderEventRecord("r1-1", T0, OrderStatus.NEW, 0, None),
        OrderEventRecord("r1-1", T0 + 1, OrderStatus.LIVE, 0, None),
        OrderEventRecord("r1-1", T0 + 2, OrderStatus.PARTIALLY_FILLED, 4 * S, "maker fill"),
        OrderEventRecord("r1-1", T0 + 3, OrderStatus.FILLED, 10 * S, None),
    ]
    # A submit and its updates in one batch land the same way.
    o2 = order("r1-2")
    ledger.record(OrderUpdated(T0 + 4, "r1-1", OrderStatus.FILLED, 10 * S, 0))
    ledger.record(OrderSubmitted(T0 + 4, o2))
    ledger.record(OrderUpdated(T0 + 5, "r1-2", OrderStatus.CANCELLED, 0, 0, "by us"))
    await ledger.close()
    assert reader.order("r1-2") == OrderRecord(
        run, o2, OrderStatus.CANCELLED, 0, None, "by us", T0 + 5
    )
    assert [e.status for e in reader.order_events("r1-2")] == ["new", "cancelled"]


# -- failures --------------------------------------------------------------------------
@pytest.mark.parametrize("autocommit", [False, True])
async def test_a_failed_batch_rolls_back_whole_and_stops_the_ledger(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, autocommit: bool
) -> None:
    path = tmp_path / "l.sqlite"
    ledger, run = await new_ledger(path, autocommit=autocommit)
    ledger.record(filled("r1-1", 1))
    ledger.record(filled("r1-1", 2))
    await ledger.flush()
    committed = ledger.committed_seq
    # One batch: an order (its statement runs before the fills), two good fills, then a
    # fill id used twice -- the UNIQUE constraint fails on the last row.
    ledger.record(OrderSubmitted(T0, order("r1-2")))
    ledger.record(filled("r1-2", 1))
    ledger.record(PositionChanged(T0, "tok-yes", "0xc", S, 1, 2, 3))
    ledger.record(filled("r1-1", 2))
    with caplog.at_level(logging.INFO, logger="engine.ledger"):
        with pytest.raises(LedgerError, match=r"stopped writing: UNIQUE constraint failed"):
            await ledger.flush()
        assert ledger.committed_seq == committed
        with pytest.raises(LedgerError, match=f"ledger {path} stopped writing"):
            ledger.record(filled("r1-3", 1))
        with pytest.raises(LedgerError, match="stopped writing"):
            await ledger.flush()
        with pytest.raises(LedgerError, match="stopped writing"):
            await ledger.start_run("paper", "emulator", "{}", T0, CASH)
        with pytest.raises(LedgerError, match="stopped writing"):
            await ledger.close()  # closes the file, and says events were lost
    assert [r.message for r in caplog.records].count(
        f"ledger {path} stopped writing: UNIQUE constraint failed: fills.fill_id"
    ) == 1
    assert len(caplog.records) == 1
    reader = LedgerReader(path)
    assert [f.event.fill.fill_id for f in reader.fills()] == ["r1-1#1", "r1-1#2"]
    assert reader.orders() == []
    assert reader.positions() == []
    # The file is closed and whole: a new writer carries on from the committed state.
    again = await SqliteLedger(path).open()
    await again.close()


async def test_failure_mid_run_from_outside_the_writer(tmp_path: Path) -> None:
    """A batch that fails half-way (a trigger stands in for a full disk) leaves nothing."""
    path = tmp_path / "l.sqlite"
    ledger, run = await new_ledger(path, autocommit=False)
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON fills WHEN NEW.fill_id = 'r1-9#1' "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    db.commit()
    db.close()
    for n in range(1, 10):
        ledger.record(OrderSubmitted(T0, order(f"r1-{n}")))
        ledger.record(filled(f"r1-{n}", 1))
    with pytest.raises(LedgerError, match="disk full"):
        await ledger.flush()
    with pytest.raises(LedgerError):
        await ledger.close()
    assert table(path, "SELECT count(*) FROM fills") == [(0,)]
    assert table(path, "SELECT count(*) FROM orders") == [(0,)]
    assert table(path, "SELECT count(*) FROM runs") == [(1,)]


# -- schema ----------------------------------------------------------------------------
def write_v1_ledger(path: Path) -> None:
    """A ledger as polyterm's schema-1 writer left it: TEXT money, ISO times."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    create_v1(db)
    db.execute(
        "INSERT INTO runs VALUES (1, '2023-11-14T22:13:20.250+00:00', "
        "'2023-11-14T22:14:00.000+00:00', 'paper', 'emulator', '{}', '{\"fills\": 2}')"
    )
    db.execute(
        "INSERT INTO markets VALUES ('0xc', 'Q?', 'q', '[[\"1\", \"Yes\"], [\"2\", \"No\"]]',"
        " '0.25', '2', '2023-11-14T22:13:20.000+00:00')"
    )
    db.execute(
        "INSERT INTO orders VALUES ('p1', 1, '2023-11-14T22:13:21.000+00:00', '1', '0xc',"
        " 'BUY', '0.5', '10', 'FAK', 'confirmed', '10', 'mean_reversion', 'z low', NULL)"
    )
    db.execute(
        "INSERT INTO order_events (order_id, at, status, detail) "
        "VALUES ('p1', '2023-11-14T22:13:21.500+00:00', 'confirmed', NULL)"
    )
    for at, size, fee in (("21.500", "4", "0.000078"), ("21.750", "6", "0.0000001234")):
        db.execute(
            "INSERT INTO fills (run_id, order_id, at, asset_id, market, side, price, size, fee,"
            " liquidity) VALUES (1, 'p1', ?, '1', '0xc', 'BUY', '0.5', ?, ?, 'taker')",
            (f"2023-11-14T22:13:{at}+00:00", size, fee),
        )
    db.commit()
    db.close()


async def test_v1_ledger_migrates_to_v2_with_exact_money(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite"
    write_v1_ledger(path)
    ledger = await SqliteLedger(path).open()
    reader = LedgerReader(path)
    t = 1_700_000_000.0  # 2023-11-14T22:13:20Z
    assert reader.fills() == [
        Recorded(
            1,
            Filled(
                t + 1.5,
                Fill(
                    "p1#1", "p1", "1", "0xc", Side.BUY, 5_000, 4 * S, 780_000,
                    Liquidity.TAKER, t + 1.5,
                ),
                "mean_reversion",
                "z low",
            ),
        ),
        Recorded(
            1,
            Filled(
                t + 1.75,
                Fill(
                    "p1#2", "p1", "1", "0xc", Side.BUY, 5_000, 6 * S, 1_234,
                    Liquidity.TAKER, t + 1.75,
                ),
                "mean_reversion",
                "z low",
            ),
        ),
    ]  # fmt: skip
    (o,) = reader.orders()
    assert (o.order.price, o.order.size, o.filled, o.status) == (5_000, 10 * S, 10 * S, "confirmed")
    assert (o.order.created_at, o.updated_at) == (t + 1, t + 1.5)
    assert reader.order_events("p1") == [
        OrderEventRecord("p1", t + 1.5, OrderStatus.CONFIRMED, 10 * S, None)
    ]
    (run,) = reader.runs()
    assert (run.started_at, run.ended_at, run.summary_json) == (t + 0.25, t + 40, '{"fills": 2}')
    (market,) = reader.markets()
    assert (market.fee_rate, market.neg_risk, market.updated_at) == (Decimal("0.25"), False, t)
    assert reader.load_state().starting_cash is None  # v1 never knew it
    assert table(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]  # v1 -> v2 -> v3 -> v4
    assert reader.kill_switch_history() == []
    # The migrated file has exactly the schema of a new one, and carries on.
    fresh = tmp_path / "fresh.sqlite"
    await (await SqliteLedger(fresh).open()).close()
    schema = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"
    assert table(path, schema) == table(fresh, schema)
    run2 = await ledger.start_run("paper", "emulator", "{}", t + 100, CASH)
    assert run2 == 2
    ledger.record(filled("r2-1", 1))
    await ledger.close()
    assert len(reader.fills()) == 3
    assert reader.load_state().starting_cash == CASH


async def test_refuses_newer_schema_junk_and_foreign_databases(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite"
    db = sqlite3.connect(newer)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(LedgerError, match="newer polyterm") as info:
        await SqliteLedger(newer).open()
    assert str(newer) in str(info.value)
    assert "\n" not in str(info.value)
    with pytest.raises(LedgerError, match="newer polyterm"):
        LedgerReader(newer).runs()
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerError, match="--ledger") as info:
        await SqliteLedger(junk).open()
    assert str(junk) in str(info.value)
    with pytest.raises(LedgerError, match="--ledger"):
        LedgerReader(junk).runs()
    foreign = tmp_path / "foreign.sqlite"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE runs (x)")
    db.close()
    with pytest.raises(LedgerError, match="not a polyterm ledger"):
        await SqliteLedger(foreign).open()
    assert table(foreign, "SELECT name FROM sqlite_master") == [("runs",)]  # untouched
    v1 = tmp_path / "v1.sqlite"
    write_v1_ledger(v1)
    with pytest.raises(LedgerError, match="run polyterm on it once"):
        LedgerReader(v1).fills()  # the reader never migrates
    broken = tmp_path / "broken-v1.sqlite"
    write_v1_ledger(broken)
    db = sqlite3.connect(broken)
    db.execute("UPDATE fills SET fee = '0.00000000001' WHERE id = 2")  # finer than 1e-10
    db.commit()
    db.close()
    with pytest.raises(LedgerError, match="cannot migrate ledger .*more than 10 decimal"):
        await SqliteLedger(broken).open()
    assert table(broken, "PRAGMA user_version") == [(1,)]  # rolled back, still whole
    assert table(broken, "SELECT fee FROM fills ORDER BY id") == [("0.000078",), ("0.00000000001",)]
    with pytest.raises(LedgerError, match="no ledger at"):
        LedgerReader(tmp_path / "missing.sqlite").runs()
    assert not (tmp_path / "missing.sqlite").exists()


def write_v2_ledger(path: Path) -> None:
    """A ledger as polyterm's schema-2 writer left it: a run, a fill, a position."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    create_v2(db)
    db.execute("INSERT INTO account VALUES (1, ?, ?)", (CASH, T0))
    db.execute("INSERT INTO runs VALUES (1, ?, ?, 'paper', 'emulator', '{}', NULL)", (T0, T0 + 9))
    db.execute(
        "INSERT INTO fills (fill_id, run_id, order_id, at, asset_id, market, side, price, size,"
        " fee, liquidity, strategy, reason) VALUES ('r1-1#1', 1, 'r1-1', ?, 'tok-yes', '0xc',"
        " 'BUY', 4321, 1000001, 123456789012345, 'taker', 'mean_reversion', 'z below -2')",
        (T0,),
    )
    db.execute(
        "INSERT INTO positions VALUES ('tok-yes', '0xc', 1000001, 4321000004321, -7, 7, ?)",
        (T0,),
    )
    db.commit()
    db.close()


async def test_v2_ledger_migrates_to_the_current_schema(tmp_path: Path) -> None:
    """v2 -> v3 (the kill_switch table) -> v4 (fill and exit telemetry columns, NULL for
    rows that were never measured)."""
    path = tmp_path / "v2.sqlite"
    write_v2_ledger(path)
    assert table(path, "PRAGMA user_version") == [(2,)]
    ledger = await SqliteLedger(path).open()
    assert table(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert table(path, "SELECT decision_mid, slippage_bps FROM fills") == [(None, None)]
    reader = LedgerReader(path)
    assert reader.fills() == [Recorded(1, filled("r1-1", 1))]  # kept as it was
    assert reader.positions() == [
        PositionChanged(T0, "tok-yes", "0xc", 1_000_001, 4_321_000_004_321, -7, 7)
    ]
    assert reader.kill_switch_history() == []
    assert reader.latest_kill_switch() is None
    state = reader.load_state()
    assert (state.starting_cash, state.last_run_id, state.kill_switch) == (CASH, 1, None)
    # The migrated file has exactly the schema of a new one, and carries on.
    fresh = tmp_path / "fresh.sqlite"
    await (await SqliteLedger(fresh).open()).close()
    schema = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"
    assert table(path, schema) == table(fresh, schema)
    run = await ledger.start_run("paper", "emulator", "{}", T0 + 100, CASH)
    assert run == 2
    event = KillSwitchChanged(
        T0 + 101, "armed", T0, CASH, 0, CASH // 20, None, None, 1.0, "start", "engine"
    )
    ledger.record(event)
    await ledger.close()
    assert reader.kill_switch_history() == [Recorded(2, event)]
    # Reopening a v3 file migrates nothing.
    await (await SqliteLedger(path).open()).close()
    assert reader.latest_kill_switch() == event


async def test_kill_switch_moves_round_trip_and_restore_the_switch(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    ledger, run1 = await new_ledger(path)
    cfg = TradingConfig(daily_loss_limit_pct=5.0, flatten_on_trip=True)
    switch = KillSwitch(cfg)
    day = 1_700_006_400.0  # a UTC midnight
    moves: list[KillSwitchChanged] = []
    for equity, at in ((CASH, day + 60), (CASH - CASH // 20, day + 120), (CASH, day + 130)):
        moves.extend(switch.update(equity, at))
    moves.append(switch.kill(day + 140.5, "alice"))
    for move in moves:
        ledger.record(move)
    await ledger.end_run(run1, "{}", day + 150)
    run2 = await ledger.start_run("paper", "emulator", "{}", day + 200, CASH)
    moves2 = [*switch.update(CASH - 1, day + 86_400 + 1), switch.reset(day + 86_402, "bob", CASH)]
    for move in moves2:
        ledger.record(move)
    await ledger.close()
    assert [(m.state, m.reason, m.who) for m in moves + moves2] == [
        ("armed", "start", "engine"),
        ("tripped", "trip", "engine"),
        ("cooldown", "cooldown", "engine"),
        ("tripped", "kill", "alice"),
        ("tripped", "new day", "alice"),
        ("armed", "reset", "bob"),
    ]

    reader = LedgerReader(path)
    history = reader.kill_switch_history()
    assert history == [Recorded(run1, m) for m in moves] + [Recorded(run2, m) for m in moves2]
    assert reader.kill_switch_history(run_id=run2) == [Recorded(run2, m) for m in moves2]
    assert reader.latest_kill_switch() == moves2[-1]
    assert reader.load_state().kill_switch == moves2[-1]
    # Exact ints for money, NULL for the times not set, REAL for the scale.
    assert table(
        path,
        "SELECT typeof(baseline), typeof(loss), typeof(loss_limit), tripped_at, cooldown_until,"
        " recovery_scale FROM kill_switch WHERE reason = 'trip'",
    ) == [("integer", "integer", "integer", day + 120, day + 120 + 3600, 0.0)]
    # A restart from any recorded row continues as the live switch did.
    for recorded in history:
        restored = KillSwitch(cfg, restored=recorded.event)
        at = recorded.event.at
        expected = recorded.event
        view = restored.view(at)
        assert (view.state, view.baseline, view.loss, view.limit) == (
            expected.state,
            expected.baseline,
            expected.loss,
            expected.limit,
        )
        assert (view.tripped_at, view.cooldown_until, view.day_start) == (
            expected.tripped_at,
            expected.cooldown_until,
            expected.day_start,
        )
        assert view.recovery_scale == expected.recovery_scale
    killed = KillSwitch(cfg, restored=history[4].event)
    assert killed.view(day + 86_401).killed_by == "alice"
    assert not killed.allows_entries(day + 86_401)


# -- determinism and durability ----------------------------------------------------------
def tape_events(run: int) -> list[list[EngineEvent]]:
    """Events in flush groups, as a backtest would record them."""
    groups: list[list[EngineEvent]] = []
    for g in range(4):
        events: list[EngineEvent] = []
        for n in range(25):
            oid = f"r{run}-{g * 25 + n}"
            at = T0 + g * 60 + n * 0.125
            events.append(OrderSubmitted(at, order(oid, at)))
            events.append(filled(oid, 1, at, size=S + n))
            events.append(OrderUpdated(at, oid, OrderStatus.FILLED, S + n, 0))
            events.append(PositionChanged(at, "tok-yes", "0xc", n * S, n * 4_321 * S, -n, n))
            events.append(
                SignalRaised(at, "momentum", "tok-yes", Side.BUY, n / 7, "x", False, "order")
            )
        groups.append(events)
    return groups


async def write_backtest(path: Path) -> None:
    ledger = await SqliteLedger(path, autocommit=False, batch_max=7).open()
    ledger.record(MarketsLoaded(T0, (MarketInfo("0xc", "Q?", "q", (Outcome("tok-yes", "Y"),)),)))
    run = await ledger.start_run("backtest", "tape", "{}", T0, CASH)
    for group in tape_events(run):
        for event in group:
            ledger.record(event)
        await ledger.flush()
    ledger.record(filled(f"r{run}-last", 1))
    await ledger.end_run(run, '{"done": true}', T0 + 999)
    await ledger.close()


async def test_backtests_of_one_tape_write_byte_identical_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    await write_backtest(a)
    await write_backtest(b)
    wal = a.with_name(a.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # everything is in the main file
    assert a.read_bytes() == b.read_bytes()
    assert len(LedgerReader(a).fills()) == 101


async def test_nothing_is_written_before_flush_without_autocommit(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    ledger, run = await new_ledger(path, autocommit=False, batch_max=3)
    commits: list[int] = []
    ledger.add_commit_listener(commits.append)
    seqs = [ledger.record(filled("r1-1", n)) for n in range(1, 9)]
    await asyncio.sleep(0.05)
    assert LedgerReader(path).fills() == []
    assert ledger.committed_seq == 0
    await ledger.flush()
    assert commits == [seqs[2], seqs[5], seqs[7]]  # chunks of batch_max
    assert len(LedgerReader(path).fills()) == 8
    await ledger.close()


async def test_commit_listener_fires_only_once_the_data_is_readable(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    ledger, run = await new_ledger(path)
    reader = LedgerReader(path)
    recorded: dict[int, str] = {}
    seen: list[tuple[int, int]] = []

    missing: list[set[str]] = []

    def on_commit(seq: int) -> None:
        # A listener's exception is logged, not raised: collect, assert afterwards.
        visible = {f.event.fill.fill_id for f in reader.fills()}
        missing.append({fid for s, fid in recorded.items() if s <= seq} - visible)
        seen.append((seq, ledger.committed_seq))

    ledger.add_commit_listener(on_commit)
    for n in range(1, 301):
        event = filled("r1-1", n)
        recorded[ledger.record(event)] = event.fill.fill_id
        if n % 7 == 0:
            await asyncio.sleep(0)
    await ledger.flush()
    assert len(seen) > 1
    assert all(seq == committed for seq, committed in seen)
    assert [s for s, _ in seen] == sorted({s for s, _ in seen})
    assert seen[-1][0] == max(recorded)
    assert missing == [set()] * len(seen)
    await ledger.close()


async def test_reader_reads_while_the_writer_writes(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    ledger = await SqliteLedger(path).open()
    reader = LedgerReader(path)
    fresh = await asyncio.to_thread(reader.load_state)
    assert fresh == AccountState(None, (), (), (), None)
    run = await ledger.start_run("paper", "emulator", "{}", T0, CASH)
    buy = filled("r1-1", 1, T0 + 1)
    sell = filled("r1-2", 1, T0 + 2, side=Side.SELL, size=400_000)
    settle = PositionSettled(T0 + 2, "tok-yes", "0xc", 600_001, ONE, ONE * 600_001, 1)
    working = order("r1-3", T0 + 3, side=Side.SELL, order_type=OrderType.GTD, expires_at=T0 + 90)
    done = order("r1-4", T0 + 3)
    for event in (
        OrderSubmitted(T0, order("r1-1")),
        OrderUpdated(T0 + 1, "r1-1", OrderStatus.FILLED, buy.fill.size, 0),
        buy,
        settle,  # same instant as the sell below, recorded first
        sell,
        OrderSubmitted(T0 + 3, working),
        OrderUpdated(T0 + 4, "r1-3", OrderStatus.PARTIALLY_FILLED, 2 * S, 3 * S, None, "v1"),
        OrderSubmitted(T0 + 3, done),
        OrderUpdated(T0 + 4, "r1-4", OrderStatus.CANCELLED, 0, 0, "by us"),
    ):
        ledger.record(event)
    await ledger.flush()
    state = await asyncio.to_thread(reader.load_state)  # the writer is still open
    assert state.starting_cash == CASH
    assert state.last_run_id == run
    assert state.fills == (buy.fill, sell.fill)
    assert state.settlements == (settle,)
    assert state.open_orders == (
        OrderRecord(run, working, OrderStatus.PARTIALLY_FILLED, 2 * S, "v1", None, T0 + 4),
    )
    assert state.history() == (buy.fill, sell.fill, settle)  # fills first at one instant
    assert [f.event.fill for f in reader.fills(limit=1)] == [sell.fill]
    await ledger.close()


async def test_close_is_idempotent_and_keeps_the_callers_cancellation(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    never_opened = SqliteLedger(tmp_path / "never.sqlite")
    await never_opened.close()
    ledger, run = await new_ledger(path)
    for n in range(1, 2001):
        ledger.record(filled("r1-1", n))
    closing = asyncio.create_task(ledger.close())
    await asyncio.sleep(0)
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    await ledger.close()  # waits for the close that carried on in the background
    await ledger.close()
    assert table(path, "SELECT count(*) FROM fills") == [(2000,)]
    with pytest.raises(LedgerError, match="not open"):
        ledger.record(filled("r1-2", 1))


@pytest.mark.parametrize("autocommit", [False, True])
async def test_a_cancelled_flush_does_not_lose_its_batch(tmp_path: Path, autocommit: bool) -> None:
    path = tmp_path / "l.sqlite"
    ledger, run = await new_ledger(path, autocommit=autocommit, batch_max=500)
    commits: list[int] = []
    ledger.add_commit_listener(commits.append)
    last = 0
    for n in range(1, 3001):
        last = ledger.record(filled("r1-1", n))
    flushing = asyncio.create_task(ledger.flush())
    await asyncio.sleep(0)
    flushing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await flushing
    await ledger.flush()
    assert ledger.committed_seq == last == commits[-1]
    assert len(LedgerReader(path).fills()) == 3000
    await ledger.close()


@pytest.mark.parametrize("autocommit", [False, True])
async def test_events_without_a_table_are_durable_once_those_before_them_are(
    tmp_path: Path, autocommit: bool
) -> None:
    ledger, run = await new_ledger(tmp_path / "l.sqlite", autocommit=autocommit)
    told: list[int] = []
    ledger.add_commit_listener(told.append)
    # Nothing in flight: reported at once, on the loop's next turn.
    idle = ledger.record(FeedSourceChanged(T0, "ws_stale", "ws_live", "silence"))
    assert ledger.committed_seq == idle
    await asyncio.sleep(0)
    assert told == [idle]
    # Behind a fill: durable with it, never before it.
    fill = ledger.record(filled("r1-1", 1))
    state = ledger.record(EngineStateChanged(T0, "paused", "running"))
    assert ledger.committed_seq == idle
    await ledger.flush()
    assert ledger.committed_seq == state
    assert told == [idle, state]
    assert fill < state
    # Behind a batch already on its way to the disk (autocommit: the writer took it).
    ledger.record(filled("r1-1", 2))
    await asyncio.sleep(0)
    book = ledger.record(BookUpdated(T0, "tok-yes", 9))
    await ledger.flush()
    assert told[-1] == ledger.committed_seq == book
    assert len(LedgerReader(tmp_path / "l.sqlite").fills()) == 2
    await ledger.close()


async def test_v5_exits_get_their_reason_ids_when_migrated(tmp_path: Path) -> None:
    """Schema 6 records each exit's reason id; rows written before it are classified from
    their text (a rule's name, a command's word, a basket's prefix, else the strategy's)."""
    import sqlite3

    from engine.ledger.schema import create_v5

    path = tmp_path / "v5.sqlite"
    conn = sqlite3.connect(path)
    create_v5(conn)
    conn.execute(
        "INSERT INTO runs (id, started_at, mode, venue, config_json)"
        " VALUES (1, 0, 'paper', 't', '{}')"
    )
    for reason in ("stop_loss", "kill switch trip", "basket b1-2: repair", "reverted to mean"):
        conn.execute(
            "INSERT INTO exits (run_id, at, asset_id, market, strategy, reason, shares,"
            " entry_price, exit_price, realized, fee)"
            " VALUES (1, 0, 'Y', 'm', 's', ?, 1, 1, 1, 0, 0)",
            (reason,),
        )
    conn.commit()
    conn.close()
    await (await SqliteLedger(path).open()).close()
    assert table(path, "SELECT kind FROM exits ORDER BY id") == [
        ("stop_loss",),
        ("kill_switch",),
        ("basket",),
        ("signal",),
    ]
    kinds = [x.event.kind for x in LedgerReader(path).exits()]
    assert [str(k) for k in kinds] == ["stop_loss", "kill_switch", "basket", "signal"]
    assert table(path, "SELECT count(*) FROM fill_reversals") == [(0,)]


async def test_v7_rows_each_stand_for_one_record_after_the_migration(tmp_path: Path) -> None:
    """v7 -> v8: signal and refusal rows gain `repeats` (engine.repeats); rows written
    before it were one a record, so they stand for one."""
    path = tmp_path / "v7.sqlite"
    db = sqlite3.connect(path)
    create_v7(db)
    db.execute("INSERT INTO runs VALUES (1, ?, ?, 'paper', 'emulator', '{}', NULL)", (T0, T0 + 9))
    db.execute(
        "INSERT INTO risk_events (run_id, at, asset_id, side, strategy, reason, wanted, approved)"
        " VALUES (1, ?, 'tok', 'BUY', 's1', 'order_rate_limit: global: 30/30 in 60s', 5, 0)",
        (T0,),
    )
    db.execute(
        "INSERT INTO signals (run_id, at, strategy, asset_id, side, strength, reason, is_exit,"
        " decision) VALUES (1, ?, 's1', 'tok', 'BUY', 1.0, 'z', 0, 'refused: x: y')",
        (T0,),
    )
    db.commit()
    db.close()
    ledger = await SqliteLedger(path).open()
    await ledger.close()
    assert table(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)] == [(8,)]
    reader = LedgerReader(path)
    assert [r.event.repeats for r in reader.risk_events()] == [1]
    assert [r.event.repeats for r in reader.signals()] == [1]

"""Ledgers for tests: a small hand-made one written through the real writer (the golden
figures are worked out by hand beside it), one from an offline backtest of an emulator
tape whose markets then resolve, and reading any ledger's rows with SQL."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.events import (
    Filled,
    IntentRejected,
    MarketsLoaded,
    OrderSubmitted,
    OrderUpdated,
    PositionClosed,
    PositionSettled,
    ShadowRecorded,
)
from engine.exit_reasons import classify
from engine.fixed import ONE
from engine.ledger.writer import SqliteLedger
from engine.market.markets import MarketInfo, Outcome
from engine.orders import Fill, Liquidity, OrderRequest, OrderStatus, OrderType, Side


def rows(path: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """What `sql` (with `args`) selects from the ledger at `path`, on a connection of its
    own (closed again)."""
    db = sqlite3.connect(path)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


USDC = 10**10  # cash units per USDC
SHARE = 10**6


def t(day: int, hour: int, minute: int = 0) -> float:
    """Unix seconds of 2026-01-<day> <hour>:<minute> UTC."""
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC).timestamp()


def price(cents: int) -> int:
    return cents * ONE // 100


M1 = MarketInfo("0xm1", "Will it rain?", "rain", (Outcome("A", "Yes"), Outcome("B", "No")))
M2 = MarketInfo("0xm2", "Will it snow?", "snow", (Outcome("C", "Yes"), Outcome("D", "No")))

RUN_START = t(1, 0)
RUN_END = t(3, 12)


async def _golden(path: Path) -> None:
    ledger = await SqliteLedger(path, autocommit=False).open()
    run = await ledger.start_run("paper", "golden", json.dumps({"k": 1}), RUN_START, 1000 * USDC)
    ledger.record(MarketsLoaded(RUN_START, (M1, M2)))
    n = 0

    def fill(
        at: float,
        asset: str,
        market: str,
        side: Side,
        cents: int,
        shares: int,
        fee: int,
        strategy: str,
    ) -> None:
        nonlocal n
        n += 1
        f = Fill(
            f"f{n}",
            f"o{n}",
            asset,
            market,
            side,
            price(cents),
            shares * SHARE,
            fee,
            Liquidity.TAKER,
            at,
        )
        ledger.record(Filled(at, f, strategy, "why", price(cents), 0.0))

    def close(
        at: float,
        asset: str,
        market: str,
        strategy: str,
        reason: str,
        shares: int,
        entry: int,
        exit_: int,
        pnl_usdc: int,
        holding: float,
    ) -> None:
        ledger.record(
            PositionClosed(
                at,
                asset,
                market,
                strategy,
                reason,
                shares * SHARE,
                price(entry),
                price(exit_),
                pnl_usdc * USDC,
                0,
                holding,
                price(1),
                price(2),
                None,
                kind=classify(reason),  # the engine records the id beside the text
            )
        )

    # Day 1: a win (entry fee 2 USDC) and a loss.
    fill(t(1, 9), "A", "0xm1", Side.BUY, 40, 100, 2 * USDC, "s1")
    fill(t(1, 10), "A", "0xm1", Side.SELL, 60, 100, 0, "s1")
    close(t(1, 10), "A", "0xm1", "s1", "take_profit", 100, 40, 60, 20, 3600.0)
    fill(t(1, 11), "B", "0xm1", Side.BUY, 50, 100, 0, "s1")
    fill(t(1, 12), "B", "0xm1", Side.SELL, 40, 100, 0, "s1")
    close(t(1, 12), "B", "0xm1", "s1", "stop_loss", 100, 50, 40, -10, 3600.0)
    # Day 2: both sides of M2 bought at 60c; C wins at settlement (no holding time, as
    # the engine records settlement rows).
    fill(t(2, 8), "C", "0xm2", Side.BUY, 60, 100, 0, "s2")
    fill(t(2, 9), "D", "0xm2", Side.BUY, 60, 50, 0, "s2")
    for asset, shares, payout, pnl in (("C", 100, ONE, 40), ("D", 50, 0, -30)):
        ledger.record(
            PositionSettled(
                t(2, 10), asset, "0xm2", shares * SHARE, payout, payout * shares * SHARE, pnl * USDC
            )
        )
        close(
            t(2, 10), asset, "0xm2", "s2", "settlement", shares, 60, payout * 100 // ONE, pnl, 0.0
        )
    # Day 3: a loss.
    fill(t(3, 9), "A", "0xm1", Side.BUY, 50, 100, 0, "s1")
    fill(t(3, 10), "A", "0xm1", Side.SELL, 45, 100, 0, "s1")
    close(t(3, 10), "A", "0xm1", "s1", "stop_loss", 100, 50, 45, -5, 3600.0)
    # Refused entries (two rate-limit texts count as one reason) and a resize.
    for reason, approved in (
        ("order_rate_limit: global: 30/30 in 60s", 0),
        ("order_rate_limit: global: 31/30 in 60s", 0),
        ("position below the market's minimum order size (dust)", 0),
        ("resized: max position -> 5", 5 * SHARE),
    ):
        ledger.record(IntentRejected(t(1, 13), "A", Side.BUY, "s1", reason, 10 * SHARE, approved))
    summary = {"equity": "1013", "unrealized_pnl": "0", "fees": "2", "fills": 8, "state": "stopped"}
    await ledger.end_run(run, json.dumps(summary), RUN_END)
    await ledger.close()


def golden_ledger(path: Path) -> Path:
    """The hand-made ledger (see tests/polyterm/reports/test_golden.py for its figures)."""
    asyncio.run(_golden(path))
    return path


async def _drift(path: Path) -> None:
    """A live run's orders beside their paper shadow (figures in test_drift.py)."""
    ledger = await SqliteLedger(path, autocommit=False).open()
    await ledger.start_run("live", "polymarket", json.dumps({"k": 1}), RUN_START, 1000 * USDC)
    ledger.record(MarketsLoaded(RUN_START, (M1,)))

    def order(oid: str, at: float, asset: str, side: Side, cents: int, shares: int) -> None:
        request = OrderRequest(
            oid, asset, "0xm1", side, price(cents), shares * SHARE, OrderType.GTC, "s1", "why", at
        )
        ledger.record(OrderSubmitted(at, request))

    def venue(oid: str, n: int, at: float, side: Side, cents: int, shares: int, fee: int) -> None:
        f = Fill(
            f"{oid}#{n}", oid, "A", "0xm1", side, price(cents), shares * SHARE, fee,
            Liquidity.TAKER, at,
        )  # fmt: skip
        ledger.record(Filled(at, f, "s1", "why", price(cents), 0.0))

    def shadow(oid: str, at: float, cents: int, shares: int) -> None:
        ledger.record(
            ShadowRecorded(
                at, oid, "filled", shares * SHARE, f"paper-{oid}", price(cents), shares * SHARE,
                0, "taker",
            )
        )  # fmt: skip

    s = 1.0  # a second
    # L1 buys 100 @ <= 55c: the venue 60 @ 50c (+10 s, fee 1) and 40 @ 55c (+30 s), the
    # paper model all 100 @ 50c (+2 s).
    order("L1", t(1, 9), "A", Side.BUY, 55, 100)
    ledger.record(ShadowRecorded(t(1, 9), "L1", "live", 0))
    venue("L1", 1, t(1, 9) + 10 * s, Side.BUY, 50, 60, USDC)
    venue("L1", 2, t(1, 9) + 30 * s, Side.BUY, 55, 40, 0)
    shadow("L1", t(1, 9) + 2 * s, 50, 100)
    # L2 sells 100 @ >= 60c: the venue 100 @ 61c (+5 s), the paper model 100 @ 60c (+1 s).
    order("L2", t(1, 10), "A", Side.SELL, 60, 100)
    venue("L2", 1, t(1, 10) + 5 * s, Side.SELL, 61, 100, 0)
    shadow("L2", t(1, 10) + 1 * s, 60, 100)
    # L3: the venue filled nothing (cancelled); the paper model 50 @ 40c (+3 s).
    order("L3", t(1, 11), "A", Side.BUY, 40, 50)
    ledger.record(OrderUpdated(t(1, 11) + 60 * s, "L3", OrderStatus.CANCELLED, 0, 0))
    shadow("L3", t(1, 11) + 3 * s, 40, 50)
    # L4: the venue 20 @ 40c (+4 s); the paper model nothing.
    order("L4", t(1, 12), "A", Side.BUY, 40, 20)
    venue("L4", 1, t(1, 12) + 4 * s, Side.BUY, 40, 20, 0)
    ledger.record(ShadowRecorded(t(1, 12), "L4", "live", 0))
    # An order with no shadow (adopted after a restart, say) is not compared.
    order("L5", t(1, 13), "A", Side.BUY, 40, 10)
    await ledger.close()


def drift_ledger(path: Path) -> Path:
    """A live run whose four orders the paper model shadowed (and one it did not)."""
    asyncio.run(_drift(path))
    return path


async def _empty(path: Path) -> None:
    ledger = await SqliteLedger(path, autocommit=False).open()
    await ledger.close()


def empty_ledger(path: Path) -> Path:
    """A new ledger: the schema, no run."""
    asyncio.run(_empty(path))
    return path


def resolve_at_end(tape: Path, out: Path) -> Path:
    """`tape` (plain JSONL) with every market it lists resolved one second after its last
    record, its first outcome winning, as the venue's ``market_resolved`` frames."""
    lines = tape.read_text().splitlines()
    last = max(json.loads(line)["t"] for line in lines if line.strip())
    markets = next(json.loads(line)["markets"] for line in lines if '"markets"' in line)
    events = []
    for m in markets:
        tokens = [o[0] if isinstance(o, list) else o["token_id"] for o in m.get("outcomes", [])]
        if not tokens:
            continue
        events.append(
            {
                "event_type": "market_resolved",
                "market": m["condition_id"],
                "winning_asset_id": tokens[0],
                "assets_ids": tokens,
                "timestamp": str(int(last * 1000)),
            }
        )
    frame = json.dumps(events)
    out.write_text(
        "\n".join([*lines, json.dumps({"t": last + 1, "src": "ws", "frame": frame})]) + "\n"
    )
    return out


OFFLINE_ENV = {
    # A short window and a low bar, so a two-minute tape trades (as the backtest CLI test).
    "STRATEGIES_MEAN_REVERSION_WINDOW": "8",
    "STRATEGIES_MEAN_REVERSION_ENTRY_Z": "1.0",
    "STRATEGY_ENTRY_COOLDOWN_S": "1",
}


def offline_ledger(folder: Path, seconds: float = 180, markets: int = 5) -> Path:
    """A backtest ledger of an emulator tape (`polyterm exchange --export-tape`, in
    process) whose markets all resolve at its end: fills, exits, settlements."""
    from polyterm.emulator.export import export_tape
    from polyterm.faces.backtest import BacktestOptions, run_backtest
    from polyterm.settings.config import load_config

    tape = folder / "offline.jsonl"
    export_tape(tape, seed=7, markets=markets, duration_s=seconds)
    resolved = resolve_at_end(tape, folder / "offline-resolved.jsonl")
    ledger = folder / "offline.sqlite"
    app = load_config(None, env=OFFLINE_ENV)
    options = BacktestOptions(tapes=(resolved,), ledger=ledger, json_summary=True, progress=False)
    out = io.StringIO()
    code = asyncio.run(run_backtest(app, options, out))
    assert code == 0, out.getvalue()
    return ledger

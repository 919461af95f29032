"""Risk rules in whole runs against the emulator: the kill switch, order-rate caps, the
feed policy through a WebSocket stall, and flatten during a 429 storm."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from engine.clock import SystemClock
from engine.config import EngineConfig
from engine.ledger.writer import SqliteLedger
from engine.orders import Side
from engine.runtime.kernel import build_engine
from engine.runtime.live import LiveRunner
from engine.strategies.base import MarketContext, Signal
from polyterm.emulator.server import ExchangeEmulator
from tests.kit.feed import FAST_HOT, fast_feed_config
from tests.kit.process import environ, run

pytestmark = pytest.mark.integration

EAGER = {
    # Mean reversion alone: these runs test risk and restarts, not the other strategies.
    "STRATEGIES_MOMENTUM_SCALPING_ENABLED": "false",
    "STRATEGIES_EVENT_DRIVEN_ENABLED": "false",
    "STRATEGIES_MICRO_ARBITRAGE_ENABLED": "false",
    "STRATEGIES_CROSS_MARKET_ARBITRAGE_ENABLED": "false",
    "STRATEGIES_MEAN_REVERSION_WINDOW": "6",
    "STRATEGIES_MEAN_REVERSION_ENTRY_Z": "0.8",
    "STRATEGIES_MEAN_REVERSION_SAMPLE_INTERVAL_S": "0.1",
    "STRATEGY_ENTRY_COOLDOWN_S": "0.3",
}


ONLY_MEAN_REVERSION = {
    name: {"enabled": False}
    for name in (
        "momentum_scalping",
        "event_driven",
        "micro_arbitrage",
        "cross_market_arbitrage",
    )
}


async def until(predicate: Callable[[], bool], timeout_s: float) -> None:
    """Poll `predicate` every 0.1 s until it holds (or fail after `timeout_s`)."""
    async with asyncio.timeout(timeout_s):
        for _ in range(int(timeout_s * 10) + 1):
            if predicate():
                return
            await asyncio.sleep(0.1)
    raise AssertionError(f"not true within {timeout_s}s")


def entries(ledger: Path, run_id: int) -> list[float]:
    db = sqlite3.connect(ledger)
    try:
        rows = db.execute(
            "SELECT created_at FROM orders WHERE run_id = ? AND is_exit = 0 ORDER BY created_at",
            (run_id,),
        ).fetchall()
    finally:
        db.close()
    return [r[0] for r in rows]


def test_a_tiny_daily_loss_limit_trips_and_a_restart_stays_tripped(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    status = tmp_path / "status.json"
    env = {**EAGER, "TRADING_DAILY_LOSS_LIMIT_PCT": "0.001"}  # 1 cent of 1000 USDC
    first = run(
        ["--offline", "--no-ui", "--json", "--duration", "15", "--ledger", str(ledger)]
        + ["--status-file", str(status)],
        tmp_path,
        **env,
    )
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    ks = summary["kill_switch"]
    assert ks["state"] in ("tripped", "cooldown"), ks
    assert ks["baseline"] == "1000"
    assert ks["limit"] == "0.01"
    assert float(ks["loss"]) >= 0.01
    assert ks["tripped_at"] is not None
    assert ks["cooldown_until"] == pytest.approx(ks["tripped_at"] + 3600, abs=1)
    for key in ("state", "baseline", "loss", "limit", "tripped_at", "cooldown_until"):
        assert key in json.loads(status.read_text())["kill_switch"]
    tripped_at = ks["tripped_at"]
    placed = entries(ledger, 1)
    assert placed
    assert all(t <= tripped_at + 0.5 for t in placed), "an entry after the trip"
    db = sqlite3.connect(ledger)
    assert db.execute("SELECT count(*) FROM kill_switch WHERE state = 'tripped'").fetchone()[0]
    db.close()

    second = run(
        ["--offline", "--no-ui", "--json", "--duration", "6", "--ledger", str(ledger)],
        tmp_path,
        **env,
    )
    assert second.returncode == 0, second.stderr
    again = json.loads(second.stdout.strip().splitlines()[-1])
    assert again["kill_switch"]["state"] in ("tripped", "cooldown")
    assert again["kill_switch"]["tripped_at"] == tripped_at
    assert entries(ledger, 2) == [], "a restarted, tripped engine placed an entry"


def test_a_global_cap_of_two_orders_per_window_holds(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    result = run(
        ["--offline", "--no-ui", "--json", "--duration", "12", "--ledger", str(ledger)],
        tmp_path,
        **EAGER,
        TRADING_ORDER_FREQUENCY_MAX_ORDERS="2",
        TRADING_ORDER_FREQUENCY_INTERVAL_SECONDS="4",
    )
    assert result.returncode == 0, result.stderr
    placed = entries(ledger, 1)
    assert len(placed) >= 2
    for i, t in enumerate(placed):
        in_window = [u for u in placed[i:] if u < t + 4]
        assert len(in_window) <= 2, placed
    db = sqlite3.connect(ledger)
    refused = db.execute(
        "SELECT sum(repeats) FROM risk_events WHERE reason LIKE 'order_rate_limit%'"
    ).fetchone()[0]
    db.close()
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert refused == summary["reject_reasons"].get("order_rate_limit", 0) > 0


async def _engine(emulator: ExchangeEmulator, tmp_path: Path, **strategy: object) -> LiveRunner:
    from engine.adapters.polymarket.feed import PolymarketFeed

    assert emulator.urls is not None
    config = EngineConfig.model_validate(
        {
            "strategy": {"entry_cooldown_s": 0.3, **strategy},
            "strategies": {
                "mean_reversion": {
                    "params": {"window": 6, "entry_z": 0.8, "sample_interval_s": 0.1}
                },
                **ONLY_MEAN_REVERSION,
            },
        }
    ).model_copy(update={"feed": fast_feed_config(emulator.urls), "hot_assets": FAST_HOT})
    clock = SystemClock()
    ledger = await SqliteLedger(tmp_path / "l.sqlite").open()
    feed = PolymarketFeed(config.feed, config.hot_assets, clock)
    engine = build_engine(config, clock, ledger, venue="emulator", feed=feed, health=feed.health)
    runner = engine.live_runner(feed, ledger)
    runner.ledger_handle = ledger  # type: ignore[attr-defined]
    return runner


class Armed:
    """A test strategy that wants exactly as many entries as it is armed for: the stall
    test decides when an entry is wanted instead of waiting on mean reversion's z."""

    name = "armed"
    weight = 1.0

    def __init__(self) -> None:
        self.armed = 0

    def on_tick(self, ctx: MarketContext) -> Signal | None:
        if self.armed <= 0:
            return None
        self.armed -= 1
        return Signal(self.name, ctx.asset_id, Side.BUY, 1.0, "armed by the test")


@pytest.mark.emulator(markets=4, events_per_second=40.0)
async def test_ws_stall_applies_the_fallback_policy_then_trading_recovers(
    emulator: ExchangeEmulator, tmp_path: Path
) -> None:
    runner = await _engine(emulator, tmp_path, halt_on_fallback=True, max_book_age_s=0.5)
    core = runner.core
    armed = Armed()
    core.strategies.append(armed)
    core.aggregator.weights[armed.name] = armed.weight
    task = asyncio.create_task(runner.run(starting_cash=10**13))
    admin = emulator.urls.admin  # type: ignore[union-attr]
    held_rules = ("feed", "feed_fallback", "stale_book")

    def held() -> int:
        return sum(core.parts.refusals.rejects[rule] for rule in held_rules)

    try:
        await until(lambda: core.oms.counts["orders"] >= 2, 30)
        async with httpx.AsyncClient() as client:
            await client.post(
                f"{admin}/faults",
                json={"ws_stall": 3},
                headers=emulator.urls.admin_headers(),  # type: ignore[union-attr]
            )
        # Once the books are older than max_book_age_s (0.5 s), nothing may leave: REST
        # fallback keeps books moving, and every entry it prompts is held back.
        await asyncio.sleep(0.8)
        during, held_before = core.counts["entry_orders"], held()
        armed.armed = 1
        await until(lambda: held() > held_before, 2)
        await asyncio.sleep(1.0)
        # (Exits are never held back by entry rules.)
        assert core.counts["entry_orders"] == during, "an entry left on a stalled feed"
        # After the stall the feed recovers, and so does trading.
        await until(lambda: core.intake.health.source.value == "ws_live", 30)
        armed.armed = 1
        await until(lambda: core.counts["entry_orders"] > during, 30)
        assert core.intake.health.source.value == "ws_live"
    finally:
        runner.stop()
        await task
        await runner.ledger_handle.close()  # type: ignore[attr-defined]
    db = sqlite3.connect(tmp_path / "l.sqlite")
    held_rows = db.execute(
        "SELECT count(*) FROM risk_events WHERE reason LIKE 'stale book%' OR reason LIKE 'feed%'"
    ).fetchone()[0]
    db.close()
    assert held_rows > 0, "the stall should have held entries back"


@pytest.mark.emulator(markets=4, events_per_second=40.0)
async def test_flatten_during_a_429_storm_completes_or_says_what_is_left(
    emulator: ExchangeEmulator, tmp_path: Path
) -> None:
    runner = await _engine(emulator, tmp_path)
    core = runner.core
    task = asyncio.create_task(runner.run(starting_cash=10**13))
    admin = emulator.urls.admin  # type: ignore[union-attr]
    try:
        await until(lambda: any(p.shares for p in core.accounting.portfolio.positions.values()), 40)
        runner.pause()
        # Previewed before any await: exits go on while paused and could close the
        # position while the fault request is in flight.
        preview = runner.flatten_preview()
        assert preview.closes or preview.left
        async with httpx.AsyncClient() as client:
            await client.post(
                f"{admin}/faults",
                json={"http_429": 200},
                headers=emulator.urls.admin_headers(),  # type: ignore[union-attr]
            )
        report = await runner.flatten(who="test", timeout_s=10)
        held = {a: p.shares for a, p in core.accounting.portfolio.positions.items() if p.shares}
        # Everything still held is reported, with a reason; nothing is silently kept.
        assert {a for a, _, _ in report.left} == set(held)
        for asset, shares, why in report.left:
            assert shares == held[asset]
            assert why
    finally:
        runner.stop()
        await task
        await runner.ledger_handle.close()  # type: ignore[attr-defined]
    db = sqlite3.connect(tmp_path / "l.sqlite")
    reasons = {r[0] for r in db.execute("SELECT reason FROM exits")}
    db.close()
    if report.plan.orders:
        assert "flatten" in reasons


def test_kill_9_keeps_the_kill_switch_latched(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    status = tmp_path / "status.json"
    env = environ(tmp_path, **EAGER, TRADING_DAILY_LOSS_LIMIT_PCT="0.001")
    proc = subprocess.Popen(
        [sys.executable, "-m", "polyterm", "--offline", "--no-ui", "--json"]
        + ["--ledger", str(ledger), "--status-file", str(status)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    tripped_at = None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and tripped_at is None:
            try:
                ks = json.loads(status.read_text())["kill_switch"]
                tripped_at = ks["tripped_at"]
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.2)
        assert tripped_at is not None, "the switch never tripped"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
    again = run(
        ["--offline", "--no-ui", "--json", "--duration", "4", "--ledger", str(ledger)],
        tmp_path,
        **EAGER,
        TRADING_DAILY_LOSS_LIMIT_PCT="0.001",
    )
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout.strip().splitlines()[-1])
    assert summary["kill_switch"]["state"] in ("tripped", "cooldown")
    assert summary["kill_switch"]["tripped_at"] == tripped_at
    assert entries(ledger, 2) == []

"""The headless face: the engine under plain asyncio, data on stdout.

``polyterm --no-ui`` prints a status line every few seconds and a summary at the end;
with ``--offline`` (the default) it first starts the exchange emulator in-process on a
free loopback port and points the ordinary Polymarket adapters at it. A run on an
existing ledger resumes its paper account (cash and positions from the recorded fills).

SIGINT and SIGTERM stop the run cleanly within a second: the summary is printed, the
status file holds the final state, the ledger is flushed; the exit code is then 130 for
SIGINT and 143 for SIGTERM (the shell's conventions), 0 for a run that ended by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from engine.adapters.polymarket.feed import PolymarketFeed
from engine.clock import SystemClock
from engine.config import EngineConfig
from engine.ledger.reader import AccountState, LedgerReader
from engine.ledger.writer import SqliteLedger
from engine.market.markets import MarketInfo
from engine.orders import Side
from engine.runtime.live import LiveRunner
from engine.runtime.snapshot import EngineSnapshot, SnapshotHub
from engine.runtime.summary import summary_dict

from . import locations
from .config import AppConfig
from .wiring import build_engine, sentiment_source_for

log = logging.getLogger("polyterm.headless")

SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


@dataclass(frozen=True, slots=True)
class RunOptions:
    duration: float | None = None
    ledger: Path | None = None
    json_summary: bool = False
    status_every: float = 5.0
    status_file: Path | None = None


@contextlib.asynccontextmanager
async def venue(app: AppConfig) -> AsyncIterator[tuple[EngineConfig, str]]:
    """Yield engine settings aimed at the venue: the in-process emulator when offline.

    The emulator is imported only here, only when offline: a live run never loads it.
    """
    if not app.offline:
        yield app.engine, "polymarket"
        return
    from .emulator.server import EmulatorOptions, ExchangeEmulator

    emulator = ExchangeEmulator(
        EmulatorOptions(
            seed=app.emulator_seed,
            markets=app.emulator_markets,
            recorded=locations.recorded_dir(),
        )
    )
    urls = await emulator.start()
    log.info("offline: exchange emulator on %s", urls.clob)
    try:
        feed = app.engine.feed.model_copy(
            update={
                "clob_rest_url": urls.clob,
                "market_ws_url": urls.market_ws,
                "user_ws_url": urls.user_ws,
                "gamma_url": urls.gamma,
                "news_url": urls.news,
                "offline": True,
            }
        )
        yield app.engine.model_copy(update={"feed": feed}), "emulator"
    finally:
        await emulator.stop()


def status_line(snap: EngineSnapshot) -> str:
    c = snap.counters
    # While the feed starts, say what it is doing ("loading books 120/400"), not books=0.
    books = snap.feed.startup or f"books={len(snap.markets)}"
    return (
        f"[{snap.uptime_s:7.1f}s] {snap.state:<8} feed={snap.feed.current_source:<15} "
        f"{books:<9} msgs={c.messages:<7} signals={c.signals:<5} "
        f"orders={c.orders:<4} fills={c.fills:<4} rejects={c.rejects:<4} "
        f"pnl={snap.pnl:+.4f} equity={snap.equity:.4f}"
    )


def write_status_file(path: Path, snap: EngineSnapshot) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(summary_dict(snap), default=str))
    os.replace(tmp, path)  # atomic: readers never see half a file


async def _report(hub: SnapshotHub, out: TextIO, options: RunOptions) -> None:
    last_line = -options.status_every
    async for snap in hub.subscribe():
        if options.status_file is not None:
            try:
                write_status_file(options.status_file, snap)
            except OSError as exc:
                log.error("--status-file %s: %s", options.status_file, exc)
        if not options.json_summary and snap.uptime_s - last_line >= options.status_every:
            last_line = snap.uptime_s
            print(status_line(snap), file=out, flush=True)


def print_summary(summary: dict[str, object], out: TextIO, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, default=str), file=out, flush=True)
        return
    width = max(len(k) for k in summary)
    print("polyterm run summary", file=out)
    for key, value in summary.items():
        if key == "strategies" and isinstance(value, dict):
            print(f"  {key.ljust(width)}  pnl = price moves - spread paid - fees", file=out)
            for name, row in value.items():
                print(f"    {name:<24}{_strategy_line(row)}", file=out)
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
        print(f"  {key.ljust(width)}  {value}", file=out)
    out.flush()


def _strategy_line(row: object) -> str:
    if not isinstance(row, dict):
        return str(row)
    weight = row.get("weight")
    return (
        f"weight={'-' if weight is None else weight} signals={row.get('signals')} "
        f"detected={row.get('detected')} orders={row.get('orders')} fills={row.get('fills')} "
        f"pnl={row.get('pnl')} = moves {row.get('price_moves')} - spread "
        f"{row.get('spread_paid')} - fees {row.get('fees')}"
    )


@dataclass(frozen=True, slots=True)
class Resume:
    """What a run on an existing ledger picks up: the account, the rate windows' recent
    orders, and which strategy opened each fill's order (for the lots it holds)."""

    state: AccountState
    recent_orders: list[tuple[float, str, str, Side]]
    strategies: dict[str, str]
    markets: list[MarketInfo]  # every market the ledger knows (positions may be there)


def _resume(path: Path, window_s: float, now: float) -> Resume:
    reader = LedgerReader(path)
    state = reader.load_state()
    recent = [
        (o.order.created_at, o.order.strategy, o.order.market, o.order.side)
        for o in reader.orders()
        if o.order.created_at >= now - window_s and not o.order.is_exit
    ]
    strategies = {r.event.fill.order_id: r.event.strategy for r in reader.fills()}
    markets = [MarketInfo(m.condition_id, m.question, m.slug, m.outcomes) for m in reader.markets()]
    return Resume(state, recent, strategies, markets)


async def load_account(path: Path, window_s: float, now: float) -> Resume:
    """What an (opened, migrated) ledger holds; empty for a new ledger."""
    return await asyncio.to_thread(_resume, path, window_s, now)


async def run_headless(app: AppConfig, options: RunOptions, out: TextIO = sys.stdout) -> int:
    ledger_path = options.ledger or app.ledger or locations.default_ledger_path()
    clock = SystemClock()
    ledger = await SqliteLedger(ledger_path).open()
    stopped_by: list[signal.Signals] = []
    try:
        trading = app.engine.trading
        window = max(
            [trading.order_frequency.interval_seconds]
            + [s.interval_seconds for s in trading.strategy_order_frequency.values()]
            + [
                w.interval_seconds
                for s in trading.strategy_order_frequency.values()
                for w in (s.window("market"), s.window("side"), s.window("market_side"))
                if w is not None
            ]
        )
        resume = await load_account(ledger_path, window, clock.time())
        async with venue(app) as (config, venue_name):
            feed = PolymarketFeed(config.feed, config.hot_assets, clock)
            parts = build_engine(
                config,
                clock,
                ledger,
                feed=feed,
                health=feed.health,
                mode="paper",
                venue=venue_name,
                seed=app.emulator_seed,
                state=resume.state,
                restore_rates=resume.recent_orders,
                lot_strategies=resume.strategies,
                known_markets=resume.markets,
            )
            if parts.restored:
                log.info(
                    "resumed the paper account in %s (%d records)", ledger_path, parts.restored
                )
            runner = LiveRunner(
                parts.core,
                feed,
                parts.gateway,
                ledger,
                parts.router,
                parts.builder,
                hub=parts.hub,
                sentiment=sentiment_source_for(config, clock, offline=app.offline)
                if parts.core.sentiment is not None
                else None,
            )
            loop = asyncio.get_running_loop()

            def on_signal(sig: signal.Signals) -> None:
                stopped_by.append(sig)
                runner.stop()

            for sig in SIGNAL_EXIT:
                loop.add_signal_handler(sig, on_signal, sig)
            reporter = asyncio.create_task(_report(parts.hub, out, options), name="report")
            try:
                final = await runner.run(options.duration, starting_cash=parts.starting_cash)
            finally:
                for sig in SIGNAL_EXIT:
                    loop.remove_signal_handler(sig)
                await reporter
        summary = summary_dict(final)
        summary["ledger"] = str(ledger_path)
        figures = runner.latency.figures()
        if figures is not None:
            summary["frame_to_order_us"] = {
                "p50": round(figures.p50_us, 1),
                "p99": round(figures.p99_us, 1),
                "max": round(figures.max_us, 1),
            }
        print_summary(summary, out, options.json_summary)
    finally:
        await ledger.close()
    return SIGNAL_EXIT[stopped_by[0]] if stopped_by else 0

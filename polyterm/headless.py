"""The headless face: the engine under plain asyncio, data on stdout.

``polyterm --no-ui`` prints a status line every few seconds and a summary at the end;
with ``--offline`` (the default) it first starts the exchange emulator in-process on a
free loopback port and points the ordinary Polymarket adapters at it.
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
from engine.ledger.writer import SqliteLedger
from engine.runtime.core import Engine, summary_dict
from engine.runtime.snapshot import EngineSnapshot
from polyterm import locations
from polyterm.config import AppConfig
from polyterm.emulator.server import EmulatorOptions, EmulatorUrls, ExchangeEmulator

log = logging.getLogger("polyterm.headless")


@dataclass(frozen=True, slots=True)
class RunOptions:
    duration: float | None = None
    ledger: Path | None = None
    json_summary: bool = False
    status_every: float = 5.0
    status_file: Path | None = None


def point_at(config: EngineConfig, urls: EmulatorUrls) -> EngineConfig:
    """The same engine settings with every venue URL on the emulator, offline enforced."""
    feed = config.feed.model_copy(
        update={
            "clob_rest_url": urls.clob,
            "market_ws_url": urls.market_ws,
            "user_ws_url": urls.user_ws,
            "gamma_url": urls.gamma,
            "news_url": urls.news,
            "offline": True,
        }
    )
    return config.model_copy(update={"feed": feed})


@contextlib.asynccontextmanager
async def venue(app: AppConfig) -> AsyncIterator[tuple[EngineConfig, str]]:
    """Yield engine settings aimed at the venue: the in-process emulator when offline."""
    if not app.offline:
        yield app.engine, "polymarket"
        return
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
        yield point_at(app.engine, urls), "emulator"
    finally:
        await emulator.stop()


def status_line(snap: EngineSnapshot) -> str:
    c = snap.counters
    return (
        f"[{snap.uptime_s:7.1f}s] {snap.state:<8} feed={snap.feed.current_source:<15} "
        f"books={len(snap.markets):<3} msgs={c.messages:<7} signals={c.signals:<5} "
        f"orders={c.orders:<4} fills={c.fills:<4} rejects={c.rejects:<4} "
        f"pnl={snap.pnl:+.4f} equity={snap.equity:.4f}"
    )


def write_status_file(path: Path, snap: EngineSnapshot) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(summary_dict(snap), default=str))
    os.replace(tmp, path)  # atomic: readers never see half a file


async def _report(engine: Engine, out: TextIO, options: RunOptions) -> None:
    last_line = -options.status_every
    async for snap in engine.hub.subscribe():
        if options.status_file is not None:
            write_status_file(options.status_file, snap)
        if not options.json_summary and snap.uptime_s - last_line >= options.status_every:
            last_line = snap.uptime_s
            print(status_line(snap), file=out, flush=True)


def print_summary(snap: EngineSnapshot, ledger: Path, out: TextIO, as_json: bool) -> None:
    summary = summary_dict(snap)
    summary["ledger"] = str(ledger)
    if as_json:
        print(json.dumps(summary, default=str), file=out, flush=True)
        return
    width = max(len(k) for k in summary)
    print("polyterm run summary", file=out)
    for key, value in summary.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
        print(f"  {key.ljust(width)}  {value}", file=out)
    out.flush()


async def run_headless(app: AppConfig, options: RunOptions, out: TextIO = sys.stdout) -> int:
    ledger_path = options.ledger or app.ledger or locations.default_ledger_path()
    clock = SystemClock()
    ledger = await SqliteLedger(ledger_path).open()
    try:
        async with venue(app) as (config, venue_name):
            feed = PolymarketFeed(config.feed, config.hot_assets, clock)
            engine = Engine(config, feed, ledger, clock, mode="paper", venue=venue_name)
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, engine.stop)
            reporter = asyncio.create_task(_report(engine, out, options), name="headless-report")
            try:
                final = await engine.run(options.duration)
            finally:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)
                await reporter
        print_summary(final, ledger_path, out, options.json_summary)
    finally:
        await ledger.close()
    return 0

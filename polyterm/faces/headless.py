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
import json
import logging
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from engine.runtime.snapshot import EngineSnapshot, SnapshotHub
from engine.runtime.summary import summary_dict
from polyterm.faces.live_engine import open_live_engine
from polyterm.faces.ops import OpsOptions, operations
from polyterm.faces.summary_text import print_summary as print_summary  # backtest uses it
from polyterm.settings.config import AppConfig

log = logging.getLogger("polyterm.headless")

SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


@dataclass(frozen=True, slots=True)
class RunOptions:
    duration: float | None = None
    ledger: Path | None = None
    json_summary: bool = False
    status_every: float = 5.0
    status_file: Path | None = None
    ops: OpsOptions = OpsOptions()  # ctl socket, metrics, alerts, systemd


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


async def run_headless(app: AppConfig, options: RunOptions, out: TextIO = sys.stdout) -> int:
    stopped_by: list[signal.Signals] = []
    async with (
        open_live_engine(app, options.ledger) as live,
        operations(live.runner, live.ledger_path, "headless", options.ops),
    ):
        runner = live.runner
        loop = asyncio.get_running_loop()

        def on_signal(sig: signal.Signals) -> None:
            stopped_by.append(sig)
            runner.stop()

        for sig in SIGNAL_EXIT:
            loop.add_signal_handler(sig, on_signal, sig)
        reporter = asyncio.create_task(_report(runner.hub, out, options), name="report")
        try:
            final = await runner.run(options.duration, starting_cash=live.starting_cash)
        finally:
            for sig in SIGNAL_EXIT:
                loop.remove_signal_handler(sig)
            await reporter
    summary = summary_dict(final)
    summary["ledger"] = str(live.ledger_path)
    figures = runner.latency.figures()
    if figures is not None:
        summary["frame_to_order_us"] = {
            "p50": round(figures.p50_us, 1),
            "p99": round(figures.p99_us, 1),
            "max": round(figures.max_us, 1),
        }
    print_summary(summary, out, options.json_summary)
    return SIGNAL_EXIT[stopped_by[0]] if stopped_by else 0

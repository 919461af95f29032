"""The headless face: the engine under plain asyncio, data on stdout.

``polyterm --no-ui`` prints a status line every few seconds and a summary at the end;
with ``--offline`` (the default) it first starts the exchange emulator in a process of
its own (its order flow does not share the engine's core) on a free loopback port and
points the ordinary Polymarket adapters at it. A run on an
existing ledger resumes its paper account (cash and positions from the recorded fills).

SIGINT and SIGTERM stop the run cleanly within a second: the summary is printed, the
status file holds the final state, the ledger is flushed; the exit code is then 130 for
SIGINT and 143 for SIGTERM (the shell's conventions), 0 for a run that ended by itself.
A run that fails says so in its status file (see :mod:`polyterm.faces.status`) and on
stderr in one line.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from engine.adapters.net.tasks import cancel_and_wait
from engine.ledger.lock import LedgerBusy
from engine.runtime.live import LiveRunner
from engine.runtime.snapshot import EngineSnapshot, SnapshotHub
from engine.runtime.summary import summary_dict
from engine.venue import TradingMode
from polyterm.faces.live_engine import emulator_process, open_live_engine
from polyterm.faces.ops import OpsOptions, operations
from polyterm.faces.status import StatusFile
from polyterm.faces.summary_text import print_summary as print_summary  # backtest uses it
from polyterm.settings.config import AppConfig
from widgets.format import money

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
    # A live run says so on every line; a paper run's lines are as they always were.
    live = "LIVE " if snap.mode is TradingMode.LIVE else ""
    return (
        f"{live}[{snap.uptime_s:7.1f}s] {snap.state:<8} feed={snap.feed.current_source:<15} "
        f"{books:<9} msgs={c.messages:<7} signals={c.signals:<5} "
        f"orders={c.orders:<4} fills={c.fills:<4} rejects={c.rejects:<4} "
        f"pnl={money(snap.pnl, signed=True)} equity={money(snap.equity)}"
    )


async def _report(
    hub: SnapshotHub, out: TextIO, options: RunOptions, status: StatusFile | None
) -> None:
    last_line = -options.status_every
    async for snap in hub.subscribe():
        if status is not None:
            status.update(snap)
        if not options.json_summary and snap.uptime_s - last_line >= options.status_every:
            last_line = snap.uptime_s
            print(status_line(snap), file=out, flush=True)


async def run_headless(app: AppConfig, options: RunOptions, out: TextIO = sys.stdout) -> int:
    status = StatusFile(options.status_file) if options.status_file is not None else None
    try:
        final, live = await _run(app, options, out, status)
    except LedgerBusy:
        raise  # the status file may be the other run's: never touched
    except BaseException as exc:
        if status is not None and not isinstance(
            exc, KeyboardInterrupt | SystemExit | asyncio.CancelledError
        ):
            status.failed(str(exc) or type(exc).__name__)
        raise
    if status is not None:
        status.final(final)
    summary = summary_dict(final)
    summary["ledger"] = str(live.ledger_path)
    figures = live.runner.latency.figures()
    if figures is not None:
        summary["frame_to_order_us"] = {
            "p50": round(figures.p50_us, 1),
            "p99": round(figures.p99_us, 1),
            "max": round(figures.max_us, 1),
        }
    print_summary(summary, out, options.json_summary)
    return SIGNAL_EXIT[live.stopped_by[0]] if live.stopped_by else 0


@dataclass(frozen=True, slots=True)
class _Ran:
    runner: LiveRunner
    ledger_path: Path
    stopped_by: list[signal.Signals]


async def _run(
    app: AppConfig, options: RunOptions, out: TextIO, status: StatusFile | None
) -> tuple[EngineSnapshot, _Ran]:
    stopped_by: list[signal.Signals] = []
    stops: list[Callable[[], None]] = []  # the runner's stop, once there is a runner
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        stopped_by.append(sig)
        for stop in stops:
            stop()

    # From the start, not once the engine is up: a Ctrl-C while the venue and the ledger
    # open (seconds on a busy machine) still ends in a run that stops at once, with its
    # summary printed and its ledger closed, as one after start-up does.
    for sig in SIGNAL_EXIT:
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        async with (
            open_live_engine(app, options.ledger, venue_for=emulator_process) as live,
            operations(live.runner, live.ledger_path, "headless", options.ops),
        ):
            runner = live.runner
            stops.append(runner.stop)
            if stopped_by:
                runner.stop()  # asked during start-up: the run starts and ends at once
            reporter = asyncio.create_task(_report(runner.hub, out, options, status), name="report")
            try:
                final = await runner.run(options.duration, starting_cash=live.starting_cash)
            except BaseException:
                # A run that failed before it could close its snapshot hub (the ledger
                # refusing the run's first row) must not leave the reporter waiting on it.
                await cancel_and_wait(reporter)
                raise
            await reporter
    finally:
        for sig in SIGNAL_EXIT:
            loop.remove_signal_handler(sig)
    return final, _Ran(runner, live.ledger_path, stopped_by)

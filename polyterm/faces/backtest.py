"""The backtest face: ``polyterm backtest --tape FILE...``.

Replays tapes recorded by ``polyterm record`` (or made by ``polyterm exchange
--export-tape``) through the same engine as a live run, on a simulated clock, with the
paper exchange, as fast as the CPU allows. A progress bar (messages/s, ETA) goes to stderr;
the summary (the same fields as a run's, plus replay figures) to stdout. Each backtest
writes a new ledger: the same tapes and configuration give the same ledger, byte for byte.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TextIO

from engine.adapters.tape.tape import TapeError, TapeTruncated
from engine.clock import SimClock
from engine.ledger.errors import LedgerError
from engine.ledger.writer import SqliteLedger
from engine.runtime.backtest import BacktestProgress, replay_records
from engine.runtime.kernel import build_engine, replay_health
from engine.runtime.summary import summary_dict
from polyterm.faces.summary_text import print_summary
from polyterm.settings import locations
from polyterm.settings.config import AppConfig


@dataclass(frozen=True, slots=True)
class BacktestOptions:
    tapes: tuple[Path, ...]
    ledger: Path | None = None
    seed: int = 0
    json_summary: bool = False
    progress: bool = True


def count_records(tapes: Sequence[Path]) -> int:
    """Lines in the tapes (for the progress bar's ETA); decompresses .zst to count."""
    total = 0
    for path in tapes:
        opened: IO[bytes]
        if path.suffix == ".zst":
            import zstandard

            opened = zstandard.ZstdDecompressor().stream_reader(path.open("rb"), closefd=True)
        else:
            opened = path.open("rb")
        with opened as fh:
            try:
                while chunk := fh.read(1 << 20):
                    total += chunk.count(b"\n")
            except (OSError, ValueError):
                pass  # a truncated stream: the replay itself reports it
    return total


def default_ledger(tapes: Sequence[Path]) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return locations.data_dir() / "backtests" / f"{tapes[0].name.split('.')[0]}-{stamp}.sqlite"


def check_inputs(options: BacktestOptions) -> Path:
    """One-line errors for tapes that do not exist and ledgers that already hold runs."""
    for tape in options.tapes:
        if not tape.is_file():
            raise TapeError(f"--tape {tape}: no such file (record one with `polyterm record`)")
    ledger = options.ledger or default_ledger(options.tapes)
    if ledger.exists() and ledger.stat().st_size > 0:
        raise LedgerError(
            f"--ledger {ledger} already exists; a backtest writes a new ledger, pass a new path"
        )
    return ledger


class _Bar:
    """A rich progress bar on stderr: records, messages/s and ETA."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.enabled = enabled
        self._started = time.perf_counter()
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("backtest"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} msg/s"),
            TextColumn("fills {task.fields[fills]}"),
            TimeRemainingColumn(),
            console=Console(file=sys.stderr),
            transient=True,
        )
        self._task = self._progress.add_task("replay", total=total or None, rate="-", fills=0)
        self._progress.start()

    def update(self, p: BacktestProgress) -> None:
        if not self.enabled:
            return
        elapsed = max(1e-9, time.perf_counter() - self._started)
        self._progress.update(
            self._task, completed=p.records, rate=f"{p.messages / elapsed:,.0f}", fills=p.fills
        )

    def close(self) -> None:
        if self.enabled:
            self._progress.stop()


async def run_backtest(app: AppConfig, options: BacktestOptions, out: TextIO = sys.stdout) -> int:
    ledger_path = check_inputs(options)
    config = app.engine
    clock = SimClock()
    bar = _Bar(count_records(options.tapes) if options.progress else 0, options.progress)
    ledger = await SqliteLedger(ledger_path, autocommit=False).open()
    wall = time.perf_counter()
    try:
        engine = build_engine(
            config, clock, ledger, venue="backtest", health=replay_health(), seed=options.seed
        )
        runner = engine.backtest_runner(clock, ledger, progress=bar.update)
        loop = asyncio.get_running_loop()
        stopped_by: list[signal.Signals] = []

        def on_signal(sig: signal.Signals) -> None:
            stopped_by.append(sig)
            runner.stop()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal, sig)
        truncated: TapeTruncated | None = None
        try:
            final = await runner.run(
                replay_records(options.tapes), starting_cash=engine.starting_cash
            )
        except TapeTruncated as exc:  # what the tape held was replayed and recorded
            if runner.final is None:
                raise
            truncated, final = exc, runner.final
        finally:
            bar.close()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
    finally:
        await ledger.close()
    seconds = time.perf_counter() - wall
    summary = summary_dict(final)
    summary["ledger"] = str(ledger_path)
    summary["tapes"] = [str(t) for t in options.tapes]
    summary["records"] = runner.records
    summary["wall_seconds"] = round(seconds, 3)
    summary["messages_per_s"] = round(final.counters.messages / seconds) if seconds else None
    figures = runner.latency.figures()
    if figures is not None:
        summary["frame_to_order_us"] = {
            "p50": round(figures.p50_us, 1),
            "p99": round(figures.p99_us, 1),
            "max": round(figures.max_us, 1),
        }
    print_summary(summary, out, options.json_summary)
    if truncated is not None:
        print(f"polyterm: warning: {truncated}", file=sys.stderr)
        return 1
    if stopped_by:
        return 128 + stopped_by[0]
    return 0

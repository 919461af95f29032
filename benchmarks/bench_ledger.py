"""Ledger writer figures: batched fill throughput and durable commit latency.

1. Throughput: 200k ``Filled`` events recorded through the autocommit writer (yielding to
   the loop every 1000 records, as an engine would), timed from the first record() to
   the end of the final flush, so every fill is committed (WAL, synchronous=FULL).
2. Latency: one ``Filled`` at a time at a steady pace (500/s by default); the time from
   record() to the commit listener seeing its sequence number, i.e. until it is durable.
3. Restart: the reader's load_state() over the throughput ledger.

    python benchmarks/bench_ledger.py [--fills N] [--rate R] [--seconds S] [--dir DIR]

Figures depend on the disk under --dir (fsync cost); the default is a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from engine.events import Filled
from engine.ledger.reader import LedgerReader
from engine.ledger.writer import SqliteLedger
from engine.orders import Fill, Liquidity, Side

T0 = 1_700_000_000.0


def make_fills(count: int, start: int = 0) -> list[Filled]:
    events = []
    for i in range(start, start + count):
        order = f"r1-{i // 3}"
        fill = Fill(
            f"{order}#{i % 3 + 1}",
            order,
            f"asset-{i % 40}",
            f"0xmarket{i % 20}",
            Side.BUY if i % 2 else Side.SELL,
            100 + i % 9800,
            1_000_000 + i,
            7_800 * (i % 7),
            Liquidity.TAKER if i % 4 else Liquidity.MAKER,
            T0 + i * 0.001,
        )
        events.append(Filled(fill.at, fill, "mean_reversion", "z below -2"))
    return events


def filesystem_of(path: Path) -> str:
    """The mount's filesystem type (Linux), for reading the figures."""
    best, kind, path = "", "?", path.resolve()
    try:
        with open("/proc/mounts") as mounts:
            for line in mounts:
                _, point, fstype, *_ = line.split()
                if str(path).startswith(point) and len(point) > len(best):
                    best, kind = point, fstype
    except OSError:
        pass
    return kind


async def throughput(path: Path, count: int, batch_max: int) -> None:
    events = make_fills(count)
    ledger = await SqliteLedger(path, batch_max=batch_max).open()
    await ledger.start_run("paper", "bench", "{}", T0, 10**15)
    commits = 0

    def on_commit(seq: int) -> None:
        nonlocal commits
        commits += 1

    ledger.add_commit_listener(on_commit)
    record = ledger.record
    in_record = 0.0
    started = time.perf_counter()
    for i in range(0, count, 1000):
        t = time.perf_counter()
        for event in events[i : i + 1000]:
            record(event)
        in_record += time.perf_counter() - t
        await asyncio.sleep(0)
    await ledger.flush()
    elapsed = time.perf_counter() - started
    await ledger.close()
    print(
        f"throughput  batch_max={batch_max}: {count} fills committed in {elapsed:.3f}s"
        f" = {count / elapsed:,.0f} fills/s ({commits} commits;"
        f" record() {in_record / count * 1e6:.2f} us/fill on the loop)"
    )
    started = time.perf_counter()
    state = await asyncio.to_thread(LedgerReader(path).load_state)
    elapsed = time.perf_counter() - started
    assert len(state.fills) == count, len(state.fills)
    print(f"restart     load_state() of {count} fills: {elapsed:.3f}s")


async def latency(path: Path, rate: float, seconds: float) -> None:
    count = int(rate * seconds)
    events = make_fills(count)
    ledger = await SqliteLedger(path).open()
    await ledger.start_run("paper", "bench", "{}", T0, 10**15)
    sent: dict[int, float] = {}
    seen: list[float] = []

    def on_commit(seq: int) -> None:
        now = time.perf_counter()
        for s in [s for s in sent if s <= seq]:
            seen.append(now - sent.pop(s))

    ledger.add_commit_listener(on_commit)
    interval = 1.0 / rate
    started = time.perf_counter()
    for n, event in enumerate(events):
        # A steady pace against the schedule, not drifting with each sleep's overshoot.
        await asyncio.sleep(max(0.0, started + n * interval - time.perf_counter()))
        seq = ledger.record(event)
        sent[seq] = time.perf_counter()
    await ledger.flush()
    await ledger.close()
    ms = sorted(x * 1000 for x in seen)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(
        f"latency     {len(ms)} fills at {rate:.0f}/s: record() -> durable commit seen"
        f" p50 {statistics.median(ms):.2f} ms, p99 {p99:.2f} ms, max {ms[-1]:.2f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fills", type=int, default=200_000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--batch-max", type=int, action="append", default=None)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        where = Path(tmp)
        print(
            f"sqlite {sqlite3.sqlite_version}, {os.cpu_count()} cpus,"
            f" files in {where} ({filesystem_of(where)})"
        )
        for i, batch_max in enumerate(args.batch_max or [5000]):
            await throughput(where / f"throughput{i}.sqlite", args.fills, batch_max)
        await latency(where / "latency.sqlite", args.rate, args.seconds)


if __name__ == "__main__":
    asyncio.run(main())

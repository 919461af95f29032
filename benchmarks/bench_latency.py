"""Frame -> order latency at scale: headless offline runs, pooled over several runs.

Each run is what a user runs, ``polyterm --no-ui --offline --markets M --duration S
--json``, on a ledger of its own (the emulator in its own process, as ``--offline``
starts it). Two kinds of figure:

* per run, the summary's ``frame_to_order_us`` (p50/p99/max over every order the run
  timed). At ~60 orders a minute a run's p99 is its slowest order, so one run's p99 moves
  by a factor of two from run to run on a busy box;
* pooled, every order decided from a signal, read back from each run's ledger
  (``signals.latency_us``) over all the runs of a side: p50, p90, p99 (nearest rank), max,
  and the share of orders over 1 ms and over 5 ms. Basket legs and stop/take-profit exits
  are timed in the summary but have no latency column, so they are not in the pool.

``--against DIR`` runs another checkout of polyterm alternately with this one, under this
interpreter with its code first on ``PYTHONPATH``: before and after on the same box in
the same minutes, so the box's own drift falls on both sides alike.

Prints figures; never fails on a number. Usage:
    python benchmarks/bench_latency.py [--markets 250,1000] [--runs 3] [--seconds 60]
        [--against ../polyterm-before] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


@dataclass
class Side:
    """One checkout's runs at one market count."""

    name: str
    checkout: Path
    runs: list[dict[str, object]] = field(default_factory=list)
    pooled: list[float] = field(default_factory=list)


def run_once(side: Side, markets: int, seconds: float, ledger: Path, env: dict[str, str]) -> None:
    path = [str(side.checkout), *filter(None, [env.get("PYTHONPATH")])]
    env = {**env, "PYTHONPATH": os.pathsep.join(path)}
    args = [
        sys.executable,
        "-m",
        "polyterm",
        "--no-ui",
        "--offline",
        "--markets",
        str(markets),
        "--duration",
        str(seconds),
        "--json",
        "--ledger",
        str(ledger),
    ]
    # A run that hangs past its duration and start-up is a failure, not a figure.
    proc = subprocess.run(
        args,
        cwd=side.checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 180,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"{side.name}: polyterm {' '.join(args[3:])} failed:\n{proc.stderr[-2000:]}")
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    side.runs.append(summary)
    side.pooled.extend(ledger_latencies(ledger))


def ledger_latencies(path: Path) -> list[float]:
    """Every timed order decided from a signal, microseconds."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT latency_us FROM signals WHERE latency_us IS NOT NULL")
        return [float(r[0]) for r in rows]
    finally:
        conn.close()


def rank(values: list[float], p: float) -> float:
    """The nearest-rank percentile of sorted `values`."""
    return values[max(0, math.ceil(p * len(values)) - 1)]


def describe_runs(runs: list[dict[str, object]]) -> str:
    parts = []
    for summary in runs:
        figures = summary.get("frame_to_order_us")
        if isinstance(figures, dict):
            parts.append(f"p50 {figures['p50']:,.0f} / p99 {figures['p99']:,.0f}")
        else:
            parts.append("no order")
    return "; ".join(parts)


def describe_pool(side: Side) -> str:
    values = sorted(side.pooled)
    if not values:
        return "no order decided from a signal"
    n = len(values)
    over_1 = sum(v > 1_000 for v in values)
    over_5 = sum(v > 5_000 for v in values)
    orders = sum(int(str(summary.get("orders", 0))) for summary in side.runs)
    return (
        f"{n} orders from signals (of {orders} in all): p50 {rank(values, 0.5):,.0f}, "
        f"p90 {rank(values, 0.9):,.0f}, p99 {rank(values, 0.99):,.0f}, max {values[-1]:,.0f} us; "
        f"over 1 ms {100 * over_1 / n:.0f}%, over 5 ms {100 * over_5 / n:.0f}%"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markets", default="250,1000", help="market counts, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="runs per side and market count")
    parser.add_argument("--seconds", type=float, default=60.0, help="each run's --duration")
    parser.add_argument("--against", type=Path, help="another polyterm checkout, run alternately")
    parser.add_argument("--keep", type=Path, help="keep the runs' ledgers in this folder")
    args = parser.parse_args()
    try:
        counts = [int(m) for m in args.markets.split(",") if m.strip()]
    except ValueError:
        sys.exit(f"--markets: {args.markets!r} is not a comma-separated list of counts (250,1000)")
    if args.runs < 1 or not counts or any(m < 1 for m in counts):
        sys.exit("--runs and every --markets count must be at least 1")
    if args.against is not None and not (args.against / "polyterm" / "__main__.py").is_file():
        sys.exit(f"--against: {args.against} is not a polyterm checkout (no polyterm/__main__.py)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        keep = args.keep or root / "ledgers"
        keep.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "POLYTERM_CONFIG_DIR": str(root / "cfg"),
            "POLYTERM_DATA_DIR": str(root / "data"),
            "POLYTERM_RUNTIME_DIR": str(root / "run"),
        }
        for markets in counts:
            sides = [Side("this", HERE)]
            if args.against is not None:
                sides.insert(0, Side("against", args.against.resolve()))
            for i in range(args.runs):
                for side in sides:
                    ledger = keep / f"{markets}_{side.name}_{i + 1}.sqlite"
                    ledger.unlink(missing_ok=True)
                    run_once(side, markets, args.seconds, ledger, env)
                    latest = describe_runs(side.runs[-1:])
                    print(f"  {markets} markets, {side.name} run {i + 1}: {latest}", flush=True)
            print(f"{markets} markets, {args.runs} x {args.seconds:g} s headless offline runs")
            for side in sides:
                label = f"{side.name} ({side.checkout})"
                print(f"  {label}")
                print(f"    per run (summary, us): {describe_runs(side.runs)}")
                print(f"    pooled (ledgers):      {describe_pool(side)}")


if __name__ == "__main__":
    main()

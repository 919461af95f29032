"""Frame -> order latency at scale: headless offline runs, pooled over several runs.

Each run is what a user runs, ``polyterm --no-ui --offline --markets M --duration S
--seed N --json``, on a ledger of its own (the emulator in its own process, as
``--offline`` starts it), with polyterm's config, data, logs and sockets in a temporary
folder and none of the caller's polyterm settings in its environment (a ``RISK_*`` or
``STRATEGY_*`` variable would change the workload). Both sides replay the same recorded
market data (``$POLYTERM_RECORDED_DIR``, else ``../shared`` beside this checkout). Two
kinds of figure:

* per run, the summary's ``frame_to_order_us`` (p50/p99/max over every order the run
  timed; the engine's own percentiles). At ~60 orders a minute a run's p99 is its slowest
  order, so one run's p99 moves by a factor of two from run to run on a busy box;
* pooled, every order a signal's decision placed, read back from each run's ledger (the
  ``latency_us`` of its ``signals`` rows, once per order) over all the runs of a side:
  p50, p90, p99 (nearest rank), max, and how many orders took over 1 ms and over 5 ms.
  Basket legs and stop-loss/take-profit exits are timed in the summary but have no
  per-order row (a basket's one row is timed as it is recorded, before its legs go), so they
  are not in the pool.

``--against DIR`` runs another checkout of polyterm alternately with this one (ABBA, so
neither side always goes first), under this interpreter with its code first on
``PYTHONPATH``: before and after on the same box in the same minutes. The other
checkout's emulator runs too, so a change to the emulator changes its side's load.

Prints figures; never fails on a number. Usage:
    python benchmarks/bench_latency.py [--markets 250,1000] [--runs 3] [--seconds 60]
        [--seed 7] [--against ../polyterm-before] [--keep DIR]
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

from engine.limits import MAX_MARKETS
from polyterm.settings.locations import recorded_dir

HERE = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "polyterm", "widgets", "themes")
# The caller's environment passed on: what a process needs to run, nothing polyterm reads.
BASICS = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "TMPDIR", "TZ", "TERM")


@dataclass
class Side:
    """One checkout's runs at one market count."""

    name: str
    checkout: Path
    runs: list[dict[str, object]] = field(default_factory=list)
    pooled: list[float] = field(default_factory=list)


class RunFailed(Exception):
    pass


def recorded_beside(checkout: Path) -> Path:
    """Where a checkout's polyterm looks for recorded data without $POLYTERM_RECORDED_DIR."""
    return checkout.parent / "shared" / "polymarket" / "recorded"


def market_data(against: Path | None) -> Path | None:
    """The recorded data both sides replay, as this checkout's polyterm finds it (None:
    synthetic books); exits when only the other checkout would find some."""
    found = recorded_dir()
    if found is not None:
        return found.resolve()
    if against is not None and recorded_beside(against).is_dir():
        sys.exit(
            f"the two sides would replay different market data (only {against} has recorded "
            "data beside it): set POLYTERM_RECORDED_DIR"
        )
    return None


def base_env(root: Path, recorded: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in BASICS or k.startswith("LC_")}
    env.update(
        POLYTERM_CONFIG_DIR=str(root / "config"),
        POLYTERM_DATA_DIR=str(root / "data"),
        POLYTERM_LOG_DIR=str(root / "log"),
        POLYTERM_RUNTIME_DIR=str(root / "run"),
    )
    if recorded is not None:
        env["POLYTERM_RECORDED_DIR"] = str(recorded)
    return env


def run_once(
    side: Side, markets: int, seconds: float, seed: int, ledger: Path, env: dict[str, str]
) -> None:
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
        "--seed",
        str(seed),
        "--json",
        "--ledger",
        str(ledger),
    ]
    try:
        proc = subprocess.run(
            args,
            cwd=side.checkout,
            env={**env, "PYTHONPATH": str(side.checkout)},
            stdin=subprocess.DEVNULL,  # nothing may wait for an answer nobody sees
            capture_output=True,
            text=True,
            # A run that hangs past its duration and start-up is a failure, not a figure.
            timeout=seconds + 180,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RunFailed(f"{side.name}: polyterm did not end within {seconds + 180:g} s") from None
    if proc.returncode != 0:
        tail = proc.stderr.strip()[-2000:]
        raise RunFailed(f"{side.name}: polyterm exited {proc.returncode}:\n{tail}")
    side.runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    side.pooled.extend(ledger_latencies(ledger))


def ledger_latencies(path: Path) -> list[float]:
    """Each timed order a decision placed, once (voters of one order share its row's
    latency), microseconds. A basket's row is left out: it is timed as the basket is
    recorded, before its legs are handed over, not at a hand-off."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT MAX(latency_us) FROM signals WHERE latency_us IS NOT NULL "
            "AND order_id IS NOT NULL AND json_extract(inputs_json, '$.basket') IS NULL "
            "GROUP BY order_id"
        )
        return [float(r[0]) for r in rows]
    finally:
        conn.close()


def remove_ledger(path: Path) -> None:
    # With its side files: a stale -wal beside a new database would be replayed into it.
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def rank(values: list[float], p: float) -> float:
    """The nearest-rank percentile of sorted, non-empty `values`."""
    return values[max(0, math.ceil(p * len(values)) - 1)]


def describe_runs(runs: list[dict[str, object]]) -> str:
    parts = []
    for summary in runs:
        figures = summary.get("frame_to_order_us")
        if isinstance(figures, dict):
            parts.append(
                f"p50 {figures['p50']:,.0f} / p99 {figures['p99']:,.0f} / max {figures['max']:,.0f}"
            )
        else:
            parts.append("no order")
    return "; ".join(parts)


def describe_pool(side: Side) -> str:
    values = sorted(side.pooled)
    orders = sum(int(str(summary.get("orders", 0))) for summary in side.runs)
    if not values:
        return f"no order a decision placed was timed (of {orders} orders in all)"
    n = len(values)
    over_1 = sum(v > 1_000 for v in values)
    over_5 = sum(v > 5_000 for v in values)
    return (
        f"{n} orders (of {orders} in all): p50 {rank(values, 0.5):,.0f}, "
        f"p90 {rank(values, 0.9):,.0f}, p99 {rank(values, 0.99):,.0f}, "
        f"max {values[-1]:,.0f} us; over 1 ms {over_1} ({100 * over_1 / n:.1f}%), "
        f"over 5 ms {over_5} ({100 * over_5 / n:.1f}%)"
    )


def report(markets: int, sides: list[Side], seconds: float) -> None:
    print(f"{markets} markets, {seconds:g} s headless offline runs")
    for side in sides:
        print(f"  {side.name} ({side.checkout}), {len(side.runs)} runs")
        print(f"    per run (its summary, us):  {describe_runs(side.runs)}")
        print(f"    pooled (ledgers, nearest rank): {describe_pool(side)}")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--markets", default="250,1000", help="market counts, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="runs per side and market count")
    parser.add_argument("--seconds", type=float, default=60.0, help="each run's --duration")
    parser.add_argument("--seed", type=int, default=7, help="the emulator's seed")
    parser.add_argument("--against", type=Path, help="another polyterm checkout, run alternately")
    parser.add_argument("--keep", type=Path, help="keep the runs' ledgers in this folder")
    args = parser.parse_args()
    try:
        args.counts = [int(m) for m in args.markets.split(",") if m.strip()]
    except ValueError:
        sys.exit(f"--markets: {args.markets!r} is not a comma-separated list of counts (250,1000)")
    if not args.counts or any(not 1 <= m <= MAX_MARKETS for m in args.counts):
        sys.exit(
            f"--markets: every count must be between 1 and {MAX_MARKETS}, not {args.markets!r}"
        )
    if args.runs < 1:
        sys.exit(f"--runs: at least 1, not {args.runs}")
    if not (math.isfinite(args.seconds) and args.seconds > 0):
        sys.exit(f"--seconds: a number of seconds above 0, not {args.seconds}")
    if args.against is not None:
        args.against = args.against.resolve()
        missing = [p for p in PACKAGES if not (args.against / p / "__init__.py").is_file()]
        if missing:
            sys.exit(
                f"--against: {args.against} is not a polyterm checkout (no {', '.join(missing)})"
            )
    return args


def main() -> None:
    args = parse()
    recorded = market_data(args.against)
    print(f"market data: {recorded or 'synthetic (no recorded data found)'}; seed {args.seed}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        keep = (args.keep or root / "ledgers").resolve()
        keep.mkdir(parents=True, exist_ok=True)
        env = base_env(root, recorded)
        for markets in args.counts:
            sides = [Side("this", HERE)]
            if args.against is not None:
                sides.insert(0, Side("against", args.against))
            for i in range(args.runs):
                for side in sides if i % 2 == 0 else sides[::-1]:
                    ledger = keep / f"{markets}_{side.name}_{i + 1}.sqlite"
                    remove_ledger(ledger)
                    try:
                        run_once(side, markets, args.seconds, args.seed, ledger, env)
                    except RunFailed as failed:
                        if any(s.runs for s in sides):
                            report(markets, sides, args.seconds)
                        sys.exit(str(failed))
                    latest = describe_runs(side.runs[-1:])
                    print(f"  {markets} markets, {side.name} run {i + 1}: {latest}", flush=True)
            report(markets, sides, args.seconds)


if __name__ == "__main__":
    main()

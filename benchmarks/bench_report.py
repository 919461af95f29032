"""`polyterm report` on a ledger of a million fills.

Builds a ledger (the real schema) with ``--fills`` fills over 200 markets and 30 days:
entries and exits in pairs, one exit row per round trip, a tenth of the markets settled,
a risk event per 20 fills. Then times, as whole processes (start-up included, output to
/dev/null, median of ``--repeat``): ``report summary --format json``, ``report exits
--format json`` and ``report summary --format html`` (and the HTML's size).

Usage: ``python benchmarks/bench_report.py [--fills 1000000] [--repeat 3] [--keep PATH]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from engine.ledger.schema import migrate

START = 1_767_225_600.0  # 2026-01-01
DAYS = 30
MARKETS = 200
USDC = 10**10


def _markets() -> list[tuple[str, str, str]]:
    return [(f"0xm{i:04d}", f"A{i}", f"B{i}") for i in range(MARKETS)]


def build(path: Path, fills: int) -> None:
    rng = random.Random(7)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    migrate(conn, path)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO runs VALUES (1, ?, ?, 'paper', 'bench', '{}', ?)",
        (START, START + DAYS * 86400, json.dumps({"equity": "1000", "unrealized_pnl": "0"})),
    )
    conn.execute("INSERT INTO account VALUES (1, ?, ?)", (100_000 * USDC, START))
    markets = _markets()
    conn.executemany(
        "INSERT INTO markets VALUES (?, ?, ?, ?, '0', '0', 0, ?)",
        [
            (cid, f"Question {cid}?", cid, json.dumps([[a, "Yes"], [b, "No"]]), START)
            for cid, a, b in markets
        ],
    )
    step = DAYS * 86400 / fills
    strategies = ("mean_reversion", "momentum_scalping", "micro_arbitrage", "event_driven")
    reasons = ("take_profit", "stop_loss", "reverted to mean", "max_holding_time")

    def fill_rows() -> Iterator[tuple[object, ...]]:
        for i in range(0, fills, 2):
            cid, a, _ = markets[rng.randrange(MARKETS)]
            at = START + i * step
            entry = rng.randrange(500, 9500)
            exit_ = max(100, min(9900, entry + rng.randrange(-400, 401)))
            size = rng.randrange(5, 50) * 10**6
            strat = strategies[i % 4]
            yield (
                f"f{i}",
                1,
                f"o{i}",
                at,
                a,
                cid,
                "BUY",
                entry,
                size,
                size * entry // 200,
                "taker",
                strat,
                "entry",
                entry,
                12.5,
            )
            yield (
                f"f{i + 1}",
                1,
                f"o{i + 1}",
                at + step,
                a,
                cid,
                "SELL",
                exit_,
                size,
                0,
                "maker",
                strat,
                reasons[i % 4],
                exit_,
                -3.0,
            )

    conn.executemany(
        "INSERT INTO fills (fill_id, run_id, order_id, at, asset_id, market, side, price, size,"
        " fee, liquidity, strategy, reason, decision_mid, slippage_bps)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        fill_rows(),
    )
    conn.execute(
        "INSERT INTO exits (run_id, at, asset_id, market, strategy, reason, shares, entry_price,"
        " exit_price, realized, fee, holding_s, mae, mfe, slippage_bps)"
        " SELECT 1, s.at, s.asset_id, s.market, s.strategy, s.reason, s.size, b.price, s.price,"
        " (s.price - b.price) * s.size, 0, s.at - b.at, abs(s.price - b.price) / 2,"
        " abs(s.price - b.price), -3.0 FROM fills s JOIN fills b ON b.id = s.id - 1"
        " WHERE s.side = 'SELL'"
    )
    settled = markets[: MARKETS // 10]
    conn.executemany(
        "INSERT INTO settlements (run_id, at, asset_id, market, shares, payout_price, cash,"
        " realized) VALUES (1, ?, ?, ?, 0, ?, 0, 0)",
        [(START + DAYS * 86400 - 1, a, cid, 10_000) for cid, a, _ in settled]
        + [(START + DAYS * 86400 - 1, b, cid, 0) for cid, _, b in settled],
    )
    conn.executemany(
        "INSERT INTO risk_events (run_id, at, asset_id, side, strategy, reason, wanted, approved)"
        " VALUES (1, ?, 'A1', 'BUY', 'mean_reversion', ?, 10000000, 0)",
        [
            (START + i * step, f"order_rate_limit: global: {i % 40}/30 in 60s")
            for i in range(0, fills, 20)
        ],
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def timed(args: list[str], repeat: int) -> tuple[float, float]:
    """Median wall and CPU (user + system) seconds of the whole command. On a shared box
    the CPU figure is the steadier one: wall time includes waiting for a core."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "polyterm", *args], check=True, stdout=subprocess.DEVNULL
        )
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fills", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="Build the ledger here and keep it.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        ledger = args.keep or Path(folder) / "bench.sqlite"
        if not ledger.exists():
            started = time.perf_counter()
            build(ledger, args.fills)
            print(
                f"built {ledger} ({ledger.stat().st_size / 1e6:.0f} MB) with {args.fills:,}"
                f" fills in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
        base = ["report", "--ledger", str(ledger)]
        # Wall time on a shared box is mostly waiting for a core: say how busy it was.
        print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        for kind, fmt in (("summary", "json"), ("exits", "json"), ("summary", "html")):
            wall, cpu = timed([*base[:1], kind, *base[1:], "--format", fmt], args.repeat)
            print(
                f"report {kind} --format {fmt}: {wall:.2f} s wall, {cpu:.2f} s CPU"
                f" (median of {args.repeat})",
                flush=True,
            )
        html = Path(folder) / "summary.html"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "polyterm",
                "report",
                "summary",
                "--ledger",
                str(ledger),
                "--format",
                "html",
                "--out",
                str(html),
            ],
            check=True,
        )
        from plotly.offline import get_plotlyjs

        size, js = html.stat().st_size, len(get_plotlyjs().encode())
        print(f"HTML size: {size / 1e6:.2f} MB ({js / 1e6:.2f} MB of it plotly's JavaScript)")
        print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "polyterm", "--version"], check=True, stdout=subprocess.DEVNULL
        )
        print(f"(python + polyterm start-up alone: {time.perf_counter() - started:.2f} s)")


if __name__ == "__main__":
    main()

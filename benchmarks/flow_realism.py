"""Does the emulator's offline market look like a market over a long run?

Steps the emulator's seeded flow model on a simulated clock (no server, no wall wait)
for ``--minutes`` of model time and samples every market's YES book every
``--every`` seconds: the spread (cents) and the depth within 5 cents of the mid
(shares, both sides). Prints their distributions beside the same figures for the
recorded Polymarket books in ``../shared/polymarket/recorded`` (the reference), and the
share of samples inside the recorded range.

    .venv/bin/python benchmarks/flow_realism.py [--minutes 30] [--markets 8] [--seed 7]
        [--no-market-makers]   # the bare random flow of earlier releases: the "before"
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from engine.clock import SimClock
from engine.fixed import ONE, SIZE_SCALE
from engine.market.book import OrderBook
from polyterm.emulator.server import EmulatorOptions, build_exchange

RECORDED = Path(__file__).resolve().parents[2] / "shared" / "polymarket" / "recorded"
WINDOW = 500  # 5 cents in price units


def book_figures(
    bids: list[tuple[float, float]], asks: list[tuple[float, float]]
) -> tuple[float, float]:
    """(spread in cents, shares within 5 cents of the mid) of one two-sided book."""
    best_bid = max(p for p, _ in bids)
    best_ask = min(p for p, _ in asks)
    mid = (best_bid + best_ask) / 2
    depth = sum(s for p, s in bids if p >= mid - 0.05) + sum(s for p, s in asks if p <= mid + 0.05)
    return (best_ask - best_bid) * 100, depth


def recorded_figures(folder: Path) -> list[tuple[float, float]]:
    out = []
    for path in sorted(folder.glob("*/*.json")):
        try:
            data: Any = json.loads(path.read_text())
        except ValueError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and item.get("bids") and item.get("asks"):
                bids = [(float(b["price"]), float(b["size"])) for b in item["bids"]]
                asks = [(float(a["price"]), float(a["size"])) for a in item["asks"]]
                out.append(book_figures(bids, asks))
    return out


def emulated_figures(book: OrderBook) -> tuple[float, float] | None:
    bb, ba = book.best_bid, book.best_ask
    if bb is None or ba is None:
        return None
    mid2 = bb + ba  # twice the mid, in price units
    depth = sum(s for p, s in book.bid_sizes.items() if 2 * p >= mid2 - 2 * WINDOW)
    depth += sum(s for p, s in book.ask_sizes.items() if 2 * p <= mid2 + 2 * WINDOW)
    return (ba - bb) * 100 / ONE, depth / SIZE_SCALE


def run(
    minutes: float, markets: int, seed: int, every: float, makers: bool = True
) -> list[list[tuple[float, float]]]:
    """Per sample time, each market's (spread, depth)."""
    clock = SimClock(1_700_000_000.0)
    options = EmulatorOptions(
        seed=seed,
        markets=markets,
        recorded=RECORDED if RECORDED.is_dir() else None,
        market_makers=makers,
    )
    exchange, flow = build_exchange(options, clock)
    step = options.step_seconds
    samples: list[list[tuple[float, float]]] = []
    steps = int(minutes * 60 / step)
    per_sample = max(1, int(every / step))
    for i in range(1, steps + 1):
        clock.advance_to(clock.time() + step)
        flow.step(step)
        exchange.market_outbox.clear()
        if i % per_sample == 0:
            row = [emulated_figures(m.yes) for m in exchange.markets]
            samples.append([r for r in row if r is not None])
    return samples


def quantiles(values: list[float]) -> str:
    if not values:
        return "no samples"
    values = sorted(values)
    cuts = (
        statistics.quantiles(values, n=20, method="inclusive") if len(values) > 1 else values * 19
    )
    return (
        f"p5 {cuts[0]:.1f}  p50 {statistics.median(values):.1f}  p95 {cuts[18]:.1f}  "
        f"max {values[-1]:.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--markets", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--every", type=float, default=10.0, help="sample period, model s")
    parser.add_argument("--no-market-makers", action="store_true", help="the bare flow")
    args = parser.parse_args()
    reference = recorded_figures(RECORDED) if RECORDED.is_dir() else []
    started = time.perf_counter()
    samples = run(args.minutes, args.markets, args.seed, args.every, not args.no_market_makers)
    wall = time.perf_counter() - started
    flat = [x for row in samples for x in row]
    spreads, depths = [s for s, _ in flat], [d for _, d in flat]
    print(
        f"emulator: {args.markets} markets, seed {args.seed}, {args.minutes:g} model minutes "
        f"({wall:.1f} s wall), {len(flat)} samples"
    )
    if reference:
        ref_spreads, ref_depths = [s for s, _ in reference], [d for _, d in reference]
        print(f"recorded books ({len(reference)}): spread ¢ {quantiles(ref_spreads)}")
        print(f"recorded books: depth ±5¢ shares {quantiles(ref_depths)}")
        hi_spread, lo_depth = max(ref_spreads), min(ref_depths)
        inside = sum(1 for s, d in flat if s <= hi_spread and d >= lo_depth)
        print(
            f"samples inside the recorded range (spread <= {hi_spread:.1f}¢, depth >= "
            f"{lo_depth:.0f}): {100 * inside / max(1, len(flat)):.1f}%"
        )
    print(f"emulated spread ¢ {quantiles(spreads)}")
    print(f"emulated depth ±5¢ shares {quantiles(depths)}")
    for minute in (2, 10, 30):
        k = int(minute * 60 / args.every) - 1
        if 0 <= k < len(samples):
            row = samples[k]
            print(f"  at {minute:>2} min: spreads ¢ {sorted(round(s, 1) for s, _ in row)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The figures that depend on the order of events, in one pass over the ledger's rows.

Sums and groups are SQL's job (:mod:`engine.ledger.analytics`); a running peak, a
streak or the union of holding intervals is not something SQLite does well: its window
functions sort and materialise, and over half a million exits they cost seconds each
(measured: ``benchmarks/bench_report.py``). So SQL hands over two compact columns in
commit order (rowid order needs no sort: the ledger's rows are appended as time moves
on; a ledger whose rows are not is sorted here) and this module walks them once:

- the closed-trade equity curve (exits' PnL, buy fills' fees negative), one point per
  distinct time, its max drawdown, when it started, bottomed and recovered;
- the longest runs of winning and losing trades;
- the time at least one closed lot was held (the union of holding intervals);
- an optional downsampled curve for charts (lowest and highest point per slot).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import accumulate, chain, compress, groupby, islice
from operator import itemgetter, le, ne, sub

QUARTER_HOUR = 900  # seconds: every time zone's offset is a whole number of these


@dataclass(frozen=True, slots=True)
class DrawdownFigures:
    """The largest fall of the closed-trade equity curve from a running peak.

    ``amount`` in cash units; times are the peak (``start``; None: the scope's start),
    the lowest point after it (``end``) and when the curve first regained the peak
    (``recovered``; None: never in scope)."""

    amount: int = 0
    peak: int = 0  # cumulative PnL at the peak (cash units, from the scope's start)
    start: float | None = None
    end: float | None = None
    recovered: float | None = None


@dataclass(slots=True)
class Sequence:
    drawdown: DrawdownFigures = DrawdownFigures()
    max_win_streak: int = 0
    max_loss_streak: int = 0
    in_market_s: float = 0.0
    first: float | None = None  # the first and last event in scope
    last: float | None = None
    curve: list[tuple[float, int]] = field(default_factory=list)  # (time, cumulative PnL)


def walk(
    exits: list[tuple[float, int, float | None]],
    fees: list[tuple[float, int]],
    curve_points: int = 0,
) -> Sequence:
    """`exits`: (time, PnL, holding seconds) per exit row; `fees`: (time, fee) per buy
    fill with a fee; both in commit order. Cash in the ledger's units.

    Written with the builtins that loop in C (zip, map, accumulate, sorted, re): the same
    arithmetic as a plain loop, several times faster over a million rows."""
    out = Sequence()
    times = [e[0] for e in exits]
    if not all(map(le, times, islice(times, 1, None))):
        exits = sorted(exits, key=itemgetter(0))  # stable: ties keep commit order
        times = [e[0] for e in exits]
    pnl = [e[1] for e in exits]
    held = [e[2] for e in exits]
    out.max_win_streak, out.max_loss_streak = _streaks(pnl)
    steps = _steps(times, pnl, fees)
    if steps:
        out.first, out.last = steps[0][0], steps[-1][0]
        out.drawdown = _drawdown(steps)
        if curve_points:
            out.curve = _curve(steps, curve_points)
    out.in_market_s = _union(
        sorted((at - h, at) for at, h in zip(times, held, strict=True) if h is not None and h > 0)
    )
    return out


def _streaks(pnl: list[int]) -> tuple[int, int]:
    """Longest runs of wins and of losses, in time order (a flat trade breaks both):
    the signs as one string of W/L/- and its longest runs, found by the regex engine."""
    signs = "".join(["W" if p > 0 else "L" if p < 0 else "-" for p in pnl])
    wins = max(map(len, re.findall("W+", signs)), default=0)
    losses = max(map(len, re.findall("L+", signs)), default=0)
    return wins, losses


def _steps(
    times: list[float], pnl: list[int], fees: list[tuple[float, int]]
) -> list[tuple[float, int]]:
    """Exits' PnL and buy fees (negative) as one stream in time order, one (time,
    cumulative PnL) per distinct time. Two sorted runs: sorted() merges them in linear
    time, keeping each time's exits before its fees (which changes no sum)."""
    if fees:
        buys = ((at, -fee) for at, fee in fees)
        merged = sorted(chain(zip(times, pnl, strict=True), buys), key=itemgetter(0))
        times = list(map(itemgetter(0), merged))
        deltas: Iterable[int] = map(itemgetter(1), merged)
    else:
        deltas = pnl
    if not times:
        return []
    last_of_time = map(ne, times, chain(islice(times, 1, None), (None,)))
    return list(compress(zip(times, accumulate(deltas), strict=True), last_of_time))


def _drawdown(steps: list[tuple[float, int]]) -> DrawdownFigures:
    """Largest fall from a running peak (the scope's start is a peak at 0); the peak is
    the latest time the curve stood at it before the low."""
    cums = list(map(itemgetter(1), steps))
    peaks = list(accumulate(cums, max, initial=0))[1:]
    falls = list(map(sub, peaks, cums))
    worst = max(falls)
    if worst <= 0:
        return DrawdownFigures()
    low = falls.index(worst)
    peak = peaks[low]
    # The peak's time: the last time at it before the low (none: the scope's start, 0).
    top = low - cums[low::-1].index(peak) if peak in cums[: low + 1] else None
    # Recovery: the first time after the low at or above the peak, either where the
    # running peak first rises past it or, before that, a time exactly at it.
    above = bisect_right(peaks, peak, low + 1)
    try:
        back: int | None = cums.index(peak, low + 1, above)
    except ValueError:
        back = above if above < len(cums) else None
    return DrawdownFigures(
        worst,
        peak,
        None if top is None else steps[top][0],
        steps[low][0],
        None if back is None else steps[back][0],
    )


def _curve(steps: list[tuple[float, int]], points: int) -> list[tuple[float, int]]:
    """At most ~`points` points: per time slot its first, lowest, highest, last value."""
    first, last = steps[0][0], steps[-1][0]
    width = max((last - first) / max(1, points // 4), 1e-9)
    out: list[tuple[float, int]] = []
    for _, group in groupby(steps, key=lambda s: int((s[0] - first) // width)):
        slot = list(group)
        keep = {slot[0], min(slot, key=itemgetter(1)), max(slot, key=itemgetter(1)), slot[-1]}
        out.extend(sorted(keep))
    return out


def _union(intervals: list[tuple[float, float]]) -> float:
    """Length of the union of [start, end] intervals sorted by start: the whole span less
    the gaps where a start lies past every end before it."""
    if not intervals:
        return 0.0
    starts = [s for s, _ in intervals]
    reach = list(accumulate((e for _, e in intervals), max))
    gaps = sum(s - r for s, r in zip(starts[1:], reach, strict=False) if s > r)
    return reach[-1] - starts[0] - gaps

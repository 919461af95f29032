"""The figures that depend on the order of events, in one pass over the ledger's rows.

Sums and groups are mostly SQL's job (:mod:`engine.ledger.analytics`); a running peak, a
streak or the union of holding intervals is not something SQLite does well: its window
functions sort and materialise, and over half a million exits they cost seconds each
(measured: ``benchmarks/bench_report.py``). So SQL hands over a few columns in commit
order (rowid order needs no sort: the ledger's rows are appended as time moves on; a
ledger whose rows are not is sorted here) and this module walks them as numpy arrays,
with no Python object per row:

- the closed-trade equity curve (exits' PnL, buy fills' fees negative), one point per
  distinct time, its max drawdown, when it started, bottomed and recovered;
- the longest runs of winning and losing trades;
- the time at least one closed lot was held (the union of holding intervals);
- PnL, trades, wins and fees per quarter hour (faces group them into days in any zone);
- an optional downsampled curve for charts (first, lowest, highest, last point per slot);
- the trades' sums (the summary reads these columns anyway: a second scan of every exit
  in SQL would cost more than adding them here, in SQL's order, to the same floats).

Money stays exact: cash is int64 while no running sum can leave int64's range (checked
up front; past it the arrays hold Python ints, slower and still exact). Times are the
stored floats, compared and subtracted as Python would.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.ledger.figures import QUARTER_HOUR, DrawdownFigures, Sequence, TradeFigures

__all__ = [
    "QUARTER_HOUR",
    "Columns",
    "DrawdownFigures",
    "Sequence",
    "TradeFigures",
    "quarter_buckets",
    "trade_figures",
    "walk",
    "walk_columns",
]

_SAFE = float(2**62)  # a sum of absolute values below this cannot overflow int64

Floats = npt.NDArray[np.float64]
Cash = npt.NDArray[Any]  # int64, or Python ints (object) where int64 could overflow

UNKNOWN = float("-inf")  # a holding time the ledger does not have (NULL)


@dataclass(frozen=True, slots=True)
class Columns:
    """The exits and the fee-paying fills in scope, in commit order, as arrays."""

    exit_at: Floats
    pnl: Cash  # each exit's realised PnL (cash units)
    held: Floats  # its holding seconds (UNKNOWN: not recorded)
    cost: Floats  # its lot's cost, entry price x shares (price x size units), as a float
    fee_at: Floats
    fee: Cash  # each fill's fee (cash units, non-zero)
    buy: npt.NDArray[np.bool_]  # the fill was a buy (its fee is realised when paid)

    @classmethod
    def of(
        cls,
        exits: list[tuple[float, int, float | None]],
        fees: list[tuple[float, int, bool]],
    ) -> Columns:
        """From rows: exits (time, PnL, holding seconds or None), fills (time, fee, is a
        buy)."""
        rows = [(at, pnl, UNKNOWN if held is None else held, 0) for at, pnl, held in exits]
        return cls.read([rows], [fees])

    @classmethod
    def read(
        cls,
        exits: Iterable[list[tuple[float, int, float, int]]],
        fees: Iterable[list[tuple[float, int, bool]]],
    ) -> Columns:
        """From batches of rows (a cursor's fetchmany): exits (time, PnL, holding seconds
        or UNKNOWN, entry price x shares), fills (time, fee, is a buy). Each batch
        becomes array cells and is dropped, so no list of every row is ever held."""
        e = [
            (
                np.fromiter(map(itemgetter(0), rows), np.float64, len(rows)),
                np.fromiter(map(itemgetter(1), rows), np.int64, len(rows)),
                np.fromiter(map(itemgetter(2), rows), np.float64, len(rows)),
                np.fromiter(map(itemgetter(3), rows), np.float64, len(rows)),
            )
            for rows in exits
        ]
        f = [
            (
                np.fromiter(map(itemgetter(0), rows), np.float64, len(rows)),
                np.fromiter(map(itemgetter(1), rows), np.int64, len(rows)),
                np.fromiter(map(itemgetter(2), rows), np.bool_, len(rows)),
            )
            for rows in fees
        ]
        return cls(
            _joined([x[0] for x in e], np.float64),
            _joined([x[1] for x in e], np.int64),
            _joined([x[2] for x in e], np.float64),
            _joined([x[3] for x in e], np.float64),
            _joined([x[0] for x in f], np.float64),
            _joined([x[1] for x in f], np.int64),
            _joined([x[2] for x in f], np.bool_),
        )


def _joined(parts: list[npt.NDArray[Any]], dtype: type[Any]) -> npt.NDArray[Any]:
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def _exact(a: Cash, b: Cash) -> tuple[Cash, Cash]:
    """Both as int64 if every sum over both fits, else both as Python ints."""
    if a.dtype == np.int64 and b.dtype == np.int64:
        total = float(np.abs(a.astype(np.float64)).sum() + np.abs(b.astype(np.float64)).sum())
        if total < _SAFE:
            return a, b
    return a.astype(object), b.astype(object)


def walk(
    exits: list[tuple[float, int, float | None]],
    fees: list[tuple[float, int]],
    curve_points: int = 0,
) -> Sequence:
    """`exits`: (time, PnL, holding seconds) per exit row; `fees`: (time, fee) per buy
    fill with a fee; both in commit order. Cash in the ledger's units."""
    return walk_columns(Columns.of(exits, [(at, fee, True) for at, fee in fees]), curve_points)


def walk_columns(cols: Columns, curve_points: int = 0) -> Sequence:
    """The order-dependent figures of `cols`; `curve_points` > 0 adds a chart's curve."""
    out = Sequence()
    times, pnl, held = cols.exit_at, cols.pnl, cols.held
    if times.size > 1 and bool(np.any(times[1:] < times[:-1])):
        order = np.argsort(times, kind="stable")  # stable: ties keep commit order
        times, pnl, held = times[order], pnl[order], held[order]
    out.max_win_streak = _longest(pnl > 0)
    out.max_loss_streak = _longest(pnl < 0)
    steps = _steps(times, pnl, cols.fee_at[cols.buy], cols.fee[cols.buy])
    if steps[0].size:
        out.first, out.last = float(steps[0][0]), float(steps[0][-1])
        out.drawdown = _drawdown(*steps)
        if curve_points:
            out.curve = _curve(*steps, curve_points)
    out.in_market_s = _union(times, held)
    return out


def _longest(mask: npt.NDArray[np.bool_]) -> int:
    """The longest run of True (a flat trade breaks both kinds of streak)."""
    if not mask.size:
        return 0
    edges = np.diff(np.concatenate(([False], mask, [False])).astype(np.int8))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int((ends - starts).max()) if starts.size else 0


def _steps(times: Floats, pnl: Cash, fee_at: Floats, fee: Cash) -> tuple[Floats, Cash]:
    """Exits' PnL and buy fees (negative) as one stream in time order, one (time,
    cumulative PnL) per distinct time; at one time exits come before fees (which
    changes no sum)."""
    pnl, fee = _exact(pnl, fee)
    at = np.concatenate((times, fee_at))
    deltas = np.concatenate((pnl, -fee))
    if fee.size:
        order = np.argsort(at, kind="stable")  # exits first at a tie: they come first
        at, deltas = at[order], deltas[order]
    if not at.size:
        return at, deltas
    cums = np.cumsum(deltas)
    last_of_time = np.append(at[1:] != at[:-1], True)
    return at[last_of_time], cums[last_of_time]


def _drawdown(at: Floats, cums: Cash) -> DrawdownFigures:
    """Largest fall from a running peak (the scope's start is a peak at 0); the peak is
    the latest time the curve stood at it before the low."""
    peaks = np.maximum.accumulate(np.concatenate((np.zeros(1, cums.dtype), cums)))[1:]
    falls = peaks - cums
    low = int(np.argmax(falls))  # the first time the worst fall is reached
    worst = int(falls[low])
    if worst <= 0:
        return DrawdownFigures()
    peak = int(peaks[low])
    # The peak's time: the last time at it before the low (none: the scope's start, 0).
    at_peak = np.flatnonzero(cums[: low + 1] == peak)
    top = float(at[at_peak[-1]]) if at_peak.size else None
    # Recovery: the first time after the low at or above the peak, either where the
    # running peak first rises past it or, before that, a time exactly at it.
    above = low + 1 + int(np.searchsorted(peaks[low + 1 :], peak, side="right"))
    back_at = np.flatnonzero(cums[low + 1 : above] == peak)
    back = low + 1 + int(back_at[0]) if back_at.size else (above if above < cums.size else None)
    return DrawdownFigures(
        worst, peak, top, float(at[low]), None if back is None else float(at[back])
    )


def _curve(at: Floats, cums: Cash, points: int) -> list[tuple[float, int]]:
    """At most ~`points` points: per time slot its first, lowest, highest, last value."""
    first, last = float(at[0]), float(at[-1])
    width = max((last - first) / max(1, points // 4), 1e-9)
    slots = np.floor_divide(at - first, width)
    bounds = [0, *(np.flatnonzero(slots[1:] != slots[:-1]) + 1).tolist(), int(at.size)]
    out: list[tuple[float, int]] = []
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        part = cums[lo:hi]
        keep = {lo, lo + int(np.argmin(part)), lo + int(np.argmax(part)), hi - 1}
        out.extend((float(at[i]), int(cums[i])) for i in sorted(keep))
    return out


def _union(times: Floats, held: Floats) -> float:
    """Length of the union of the holding intervals [at - held, at]: the whole span less
    the gaps where a start lies past every end before it."""
    some = held > 0
    ends = times[some]
    starts = ends - held[some]
    if not starts.size:
        return 0.0
    order = np.lexsort((ends, starts))
    starts, ends = starts[order], ends[order]
    reach = np.maximum.accumulate(ends)
    gaps = starts[1:] - reach[:-1]
    # Summed left to right as floats (as a plain loop would), not pairwise.
    return float(reach[-1] - starts[0] - sum(gaps[gaps > 0].tolist()))


def quarter_buckets(cols: Columns) -> list[tuple[int, int, int, int, int]]:
    """Per quarter hour (unix seconds // 900, truncated as SQLite's CAST): (bucket, PnL,
    trades, wins, fees), PnL being exits' less buy fees; sorted by bucket."""
    pnl, fee = _exact(cols.pnl, cols.fee)
    q_exit = np.trunc(cols.exit_at / QUARTER_HOUR).astype(np.int64)
    q_fee = np.trunc(cols.fee_at / QUARTER_HOUR).astype(np.int64)
    keys, where = np.unique(np.concatenate((q_exit, q_fee)), return_inverse=True)
    at_exit, at_fee = where[: q_exit.size], where[q_exit.size :]
    zeros = np.zeros(keys.size, pnl.dtype)
    sums, fees = zeros.copy(), zeros.copy()
    np.add.at(sums, at_exit, pnl)
    np.add.at(sums, at_fee, np.where(cols.buy, -fee, zeros[:1]))
    np.add.at(fees, at_fee, fee)
    trades = np.bincount(at_exit, minlength=keys.size)
    wins = np.bincount(at_exit[pnl > 0], minlength=keys.size)
    return [
        (int(q), int(p), int(t), int(w), int(f))
        for q, p, t, w, f in zip(keys, sums, trades, wins, fees, strict=True)
    ]


def _total(values: Floats) -> float:
    """A float sum added left to right, as SQL's total() over the rows in order (numpy's
    sum adds pairwise: other last digits)."""
    return float(np.cumsum(values)[-1]) if values.size else 0.0


def _mean(values: Floats) -> float | None:
    return _total(values) / values.size if values.size else None


def trade_figures(cols: Columns) -> TradeFigures:
    """Sums over the trades (exit rows) in scope, each as SQL would add them in commit
    order (the same float operations in the same order: the same figures)."""
    n = int(cols.pnl.size)
    if not n:
        return TradeFigures()
    pnl, _ = _exact(cols.pnl, cols.pnl[:0])
    won, lost = pnl > 0, pnl < 0
    as_float = cols.pnl.astype(np.float64)
    usdc = as_float / 1e10
    known = cols.held != UNKNOWN
    priced = cols.cost != 0
    ret = as_float[priced] / cols.cost[priced]
    ret_sq = ret * as_float[priced] * 1.0 / cols.cost[priced]
    down = ret_sq[as_float[priced] < 0]
    seconds = cols.cost[known] / 1e10 * cols.held[known]
    return TradeFigures(
        trades=n,
        wins=int(won.sum()),
        losses=int(lost.sum()),
        gross_profit=int(pnl[won].sum()),
        gross_loss=int(pnl[lost].sum()),
        pnl=int(pnl.sum()),
        pnl_sq=_total(usdc * usdc),
        best=int(pnl.max()),
        worst=int(pnl.min()),
        win_holding_s=_mean(cols.held[won & known]),
        loss_holding_s=_mean(cols.held[lost & known]),
        returns=int(priced.sum()),
        ret_sum=_total(ret),
        ret_sq=_total(ret_sq),
        ret_down_sq=_total(down),
        cost_seconds=_total(seconds),
    )

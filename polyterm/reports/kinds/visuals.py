"""The charts kinds attach, built from the ledger's aggregates (bounded in size)."""

from __future__ import annotations

from engine.execution.exit_reasons import LABELS, ExitReason
from engine.fixed import ONE
from polyterm.reports import charts
from polyterm.reports.context import SCATTER_POINTS, Context
from polyterm.reports.document import Chart
from polyterm.reports.metrics import Summary

CALIBRATION_BUCKET = ONE // 10  # 10¢ price buckets


def equity(ctx: Context, summary: Summary) -> Chart:
    start = summary.starting_equity or 0
    first, _ = ctx.analytics.span()
    points = list(summary.sequence.curve)
    if first is not None and (not points or points[0][0] > first):
        points.insert(0, (first, 0))
    times, values, under = [], [], []
    peak = 0
    for at, cum in points:
        peak = max(peak, cum)
        top = start + peak
        times.append(ctx.scope.iso(at) or "")
        values.append((start + cum) / 1e10)
        under.append(-100.0 * (peak - cum) / top if top > 0 else 0.0)
    return charts.equity(times, values, under)


def daily(summary: Summary) -> Chart:
    return charts.daily([str(d.day) for d in summary.days], [d.pnl / 1e10 for d in summary.days])


def by_strategy(ctx: Context) -> Chart:
    pnl: dict[str, int] = {}
    for strategy, _, _, p in ctx.analytics.exit_groups(by_strategy=True):
        pnl[strategy or "(none)"] = pnl.get(strategy or "(none)", 0) + p
    names = sorted(pnl)
    return charts.by_strategy(names, [pnl[n] / 1e10 for n in names])


def exit_reasons(ctx: Context) -> Chart:
    counts: dict[ExitReason, int] = {}
    for _, reason, n, _ in ctx.analytics.exit_groups():
        counts[reason] = counts.get(reason, 0) + n
    return charts.exit_reasons(counts)


def calibration_points(ctx: Context) -> list[tuple[int, int, float, float, float, float]]:
    """Per price bucket over every strategy: (bucket, fills, shares, avg price, won
    share, Brier sum)."""
    merged: dict[int, list[float]] = {}
    for _, bucket, n, shares, paid, won, sq in ctx.analytics.calibration(CALIBRATION_BUCKET):
        cell = merged.setdefault(bucket, [0, 0.0, 0.0, 0.0, 0.0])
        cell[0] += n
        cell[1] += shares
        cell[2] += paid
        cell[3] += won
        cell[4] += sq
    return [
        (b, int(c[0]), c[1], c[2] / c[1] if c[1] else 0.0, c[3] / c[1] if c[1] else 0.0, c[4])
        for b, c in sorted(merged.items())
    ]


def calibration(ctx: Context) -> Chart:
    rows = calibration_points(ctx)
    return charts.calibration([r[3] for r in rows], [r[4] for r in rows], [r[2] for r in rows])


def excursions(ctx: Context) -> Chart:
    sample = ctx.analytics.sample_exits(SCATTER_POINTS)
    return charts.excursions(
        [mae / 100 for _, mae, _, _ in sample],
        [mfe / 100 for _, _, mfe, _ in sample],
        [p / 1e10 for p, _, _, _ in sample],
        [f"{LABELS[r]}: {p / 1e10:+.2f} USDC" for p, _, _, r in sample],
    )


def all_charts(ctx: Context, summary: Summary) -> list[Chart]:
    return [
        equity(ctx, summary),
        daily(summary),
        by_strategy(ctx),
        exit_reasons(ctx),
        calibration(ctx),
        excursions(ctx),
    ]

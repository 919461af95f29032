"""``report calibration``: in every market that resolved, the price paid against the
outcome. Each buy fill is a forecast (its price) of its token winning, weighted by its
shares: Brier = sum(shares x (price - outcome)^2) / sum(shares), 0 best, 0.25 a coin."""

from __future__ import annotations

from decimal import Decimal

from polyterm.reports.context import Context
from polyterm.reports.document import Column, Figure, Report, Table
from polyterm.reports.kinds.visuals import CALIBRATION_BUCKET, calibration, calibration_points

BUCKET_CENTS = CALIBRATION_BUCKET // 100
CENT = Decimal("0.01")
TENTH_OF_A_CENT = Decimal("0.001")


def build(ctx: Context) -> Report:
    a = ctx.analytics
    points = calibration_points(ctx)
    shares = sum(p[2] for p in points)
    brier = sum(p[5] for p in points) / shares if shares else None
    buckets = Table(
        "buckets",
        "Calibration by price bucket",
        (
            Column("low", "Price paid from", "price"),
            Column("high", "to below", "price"),
            Column("fills", "Fills", "int"),
            Column("shares", "Shares", "ratio"),
            Column("avg_price", "Average price", "price"),
            Column("won", "Share that won", "score"),
            Column("brier", "Brier", "score"),
        ),
        [
            (
                b * BUCKET_CENTS * CENT,
                (b + 1) * BUCKET_CENTS * CENT,
                n,
                w,
                Decimal(price).quantize(TENTH_OF_A_CENT),
                won,
                sq / w if w else None,
            )
            for b, n, w, price, won, sq in points
        ],
    )
    per: dict[str, list[float]] = {}
    for strategy, _, n, w, _, _, sq in a.calibration(CALIBRATION_BUCKET):
        cell = per.setdefault(strategy, [0, 0.0, 0.0])
        cell[0] += n
        cell[1] += w
        cell[2] += sq
    strategies = Table(
        "strategies",
        "Brier per strategy",
        (
            Column("strategy", "Strategy"),
            Column("fills", "Fills", "int"),
            Column("shares", "Shares", "ratio"),
            Column("brier", "Brier", "score"),
        ),
        [(s, int(c[0]), c[1], c[2] / c[1] if c[1] else None) for s, c in sorted(per.items())],
    )
    resolved = len(set(a.outcomes().market_of.values()))
    report = Report("calibration", "Calibration", ctx.header())
    report.figures = [
        Figure("resolved_markets", "Resolved markets", resolved, "int"),
        Figure("fills", "Buy fills in them", sum(p[1] for p in points), "int"),
        Figure("brier", "Brier score", brier, "score"),
    ]
    report.tables = [buckets, strategies]
    if ctx.charts:
        report.charts = [calibration(ctx)]
    if not points:
        report.empty = "no buy fill in a market that resolved in this scope"
    return report

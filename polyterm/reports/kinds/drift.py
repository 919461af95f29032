"""``report drift``: where the venue filled a live order differently from the paper model.

In a live run the paper model prices every live order too, on the same books, and keeps
what it would have done apart (``shadow_orders``/``shadow_fills``). Per order: what each
filled (shares, average price, seconds from the order to its first fill) and the
differences; over the scope: fill rates, and the mean and median price and time
differences. A price difference is in bps of the shadow's average price, signed so that
positive means the venue did worse for us (a buy paid more, a sell got less).
"""

from __future__ import annotations

import statistics
from decimal import ROUND_HALF_EVEN, Decimal

from engine.fixed import PRICE_SCALE, price_decimal, size_decimal
from engine.ledger.analytics import DriftOrder, Filled
from polyterm.reports import charts
from polyterm.reports.context import Context
from polyterm.reports.document import Column, Figure, Report, Table
from polyterm.reports.metrics import usdc

NOTHING = "nothing live to compare: no live order with a paper shadow in this scope"
_PRICE_STEP = Decimal("0.000001")  # an average price is shown to 1e-6 dollars


def average_price(side: Filled) -> Decimal | None:
    """The side's size-weighted average price (dollars), None if it filled nothing."""
    if not side.shares:
        return None
    return (Decimal(side.notional) / side.shares / PRICE_SCALE).quantize(
        _PRICE_STEP, ROUND_HALF_EVEN
    )


def price_diff_bps(order: DriftOrder) -> float | None:
    """(venue average - shadow average) / shadow average x 1e4, negated for a sell; None
    unless both filled. From the exact notionals, not the rounded averages."""
    v, s = order.venue, order.shadow
    if not v.shares or not s.shares or not s.notional:
        return None
    diff = (v.notional / v.shares - s.notional / s.shares) / (s.notional / s.shares) * 1e4
    return diff if order.side == "BUY" else -diff


def _to_fill(order: DriftOrder, side: Filled) -> float | None:
    return None if side.first_at is None else side.first_at - order.created_at


def _pct(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def _mean(xs: list[float]) -> float | None:
    return statistics.fmean(xs) if xs else None


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def build(ctx: Context) -> Report:
    orders = ctx.analytics.drift_orders()
    rows: list[tuple[object, ...]] = []
    bps: list[float] = []
    per_order: list[float | None] = []
    waits: list[float] = []
    for o in orders:
        diff = price_diff_bps(o)
        per_order.append(diff)
        venue_wait, shadow_wait = _to_fill(o, o.venue), _to_fill(o, o.shadow)
        wait = None if venue_wait is None or shadow_wait is None else venue_wait - shadow_wait
        if diff is not None:
            bps.append(diff)
        if wait is not None:
            waits.append(wait)
        rows.append(
            (
                o.order_id,
                o.run_id,
                o.created_at,
                ctx.token(o.asset_id, o.market),
                o.side,
                o.strategy,
                size_decimal(o.size),
                price_decimal(o.price),
                o.status,
                size_decimal(o.venue.shares),
                average_price(o.venue),
                usdc(o.venue.fees),
                venue_wait,
                o.shadow_status,
                size_decimal(o.shadow.shares),
                average_price(o.shadow),
                usdc(o.shadow.fees),
                shadow_wait,
                size_decimal(o.venue.shares - o.shadow.shares),
                diff,
                wait,
            )
        )
    ordered = sum(o.size for o in orders)
    venue_filled = sum(o.venue.shares for o in orders)
    shadow_filled = sum(o.shadow.shares for o in orders)
    venue_rate, shadow_rate = _pct(venue_filled, ordered), _pct(shadow_filled, ordered)
    both = sum(1 for o in orders if o.venue.shares and o.shadow.shares)
    report = Report("drift", "Drift: the venue against the paper model", ctx.header())
    report.figures = [
        Figure("orders", "Live orders with a shadow", len(orders), "int"),
        Figure("both_filled", "Filled by both", both, "int"),
        Figure(
            "venue_only",
            "Filled by the venue only",
            sum(1 for o in orders if o.venue.shares and not o.shadow.shares),
            "int",
        ),
        Figure(
            "shadow_only",
            "Filled by the paper model only",
            sum(1 for o in orders if o.shadow.shares and not o.venue.shares),
            "int",
        ),
        Figure("ordered_shares", "Shares ordered", size_decimal(ordered), "shares"),
        Figure("venue_filled_shares", "Shares filled, venue", size_decimal(venue_filled), "shares"),
        Figure(
            "shadow_filled_shares", "Shares filled, paper", size_decimal(shadow_filled), "shares"
        ),
        Figure("venue_fill_rate_pct", "Fill rate, venue", venue_rate, "pct"),
        Figure("shadow_fill_rate_pct", "Fill rate, paper", shadow_rate, "pct"),
        Figure(
            "fill_rate_diff_pct",
            "Fill rate difference (venue - paper, points)",
            None if venue_rate is None or shadow_rate is None else venue_rate - shadow_rate,
            "pct",
        ),
        Figure("mean_price_diff_bps", "Mean price difference", _mean(bps), "bps"),
        Figure("median_price_diff_bps", "Median price difference", _median(bps), "bps"),
        Figure(
            "mean_time_to_fill_diff_s", "Mean time-to-fill difference", _mean(waits), "duration"
        ),
        Figure(
            "median_time_to_fill_diff_s",
            "Median time-to-fill difference",
            _median(waits),
            "duration",
        ),
    ]
    report.tables = [
        Table(
            "orders",
            "Live orders against their paper shadow",
            (
                Column("order_id", "Order"),
                Column("run", "Run", "int"),
                Column("created_at", "Placed", "time"),
                Column("token", "Market"),
                Column("side", "Side"),
                Column("strategy", "Strategy"),
                Column("size", "Ordered", "shares"),
                Column("limit", "Limit", "price"),
                Column("venue_status", "Venue status"),
                Column("venue_filled", "Venue filled", "shares"),
                Column("venue_price", "Venue price", "price"),
                Column("venue_fees", "Venue fees", "money"),
                Column("venue_time_to_fill_s", "Venue to fill", "duration"),
                Column("shadow_status", "Paper status"),
                Column("shadow_filled", "Paper filled", "shares"),
                Column("shadow_price", "Paper price", "price"),
                Column("shadow_fees", "Paper fees", "money"),
                Column("shadow_time_to_fill_s", "Paper to fill", "duration"),
                Column("size_diff", "Size diff", "shares"),
                Column("price_diff_bps", "Price diff", "bps"),
                Column("time_to_fill_diff_s", "To-fill diff", "duration"),
            ),
            rows,
            note="differences are venue - paper; price diff in bps of the paper price, "
            "positive where the venue did worse (a buy paid more, a sell got less)",
        )
    ]
    if ctx.charts:
        labels = [str(r[0]) for r in rows]
        report.charts = [
            charts.drift(
                labels,
                per_order,
                [float(o.venue.shares - o.shadow.shares) / 1e6 for o in orders],
            )
        ]
    if not orders:
        report.empty = NOTHING
    return report

"""``report daily``: one day's summary with its event-driven section (the seed's
``analyze_yesterday``). The day is ``--date``, or else the ledger's last trading day."""

from __future__ import annotations

from dataclasses import replace

from engine.ledger.analytics import LedgerAnalytics, Scope
from polyterm.reports.context import CHART_POINTS, Context
from polyterm.reports.document import Figure, Report
from polyterm.reports.kinds import event_driven, summary, visuals
from polyterm.reports.metrics import summarize
from polyterm.reports.scope import ReportScope


def _last_day(ctx: Context) -> ReportScope | None:
    where, params = ctx.analytics.where()
    (last,) = ctx.analytics.query(
        f"SELECT max(at) FROM (SELECT at FROM fills{where} UNION ALL SELECT at FROM exits{where})",
        (*params, *params),
    )[0]
    if last is None:
        return None
    day = ctx.scope.day_of(last)
    start, end = ctx.scope.day_bounds(day)
    base = ctx.scope.scope
    return ReportScope(
        Scope(base.run, start, end), ctx.scope.tz, f"{day} ({ctx.scope.tz.key})", day
    )


def build(ctx: Context) -> Report:
    scope = ctx.scope if ctx.scope.day is not None else _last_day(ctx)
    if scope is None:
        report = Report("daily", "Daily", ctx.header())
        report.empty = "no trading day in this scope"
        return report
    day_ctx = replace(
        ctx,
        analytics=LedgerAnalytics(ctx.analytics.conn, scope.scope, ctx.analytics.reason_of),
        scope=scope,
    )
    s = summarize(day_ctx.analytics, scope, CHART_POINTS if ctx.charts else 0)
    report = Report("daily", f"Daily: {scope.day}", day_ctx.header())
    report.figures = [Figure("day", "Day", str(scope.day), "text"), *summary.figures(s)]
    ev_figures, ev_tables = event_driven.section(day_ctx)
    report.figures += ev_figures
    report.tables = [summary.rejects_table(s), *ev_tables]
    if ctx.charts:
        report.charts = [visuals.equity(day_ctx, s), visuals.exit_reasons(day_ctx)]
    if not s.fills and not s.trades.trades:
        report.empty = f"no fills and no trades on {scope.day}"
    return report

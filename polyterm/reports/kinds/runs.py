"""``report runs``: every run the scope touches: mode, venue, times, config hash."""

from __future__ import annotations

from decimal import Decimal

from polyterm.reports.context import Context, config_hash
from polyterm.reports.document import Column, Report, Table


def build(ctx: Context) -> Report:
    rows = []
    for run in ctx.analytics.runs():
        s = run.summary or {}
        duration = None if run.ended_at is None else run.ended_at - run.started_at
        equity = s.get("equity")
        rows.append(
            (
                run.id,
                run.mode,
                run.venue,
                run.started_at,
                run.ended_at,
                duration,
                config_hash(run.config_json),
                s.get("fills"),
                s.get("orders"),
                None if equity is None else Decimal(str(equity)),
                s.get("state"),
            )
        )
    table = Table(
        "runs",
        "Runs",
        (
            Column("id", "Run", "int"),
            Column("mode", "Mode"),
            Column("venue", "Venue"),
            Column("started_at", "Started", "time"),
            Column("ended_at", "Ended", "time"),
            Column("duration_s", "Duration", "duration"),
            Column("config_hash", "Config"),
            Column("fills", "Fills", "int"),
            Column("orders", "Orders", "int"),
            Column("final_equity", "Final equity", "money"),
            Column("state", "State"),
        ),
        rows,
        note="an open run (no end) is still running or stopped without its summary",
    )
    report = Report("runs", "Runs", ctx.header(), tables=[table])
    if not rows:
        report.empty = "no run in this scope"
    return report

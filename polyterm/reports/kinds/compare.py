"""``report compare LEDGER...``: the summary's main figures of several ledgers (runs,
variants, paper against live), one row each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from polyterm.reports.context import Context, header, open_context, run_ids
from polyterm.reports.document import Column, Figure, Report, Table
from polyterm.reports.kinds.visuals import calibration_points
from polyterm.reports.metrics import Summary, summarize, usdc
from polyterm.reports.scope import ReportScope

FIGURES = (
    Column("return_pct", "Return", "pct"),
    Column("realized_pnl", "Realized PnL", "pnl"),
    Column("final_equity", "Final equity", "money"),
    Column("max_drawdown_pct", "Max drawdown", "pct"),
    Column("sharpe_daily", "Sharpe (daily)", "ratio"),
    Column("sharpe_trade", "Sharpe (trade)", "ratio"),
    Column("trades", "Trades", "int"),
    Column("win_rate_pct", "Win rate", "pct"),
    Column("profit_factor", "Profit factor", "ratio"),
    Column("fees", "Fees", "money"),
    Column("fills", "Fills", "int"),
    Column("brier", "Brier", "score"),
)


def brier(ctx: Context) -> float | None:
    points = calibration_points(ctx)
    shares = sum(p[2] for p in points)
    return sum(p[5] for p in points) / shares if shares else None


def figures_row(ctx: Context, s: Summary) -> tuple[Any, ...]:
    return (
        s.return_pct,
        usdc(s.realized),
        s.final_equity,
        s.drawdown_pct,
        s.sharpe_daily,
        s.sharpe_trade,
        s.trades.trades,
        s.win_rate,
        s.profit_factor,
        usdc(s.fees),
        s.fills,
        brier(ctx),
    )


def build_many(paths: list[Path], scope: ReportScope) -> Report:
    rows = []
    modes: set[str] = set()
    for path in paths:
        with open_context(path, scope, charts=False) as ctx:
            s = summarize(ctx.analytics, scope)
            modes.update(r.mode for r in s.runs)
            rows.append(
                (str(path), run_ids(s.runs), ", ".join(sorted({r.mode for r in s.runs})))
                + figures_row(ctx, s)
            )
    table = Table(
        "ledgers",
        "Ledgers side by side",
        (Column("ledger", "Ledger"), Column("runs", "Runs"), Column("mode", "Mode"), *FIGURES),
        rows,
    )
    head = header(Path(paths[0]).parent, scope, [])
    head[0] = Figure("ledgers", "Ledgers", len(paths), "int")
    head[3] = Figure("mode", "Mode", ", ".join(sorted(modes)) or "—", "text")
    del head[2]
    return Report("compare", "Compare", head, tables=[table])

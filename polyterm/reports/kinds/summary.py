"""``report summary``: the account over the scope, every figure the README defines."""

from __future__ import annotations

from polyterm.reports.context import CHART_POINTS, Context
from polyterm.reports.document import Column, Figure, Report, Table
from polyterm.reports.kinds import visuals
from polyterm.reports.metrics import Summary, summarize, usdc


def figures(s: Summary) -> list[Figure]:
    """The summary's figures, in the order a person reads them (also `compare`'s rows)."""
    t = s.trades
    d = s.drawdown
    best, worst = s.best_day, s.worst_day
    start = None if s.starting_equity is None else usdc(s.starting_equity)
    return [
        Figure("starting_equity", "Starting equity", start, "money"),
        Figure("final_equity", "Final equity (recorded)", s.final_equity, "money"),
        Figure("realized_pnl", "Realized PnL", usdc(s.realized), "pnl"),
        Figure("unrealized_pnl", "Unrealized PnL (recorded)", s.unrealized, "pnl"),
        Figure("fees", "Fees", usdc(s.fees), "money"),
        Figure("fills", "Fills", s.fills, "int"),
        Figure("volume", "Volume traded", usdc(s.volume), "money"),
        Figure("return_pct", "Return", s.return_pct, "pct"),
        Figure("trades", "Trades", t.trades, "int"),
        Figure("wins", "Winning trades", t.wins, "int"),
        Figure("losses", "Losing trades", t.losses, "int"),
        Figure("win_rate_pct", "Win rate", s.win_rate, "pct"),
        Figure("profit_factor", "Profit factor", s.profit_factor, "ratio"),
        Figure("expectancy", "Expectancy (per trade)", s.expectancy, "pnl"),
        Figure("avg_win", "Average win", s.avg_win, "pnl"),
        Figure("avg_loss", "Average loss", s.avg_loss, "pnl"),
        Figure("best_trade", "Best trade", None if t.best is None else usdc(t.best), "pnl"),
        Figure("worst_trade", "Worst trade", None if t.worst is None else usdc(t.worst), "pnl"),
        Figure("best_day", "Best day", None if best is None else str(best.day), "text"),
        Figure("best_day_pnl", "Best day PnL", None if best is None else usdc(best.pnl), "pnl"),
        Figure("worst_day", "Worst day", None if worst is None else str(worst.day), "text"),
        Figure("worst_day_pnl", "Worst day PnL", None if worst is None else usdc(worst.pnl), "pnl"),
        Figure("max_drawdown", "Max drawdown", usdc(d.amount), "money"),
        Figure("max_drawdown_pct", "Max drawdown %", s.drawdown_pct, "pct"),
        Figure("max_drawdown_start", "Drawdown start (peak)", d.start, "time"),
        Figure("max_drawdown_end", "Drawdown end (low)", d.end, "time"),
        Figure("max_drawdown_duration_s", "Drawdown duration", s.drawdown_s, "duration"),
        Figure("max_drawdown_recovered", "Drawdown recovered", d.recovered, "time"),
        Figure("sharpe_daily", "Sharpe (daily)", s.sharpe_daily, "ratio"),
        Figure("sortino_daily", "Sortino (daily)", s.sortino_daily, "ratio"),
        Figure("sharpe_trade", "Sharpe (per trade)", s.sharpe_trade, "ratio"),
        Figure("sortino_trade", "Sortino (per trade)", s.sortino_trade, "ratio"),
        Figure("calmar", "Calmar", s.calmar, "ratio"),
        Figure("sqn", "SQN", s.sqn, "ratio"),
        Figure("exposure_pct", "Exposure", s.exposure_pct, "pct"),
        Figure("time_in_market_pct", "Time in market", s.time_in_market_pct, "pct"),
        Figure("max_win_streak", "Max consecutive wins", s.sequence.max_win_streak, "int"),
        Figure("max_loss_streak", "Max consecutive losses", s.sequence.max_loss_streak, "int"),
        Figure("avg_win_holding_s", "Average holding, winners", t.win_holding_s, "duration"),
        Figure("avg_loss_holding_s", "Average holding, losers", t.loss_holding_s, "duration"),
        Figure("days", "Days", len(s.days), "int"),
    ]


def days_table(s: Summary) -> Table:
    return Table(
        "days",
        "Days",
        (
            Column("day", "Day"),
            Column("pnl", "PnL", "pnl"),
            Column("trades", "Trades", "int"),
            Column("wins", "Wins", "int"),
            Column("fees", "Fees", "money"),
            Column("return_pct", "Return", "pct"),
        ),
        [(str(d.day), usdc(d.pnl), d.trades, d.wins, usdc(d.fees), 100.0 * d.ret) for d in s.days],
    )


def rejects_table(s: Summary) -> Table:
    return Table(
        "rejected_entries",
        "Rejected entries by reason",
        (Column("reason", "Reason"), Column("count", "Count", "int")),
        [(r, n) for r, n in s.rejects],
    )


def build(ctx: Context) -> Report:
    s = summarize(ctx.analytics, ctx.scope, CHART_POINTS if ctx.charts else 0)
    report = Report("summary", "Summary", ctx.header(), figures(s))
    report.tables = [rejects_table(s), days_table(s)]
    if ctx.charts:
        report.charts = visuals.all_charts(ctx, s)
    if not s.fills and not s.trades.trades:
        report.empty = "no fills and no trades in this scope"
    return report

"""``report strategies``: per strategy and market, the trades, win rate and PnL, with
combined decisions ("a+b") credited to their voters by weight = confidence (the signal's
strength) x its size hint (1 where the signal recorded none); and each strategy's exits."""

from __future__ import annotations

from engine.orders import StrategyId
from polyterm.reports.context import Context
from polyterm.reports.document import Column, Report, Table
from polyterm.reports.kinds import visuals
from polyterm.reports.kinds.exits import per_strategy_table
from polyterm.reports.metrics import usdc


def _weights(ctx: Context) -> dict[tuple[str, str], dict[str, float]]:
    """(order's strategy id, market) -> {voter: summed weight} over its entry orders."""
    where, params = ctx.analytics.where(at="o.created_at", prefix="o.")
    rows = ctx.analytics.query(
        "SELECT o.strategy, o.market, s.strategy,"
        " total(s.strength * coalesce(json_extract(s.inputs_json, '$.size_hint'), 1))"
        f" FROM orders o JOIN signals s ON s.order_id = o.id{where}"
        f"{' AND' if where else ' WHERE'} o.is_exit = 0 GROUP BY 1, 2, 3",
        params,
    )
    out: dict[tuple[str, str], dict[str, float]] = {}
    for owner, market, voter, weight in rows:
        out.setdefault((str(owner), str(market)), {})[str(voter)] = float(weight)
    return out


def build(ctx: Context) -> Report:
    where, params = ctx.analytics.where()
    rows = ctx.analytics.query(
        "SELECT strategy, market, count(*), sum(realized > 0), sum(realized) FROM exits"
        f"{where} GROUP BY 1, 2",
        params,
    )
    weights = _weights(ctx)
    credit: dict[tuple[str, str], list[float]] = {}
    for owner, market, n, wins, pnl in rows:
        voters = weights.get((owner, market)) or {
            v: 1.0 for v in (StrategyId(str(owner)).names if owner else ("(none)",))
        }
        total = sum(voters.values()) or 1.0
        for voter, w in voters.items():
            share = w / total
            cell = credit.setdefault((voter, market), [0.0, 0.0, 0.0])
            cell[0] += n * share
            cell[1] += wins * share
            cell[2] += pnl * share
    per_market = Table(
        "by_market",
        "Per strategy and market (credited by weight)",
        (
            Column("strategy", "Strategy"),
            Column("market", "Market"),
            Column("trades", "Trades (credited)", "ratio"),
            Column("win_rate_pct", "Win rate", "pct"),
            Column("pnl", "PnL (credited)", "pnl"),
        ),
        [
            (s, ctx.market(m), c[0], 100.0 * c[1] / c[0] if c[0] else None, usdc(round(c[2])))
            for (s, m), c in sorted(credit.items())
        ],
    )
    totals: dict[str, list[float]] = {}
    for (s, _), c in credit.items():
        cell = totals.setdefault(s, [0.0, 0.0, 0.0, 0.0])
        cell[0] += c[0]
        cell[1] += c[1]
        cell[2] += c[2]
        cell[3] += 1
    per_strategy = Table(
        "by_strategy",
        "Per strategy",
        (
            Column("strategy", "Strategy"),
            Column("markets", "Markets", "int"),
            Column("trades", "Trades (credited)", "ratio"),
            Column("win_rate_pct", "Win rate", "pct"),
            Column("pnl", "PnL (credited)", "pnl"),
        ),
        [
            (s, int(c[3]), c[0], 100.0 * c[1] / c[0] if c[0] else None, usdc(round(c[2])))
            for s, c in sorted(totals.items())
        ],
    )
    report = Report("strategies", "Strategies", ctx.header())
    report.tables = [per_strategy, per_market, per_strategy_table(ctx, "exits")]
    if ctx.charts:
        report.charts = [visuals.by_strategy(ctx)]
    if not rows:
        report.empty = "no trade in this scope"
    return report

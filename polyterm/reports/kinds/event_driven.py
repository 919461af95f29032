"""``report event-driven``: what the news-driven strategy did: its sentiment sources,
markets, the headlines that moved a market, its exits, win rate, holding, slippage, fees."""

from __future__ import annotations

import json

from engine.execution.exit_reasons import LABELS
from polyterm.reports.context import Context
from polyterm.reports.document import Column, Figure, Report, Table
from polyterm.reports.metrics import average, usdc

STRATEGY = "event_driven"
HEADLINES = 50


def section(ctx: Context) -> tuple[list[Figure], list[Table]]:
    """The figures and tables of the event-driven section (also `daily`'s)."""
    a = ctx.analytics
    where, params = a.where()
    t = a.trade_figures(STRATEGY)
    fills, fees = a.query(
        f"SELECT count(*), coalesce(sum(fee), 0) FROM fills{where}"
        f"{' AND' if where else ' WHERE'} strategy = ?",
        (*params, STRATEGY),
    )[0]
    sources = a.query(
        "SELECT sentiment_source, sum(repeats), sum(order_id IS NOT NULL) FROM signals"
        f"{where}{' AND' if where else ' WHERE'} strategy = ? GROUP BY 1 ORDER BY 2 DESC",
        (*params, STRATEGY),
    )
    markets = a.query(
        "SELECT market, count(*), sum(realized > 0), sum(realized) FROM exits"
        f"{where}{' AND' if where else ' WHERE'} strategy = ? GROUP BY 1 ORDER BY 4",
        (*params, STRATEGY),
    )
    headlines = a.query(
        "SELECT at, provider, source, headline, score, confidence, markets_json FROM sentiment"
        f"{where}{' AND' if where else ' WHERE'} markets_json != '[]'"
        " ORDER BY abs(score) * confidence DESC, at LIMIT ?",
        (*params, HEADLINES),
    )
    exits = [
        (LABELS[r], n, usdc(p)) for s, r, n, p in a.exit_groups(by_strategy=True) if s == STRATEGY
    ]
    figures = [
        Figure("event_trades", "Event-driven trades", t.trades, "int"),
        Figure(
            "event_win_rate_pct",
            "Event-driven win rate",
            100.0 * t.wins / t.trades if t.trades else None,
            "pct",
        ),
        Figure("event_pnl", "Event-driven trade PnL", usdc(t.pnl), "pnl"),
        Figure("event_expectancy", "Event-driven expectancy", average(t.pnl, t.trades), "pnl"),
        Figure(
            "event_avg_holding_s", "Event-driven average holding", _mean_holding(ctx), "duration"
        ),
        Figure("event_fills", "Event-driven fills", int(fills), "int"),
        Figure("event_fees", "Event-driven fees", usdc(int(fees)), "money"),
        Figure(
            "event_slippage_bps",
            "Event-driven average slippage",
            a.avg_slippage_bps(STRATEGY),
            "bps",
        ),
    ]
    tables = [
        Table(
            "sources",
            "Sentiment sources",
            (
                Column("source", "Source"),
                Column("signals", "Signals", "int"),
                Column("orders", "Orders", "int"),
            ),
            [(s or "(none)", n, int(o or 0)) for s, n, o in sources],
        ),
        Table(
            "markets",
            "Event-driven markets",
            (
                Column("market", "Market"),
                Column("trades", "Trades", "int"),
                Column("wins", "Wins", "int"),
                Column("pnl", "PnL", "pnl"),
            ),
            [(ctx.market(m), n, int(w or 0), usdc(p)) for m, n, w, p in markets],
        ),
        Table(
            "headlines",
            "Headlines that moved a market",
            (
                Column("at", "At", "time"),
                Column("provider", "Provider"),
                Column("source", "Source"),
                Column("headline", "Headline"),
                Column("score", "Score", "ratio"),
                Column("confidence", "Confidence", "ratio"),
                Column("markets", "Markets", "int"),
            ),
            [(at, p, s, h, sc, c, len(json.loads(m))) for at, p, s, h, sc, c, m in headlines],
            note=f"the {HEADLINES} strongest (|score| x confidence) at most",
        ),
        Table(
            "exits",
            "Event-driven exits",
            (
                Column("reason", "Reason"),
                Column("exits", "Exits", "int"),
                Column("pnl", "PnL", "pnl"),
            ),
            exits,
        ),
    ]
    return figures, tables


def _mean_holding(ctx: Context) -> float | None:
    where, params = ctx.analytics.where()
    (avg,) = ctx.analytics.query(
        f"SELECT avg(holding_s) FROM exits{where}{' AND' if where else ' WHERE'} strategy = ?",
        (*params, STRATEGY),
    )[0]
    return None if avg is None else float(avg)


def build(ctx: Context) -> Report:
    figures, tables = section(ctx)
    report = Report("event-driven", "Event-driven trading", ctx.header(), figures, tables)
    if not figures[0].value and not tables[0].rows and not tables[2].rows:
        report.empty = "no event-driven signal, trade or moving headline in this scope"
    return report

"""``report markets``: per market and per neg-risk event: trades, PnL, fees, and the
worst-case exposure reached (the most cost held there at once: what a resolution against
every position would have lost)."""

from __future__ import annotations

from polyterm.reports.context import Context
from polyterm.reports.document import Column, Report, Table
from polyterm.reports.metrics import usdc

_COLUMNS = (
    Column("fills", "Fills", "int"),
    Column("trades", "Trades", "int"),
    Column("wins", "Wins", "int"),
    Column("pnl", "PnL", "pnl"),
    Column("fees", "Fees", "money"),
    Column("worst_case", "Worst-case exposure", "money"),
)


def build(ctx: Context) -> Report:
    a = ctx.analytics
    peaks = a.peak_cost()
    events = a.neg_risk_events()
    rows = []
    per_event: dict[str, list[int]] = {}
    for market, fills, trades, wins, pnl, fees, buy_fees in a.per_market():
        net = pnl - buy_fees  # trade PnL less the entry fees paid there
        peak = peaks.get(market, 0)
        rows.append(
            (ctx.market(market), market, fills, trades, wins, usdc(net), usdc(fees), usdc(peak))
        )
        event = events.get(market)
        if event is not None:
            cell = per_event.setdefault(event, [0, 0, 0, 0, 0, 0, 0])
            for i, v in enumerate((fills, trades, wins, net, fees, peak, 1)):
                cell[i] += v
    markets = Table(
        "markets",
        "Markets",
        (Column("question", "Market"), Column("market", "Condition id"), *_COLUMNS),
        sorted(rows, key=lambda r: (r[5], r[0])),
    )
    event_table = Table(
        "events",
        "Neg-risk events",
        (Column("event", "Event"), Column("markets", "Markets traded", "int"), *_COLUMNS),
        [
            (e, c[6], c[0], c[1], c[2], usdc(c[3]), usdc(c[4]), usdc(c[5]))
            for e, c in sorted(per_event.items())
        ],
        note="an event's worst case is the sum of its markets' (an upper bound)",
    )
    report = Report("markets", "Markets", ctx.header(), tables=[markets, event_table])
    if not rows:
        report.empty = "no market traded in this scope"
    return report

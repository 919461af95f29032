"""``report exits``: why positions closed, per strategy, the worst markets, MAE/MFE per
trade, and for resolved markets what holding to settlement would have made."""

from __future__ import annotations

from engine.execution.exit_reasons import LABELS, ORDER, ExitReason
from engine.fixed import price_decimal, size_decimal
from polyterm.reports.context import Context
from polyterm.reports.document import Column, Figure, Report, Table
from polyterm.reports.kinds import visuals
from polyterm.reports.metrics import usdc

WORST_MARKETS = 10
WORST_TRADES = 50


def _order(reason: ExitReason) -> int:
    return ORDER.index(reason)


def reasons_table(ctx: Context) -> tuple[Table, int]:
    groups = ctx.analytics.exit_groups()
    total = sum(n for _, _, n, _ in groups)
    rows = [
        (LABELS[r], str(r), n, 100.0 * n / total if total else None, usdc(p))
        for _, r, n, p in sorted(groups, key=lambda g: _order(g[1]))
    ]
    return (
        Table(
            "reasons",
            "Exit reasons",
            (
                Column("reason", "Reason"),
                Column("id", "Id"),
                Column("exits", "Exits", "int"),
                Column("share_pct", "Share", "pct"),
                Column("pnl", "PnL", "pnl"),
            ),
            rows,
        ),
        total,
    )


def per_strategy_table(ctx: Context, name: str = "per_strategy") -> Table:
    groups = ctx.analytics.exit_groups(by_strategy=True)
    totals: dict[str, int] = {}
    for s, _, n, _ in groups:
        totals[s] = totals.get(s, 0) + n
    rows = [
        (s or "(none)", LABELS[r], n, 100.0 * n / totals[s], usdc(p))
        for s, r, n, p in sorted(groups, key=lambda g: (g[0], _order(g[1])))
    ]
    return Table(
        name,
        "Exit reasons per strategy",
        (
            Column("strategy", "Strategy"),
            Column("reason", "Reason"),
            Column("exits", "Exits", "int"),
            Column("share_pct", "Share of strategy", "pct"),
            Column("pnl", "PnL", "pnl"),
        ),
        rows,
    )


def _cents(units: float) -> float:
    return units / 100  # price units (1e-4) -> cents


def build(ctx: Context) -> Report:
    a = ctx.analytics
    reasons, total = reasons_table(ctx)
    counts = {r: n for _, r, n, _ in a.exit_groups()}
    tp_sl = counts.get(ExitReason.TAKE_PROFIT, 0) + counts.get(ExitReason.STOP_LOSS, 0)
    worst = Table(
        "worst_markets",
        "Worst markets",
        (
            Column("market", "Market"),
            Column("trades", "Trades", "int"),
            Column("pnl", "PnL", "pnl"),
        ),
        [(ctx.market(m), n, usdc(p)) for m, n, p in a.worst_markets(WORST_MARKETS)],
        note="markets whose trades lost money, worst first",
    )
    excursions = Table(
        "excursions",
        "MAE/MFE by exit reason (cents per share)",
        (
            Column("reason", "Reason"),
            Column("exits", "Exits", "int"),
            Column("mae", "Mean MAE", "ratio"),
            Column("mfe", "Mean MFE", "ratio"),
            Column("loser_mae", "Mean MAE of losers", "ratio"),
            Column("winner_mfe", "Mean MFE of winners", "ratio"),
        ),
        [
            (LABELS[r], n, _cents(mae), _cents(mfe), _cents(lmae), _cents(wmfe))
            for r, n, mae, mfe, lmae, wmfe in sorted(a.excursions(), key=lambda e: _order(e[0]))
        ],
    )
    outcomes = a.outcomes().payout
    trades: list[tuple[object, ...]] = []
    for row in a.exit_rows(order="mae DESC, id", limit=WORST_TRADES):
        (
            _,
            run,
            at,
            asset,
            market,
            strategy,
            reason,
            _detail,
            shares,
            entry,
            exit_,
            pnl,
            fee,
            holding,
            mae,
            mfe,
            slip,
        ) = row
        payout = outcomes.get(asset)
        held = None
        if payout is not None and reason is not ExitReason.SETTLEMENT:
            held = usdc((payout - entry) * shares)  # settlement pays with no fee
        trades.append(
            (
                run,
                at,
                ctx.token(asset, market),
                strategy,
                LABELS[reason],
                size_decimal(shares),
                price_decimal(entry),
                price_decimal(exit_),
                usdc(pnl),
                usdc(fee),
                holding,
                None if mae is None else price_decimal(mae),
                None if mfe is None else price_decimal(mfe),
                slip,
                held,
            )
        )
    trade_table = Table(
        "trades",
        f"The {WORST_TRADES} trades with the largest adverse excursion",
        (
            Column("run", "Run", "int"),
            Column("at", "Closed", "time"),
            Column("token", "Market"),
            Column("strategy", "Strategy"),
            Column("reason", "Reason"),
            Column("shares", "Shares", "shares"),
            Column("entry", "Entry", "price"),
            Column("exit", "Exit", "price"),
            Column("pnl", "PnL", "pnl"),
            Column("fee", "Fee", "money"),
            Column("holding_s", "Held", "duration"),
            Column("mae", "MAE", "price"),
            Column("mfe", "MFE", "price"),
            Column("slippage_bps", "Slippage", "bps"),
            Column("held_to_resolution", "Held to resolution", "pnl"),
        ),
        trades,
        note="every trade's MAE/MFE: `polyterm report lots`; held to resolution: shares x "
        "(payout - entry), for markets that resolved",
    )
    resolved, actual, held_total = a.counterfactual()
    report = Report("exits", "Exits", ctx.header())
    report.figures = [
        Figure("exits", "Exits", total, "int"),
        Figure(
            "tp_sl_share_pct",
            "Take-profit + stop-loss share",
            100.0 * tp_sl / total if total else None,
            "pct",
        ),
        Figure(
            "take_profit_share_pct",
            "Take-profit share",
            100.0 * counts.get(ExitReason.TAKE_PROFIT, 0) / total if total else None,
            "pct",
        ),
        Figure(
            "stop_loss_share_pct",
            "Stop-loss share",
            100.0 * counts.get(ExitReason.STOP_LOSS, 0) / total if total else None,
            "pct",
        ),
        Figure("resolved_exits", "Exits in markets that resolved", resolved, "int"),
        Figure("resolved_actual_pnl", "Their PnL", usdc(actual), "pnl"),
        Figure("resolved_held_pnl", "Held to resolution instead", usdc(held_total), "pnl"),
    ]
    report.tables = [reasons, per_strategy_table(ctx), worst, excursions, trade_table]
    if ctx.charts:
        report.charts = [visuals.exit_reasons(ctx), visuals.excursions(ctx)]
    if not total:
        report.empty = "no exits in this scope"
    return report

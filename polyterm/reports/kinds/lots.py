"""``report lots``: realised PnL per closed lot, for accounting."""

from __future__ import annotations

from engine.execution.exit_reasons import LABELS
from engine.fixed import price_decimal, size_decimal
from polyterm.reports.context import Context
from polyterm.reports.document import Column, Figure, Report, Table
from polyterm.reports.metrics import usdc


def build(ctx: Context) -> Report:
    rows = []
    total = fees = 0
    for row in ctx.analytics.exit_rows():
        (
            _,
            run,
            at,
            asset,
            market,
            strategy,
            reason,
            _d,
            shares,
            entry,
            exit_,
            pnl,
            fee,
            holding,
            mae,
            mfe,
            _slip,
        ) = row
        total += pnl
        fees += fee
        rows.append(
            (
                run,
                at - (holding or 0.0),
                at,
                ctx.token(asset, market),
                asset,
                strategy,
                LABELS[reason],
                size_decimal(shares),
                price_decimal(entry),
                price_decimal(exit_),
                usdc(fee),
                usdc(pnl),
                None if mae is None else price_decimal(mae),
                None if mfe is None else price_decimal(mfe),
            )
        )
    table = Table(
        "lots",
        "Closed lots",
        (
            Column("run", "Run", "int"),
            Column("opened_at", "Opened", "time"),
            Column("closed_at", "Closed", "time"),
            Column("market", "Market"),
            Column("asset_id", "Token"),
            Column("strategy", "Strategy"),
            Column("reason", "Reason"),
            Column("shares", "Shares", "shares"),
            Column("entry_price", "Entry", "price"),
            Column("exit_price", "Exit", "price"),
            Column("exit_fee", "Exit fee", "money"),
            Column("realized", "Realized", "pnl"),
            Column("mae", "MAE", "price"),
            Column("mfe", "MFE", "price"),
        ),
        rows,
        note="realized: exit proceeds - average cost - exit fee (entry fees are in `fills`)",
    )
    report = Report("lots", "Closed lots", ctx.header(), tables=[table])
    report.figures = [
        Figure("lots", "Lots closed", len(rows), "int"),
        Figure("realized", "Realized (sum)", usdc(total), "pnl"),
        Figure("exit_fees", "Exit fees", usdc(fees), "money"),
    ]
    if not rows:
        report.empty = "no lot closed in this scope"
    return report

"""The summary's figures from the ledger's aggregates: every formula in one place.

The README's "Metrics" table is this module in words; each figure's formula is in its
comment. Money is exact (Decimal USDC from the ledger's integers; averages rounded to
1e-6 USDC, USDC's own unit); ratios are floats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from engine.fixed import cash_decimal
from engine.ledger.analytics import (
    DrawdownFigures,
    LedgerAnalytics,
    RunRow,
    Sequence,
    TradeFigures,
)
from polyterm.reports.scope import ReportScope

USDC = Decimal("0.000001")
DAYS_PER_YEAR = 365  # prediction markets trade every day


def usdc(cash: int) -> Decimal:
    return cash_decimal(cash)


def average(cash: int, n: int) -> Decimal | None:
    """A mean of cash amounts, rounded half-even to 1e-6 USDC."""
    if not n:
        return None
    return (Decimal(cash) / n / Decimal(10) ** 10).quantize(USDC, ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    pnl: int  # closed-trade PnL (cash units): exits' PnL less entry fees
    trades: int
    wins: int
    fees: int
    start_equity: int  # closed-trade equity at the day's start (cash units)

    @property
    def ret(self) -> float:
        return self.pnl / self.start_equity if self.start_equity else 0.0


@dataclass(slots=True)
class Summary:
    runs: list[RunRow]
    starting_equity: int | None  # cash units: account cash + realised PnL before the scope
    final_equity: Decimal | None  # the last run's recorded end-of-run equity
    unrealized: Decimal | None  # likewise recorded
    realized: int  # cash units
    fills: int
    fees: int
    volume: int  # notional traded (cash units)
    trades: TradeFigures
    sequence: Sequence
    days: list[Day]
    span_s: float
    rejects: list[tuple[str, int]] = field(default_factory=list)

    @property
    def drawdown(self) -> DrawdownFigures:
        return self.sequence.drawdown

    # -- trade figures ------------------------------------------------------------------
    @property
    def win_rate(self) -> float | None:  # wins / trades x 100
        t = self.trades
        return 100.0 * t.wins / t.trades if t.trades else None

    @property
    def profit_factor(self) -> float | None:  # gross profit / |gross loss|
        t = self.trades
        return t.gross_profit / -t.gross_loss if t.gross_loss else None

    @property
    def expectancy(self) -> Decimal | None:  # mean trade PnL
        return average(self.trades.pnl, self.trades.trades)

    @property
    def avg_win(self) -> Decimal | None:
        return average(self.trades.gross_profit, self.trades.wins)

    @property
    def avg_loss(self) -> Decimal | None:
        return average(self.trades.gross_loss, self.trades.losses)

    @property
    def return_pct(self) -> float | None:  # realised PnL / starting equity x 100
        if not self.starting_equity:
            return None
        return 100.0 * self.realized / self.starting_equity

    @property
    def drawdown_pct(self) -> float | None:  # amount / (starting equity + peak) x 100
        if not self.starting_equity:
            return None
        top = self.starting_equity + self.drawdown.peak
        return 100.0 * self.drawdown.amount / top if top > 0 else None

    @property
    def drawdown_s(self) -> float | None:  # from the peak to the lowest point
        d = self.drawdown
        return None if d.start is None or d.end is None else d.end - d.start

    # -- risk-adjusted ------------------------------------------------------------------
    @property
    def sharpe_daily(self) -> float | None:
        # mean(r_d) / sd(r_d) x sqrt(365), sample deviation, zero-PnL days included
        r = [d.ret for d in self.days]
        return _sharpe(r, math.sqrt(DAYS_PER_YEAR))

    @property
    def sortino_daily(self) -> float | None:
        # mean(r_d) / sqrt(sum(min(r_d, 0)^2) / n) x sqrt(365)
        r = [d.ret for d in self.days]
        return _sortino(sum(r), sum(min(x, 0.0) ** 2 for x in r), len(r), math.sqrt(365))

    @property
    def sharpe_trade(self) -> float | None:
        # mean(r_i) / sd(r_i), r_i = PnL / (entry price x shares); not annualised
        t = self.trades
        return _sharpe_sums(t.ret_sum, t.ret_sq, t.returns, 1.0)

    @property
    def sortino_trade(self) -> float | None:
        t = self.trades
        return _sortino(t.ret_sum, t.ret_down_sq, t.returns, 1.0)

    @property
    def calmar(self) -> float | None:
        # (return x 365 / days) / max drawdown, both as fractions
        if self.return_pct is None or not self.drawdown_pct or not self.days:
            return None
        return (self.return_pct * DAYS_PER_YEAR / len(self.days)) / self.drawdown_pct

    @property
    def sqn(self) -> float | None:
        # sqrt(N) x mean(PnL) / sd(PnL), PnL in USDC
        t = self.trades
        sharpe = _sharpe_sums(t.pnl / 1e10, t.pnl_sq, t.trades, 1.0)
        return None if sharpe is None else sharpe * math.sqrt(t.trades)

    @property
    def time_in_market_pct(self) -> float | None:  # union of holding intervals / span
        return 100.0 * self.sequence.in_market_s / self.span_s if self.span_s else None

    @property
    def exposure_pct(self) -> float | None:
        # time-weighted cost held / starting equity: sum(cost x held s) / (span x equity)
        if not self.span_s or not self.starting_equity:
            return None
        cost_seconds = self.trades.cost_seconds
        return 100.0 * cost_seconds / (self.span_s * self.starting_equity / 1e10)

    @property
    def best_day(self) -> Day | None:
        active = [d for d in self.days if d.trades or d.fees]
        return max(active, key=lambda d: (d.pnl, d.day)) if active else None

    @property
    def worst_day(self) -> Day | None:
        active = [d for d in self.days if d.trades or d.fees]
        return min(active, key=lambda d: (d.pnl, d.day)) if active else None


def _sharpe(r: list[float], scale: float) -> float | None:
    return _sharpe_sums(sum(r), sum(x * x for x in r), len(r), scale)


def _sharpe_sums(total: float, squares: float, n: int, scale: float) -> float | None:
    if n < 2:
        return None
    mean = total / n
    var = (squares - n * mean * mean) / (n - 1)
    if var <= 1e-18:
        return None
    return mean / math.sqrt(var) * scale


def _sortino(total: float, down_sq: float, n: int, scale: float) -> float | None:
    if n < 2 or down_sq <= 0:
        return None
    return (total / n) / math.sqrt(down_sq / n) * scale


def days_of(
    span: tuple[float | None, float | None],
    buckets: list[tuple[int, int, int, int, int]],
    scope: ReportScope,
    start_equity: int,
) -> list[Day]:
    """Every calendar day (in the report's zone) from the scope's first to its last,
    zero-PnL days included, with the closed-trade equity at each day's start."""
    first, last = span
    if first is None or last is None:
        return []
    per: dict[date, list[int]] = {}
    for quarter, pnl, trades, wins, fees in buckets:
        cell = per.setdefault(scope.bucket_day(quarter), [0, 0, 0, 0])
        cell[0] += pnl
        cell[1] += trades
        cell[2] += wins
        cell[3] += fees
    day, end = scope.day_of(first), scope.day_of(last)
    if per:
        day, end = min(day, min(per)), max(end, max(per))
    out, equity = [], start_equity
    while day <= end:
        pnl, trades, wins, fees = per.get(day, (0, 0, 0, 0))
        out.append(Day(day, pnl, trades, wins, fees, equity))
        equity += pnl
        day += timedelta(days=1)
    return out


def summarize(a: LedgerAnalytics, scope: ReportScope, curve_points: int = 0) -> Summary:
    runs = a.runs()
    cash = a.starting_cash()
    starting = None if cash is None else cash + a.realized_before()
    fills, fees, buy_fees, volume = a.fill_totals()
    trades = a.trade_figures()
    ended = [r for r in runs if r.summary is not None]
    if scope.scope.end is not None:
        ended = [r for r in ended if r.ended_at is not None and r.ended_at < scope.scope.end]
    last = ended[-1].summary if ended else None
    first, end = a.span()
    span = (end - first) if first is not None and end is not None else 0.0
    seq = a.sequence(curve_points)
    return Summary(
        runs=runs,
        starting_equity=starting,
        final_equity=_decimal(last, "equity"),
        unrealized=_decimal(last, "unrealized_pnl"),
        realized=trades.pnl - buy_fees,
        fills=fills,
        fees=fees,
        volume=volume,
        trades=trades,
        sequence=seq,
        days=days_of((first, end), a.buckets(), scope, starting or 0),
        span_s=span,
        rejects=a.rejects(),
    )


def _decimal(summary: dict[str, Any] | None, key: str) -> Decimal | None:
    if summary is None or summary.get(key) is None:
        return None
    return Decimal(str(summary[key]))

"""What the order-dependent pass and the trade sums hand back (no numpy here: kinds that
never walk the columns do not pay for importing it)."""

from __future__ import annotations

from dataclasses import dataclass, field

QUARTER_HOUR = 900  # seconds: every time zone's offset is a whole number of these


@dataclass(frozen=True, slots=True)
class TradeFigures:
    """Sums over the trades (exit rows) in scope; money in cash units (1e-10 USDC)."""

    trades: int = 0
    wins: int = 0
    losses: int = 0
    gross_profit: int = 0  # sum of winning trades' PnL (>= 0)
    gross_loss: int = 0  # sum of losing trades' PnL (<= 0)
    pnl: int = 0  # sum of every trade's PnL
    pnl_sq: float = 0.0  # sum of squared PnL in USDC^2 (for the trade PnL's deviation)
    best: int | None = None
    worst: int | None = None
    win_holding_s: float | None = None  # average holding of winners
    loss_holding_s: float | None = None
    # Per-trade returns r = PnL / (entry price x shares): sums for mean and deviations.
    returns: int = 0  # trades with a cost to divide by
    ret_sum: float = 0.0
    ret_sq: float = 0.0
    ret_down_sq: float = 0.0  # sum of min(r, 0)^2
    cost_seconds: float = 0.0  # sum of lot cost (USDC) x seconds held


@dataclass(frozen=True, slots=True)
class DrawdownFigures:
    """The largest fall of the closed-trade equity curve from a running peak.

    ``amount`` in cash units; times are the peak (``start``; None: the scope's start),
    the lowest point after it (``end``) and when the curve first regained the peak
    (``recovered``; None: never in scope)."""

    amount: int = 0
    peak: int = 0  # cumulative PnL at the peak (cash units, from the scope's start)
    start: float | None = None
    end: float | None = None
    recovered: float | None = None


@dataclass(slots=True)
class Sequence:
    drawdown: DrawdownFigures = DrawdownFigures()
    max_win_streak: int = 0
    max_loss_streak: int = 0
    in_market_s: float = 0.0
    first: float | None = None  # the first and last event in scope
    last: float | None = None
    curve: list[tuple[float, int]] = field(default_factory=list)  # (time, cumulative PnL)

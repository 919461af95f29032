"""Per-strategy counts and PnL attribution: why a strategy makes or loses money.

Each fill's price against the book's mid when its order was decided is the spread it
paid (a taker buy at the ask pays half the spread; a maker fill may earn it back,
negative); the fee is the fee. What is left of the strategy's PnL once both are added
back is what prices did while it held: the only part any strategy can claim as edge.

    pnl = price_moves - spread_paid - fees

All in exact cash units (1e-10 USDC). A combined decision ("a+b") is its own row: its
fills cannot honestly be split between the voters.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.orders import Fill, Side


@dataclass(slots=True)
class StrategyStats:
    signals: int = 0  # signals that voted (or exited)
    detected: int = 0  # signals and baskets of a weight-0 strategy: shown, never traded
    orders: int = 0
    fills: int = 0
    spread_paid: int = 0  # cash units; negative: earned (maker fills inside the mid)
    fees: int = 0
    realized: int = 0  # closed lots (exits and settlement) and fees paid, as the account

    def on_fill(self, fill: Fill, mid: int | None) -> None:
        self.fills += 1
        self.fees += fill.fee
        if fill.side is Side.BUY:
            # Realised the moment it is paid, as the portfolio does: a sell's realised PnL
            # (credited on exit) is net of its own fee only.
            self.realized -= fill.fee
        if mid:
            diff = fill.price - mid if fill.side is Side.BUY else mid - fill.price
            self.spread_paid += diff * fill.size


class Attribution:
    def __init__(self) -> None:
        self.stats: dict[str, StrategyStats] = {}

    def of(self, strategy: str) -> StrategyStats:
        stats = self.stats.get(strategy)
        if stats is None:
            stats = self.stats[strategy] = StrategyStats()
        return stats

"""Signal aggregation: strategies vote with their weights; strong agreement trades.

score = sum(weight * direction * strength) / sum(weights of active strategies). An
entry needs |score| >= threshold. An exit signal for a held position bypasses the
threshold: getting out should never need a quorum.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.orders import Side
from engine.strategies.base import Signal


@dataclass(frozen=True, slots=True)
class Intent:
    asset_id: str
    side: Side
    score: float
    strategies: tuple[str, ...]
    reason: str
    is_exit: bool = False


class Aggregator:
    def __init__(self, weights: dict[str, float], threshold: float) -> None:
        self.weights = weights
        self.threshold = threshold
        self._total = sum(w for w in weights.values() if w > 0)

    def combine(self, asset_id: str, signals: list[Signal]) -> Intent | None:
        exits = [s for s in signals if s.is_exit]
        if exits:
            return Intent(
                asset_id,
                exits[0].side,
                1.0,
                tuple(s.strategy for s in exits),
                "; ".join(s.reason for s in exits),
                is_exit=True,
            )
        if not signals or self._total <= 0:
            return None
        score = 0.0
        for s in signals:
            direction = 1.0 if s.side is Side.BUY else -1.0
            score += self.weights.get(s.strategy, 0.0) * direction * s.strength
        score /= self._total
        if abs(score) < self.threshold:
            return None
        side = Side.BUY if score > 0 else Side.SELL
        voters = [s for s in signals if s.side is side and self.weights.get(s.strategy, 0.0) > 0]
        if not voters:
            return None
        return Intent(
            asset_id,
            side,
            score,
            tuple(s.strategy for s in voters),
            "; ".join(s.reason for s in voters),
        )

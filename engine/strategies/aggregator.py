"""Signal aggregation: the strategies that voted on a token decide it, with their weights.

score = sum(weight * direction * strength) / sum(weight) over the strategies that voted
on this token in this pass (weight > 0). Normalizing over the voters, not over every
enabled strategy, means adding a strategy never dilutes the others, and a lone arbitrage
or news signal at full confidence reaches the threshold on its own; agreement still
counts, because a dissenting voter pulls the score towards zero.

An entry needs |score| >= threshold. When both sides voted, the net score decides and
the resolution is stated ("conflict: ..."), for the winners and the outvoted alike; no
side reaching the threshold is its own recorded outcome. An exit signal for a held
position bypasses the threshold: getting out never needs a quorum. A weight-0 strategy
never votes: its signals are recorded as detected.
"""

from __future__ import annotations

import msgspec

from engine.decisions import DETECTED, EXIT_FIRST, Decision, DecisionKind
from engine.orders import Side, StrategyId
from engine.strategies.base import Signal

__all__ = ["DETECTED", "Aggregator", "Combined", "Intent"]


class Intent(msgspec.Struct, frozen=True):
    asset_id: str
    side: Side
    score: float
    strategies: tuple[str, ...]
    reason: str
    is_exit: bool = False

    @property
    def strategy(self) -> StrategyId:
        """The voters as one id: "a", or "a+b" for a combined decision."""
        return StrategyId.of(self.strategies)


class Combined(msgspec.Struct, frozen=True):
    """The outcome of one token's votes: an intent (or none), and for each signal (same
    order as given) the decision it gets unless execution replaces it (None: it is one
    of the intent's voters, whose decision is what execution makes of it)."""

    intent: Intent | None
    decisions: tuple[Decision | None, ...]
    score: float = 0.0
    conflict: str | None = None  # how a two-sided vote was resolved


class Aggregator:
    def __init__(self, weights: dict[str, float], threshold: float) -> None:
        self.weights = weights
        self.threshold = threshold

    def weight(self, strategy: str) -> float:
        return self.weights.get(strategy, 0.0)

    def combine(self, asset_id: str, signals: list[Signal]) -> Intent | None:
        return self.resolve(asset_id, signals).intent

    def resolve(self, asset_id: str, signals: list[Signal]) -> Combined:
        if len(signals) == 1:
            return self._resolve_one(asset_id, signals[0])
        weights = self.weights
        decisions: list[Decision | None] = [
            None if weights.get(s.strategy, 0.0) > 0 else DETECTED for s in signals
        ]
        exits = [s for s, d in zip(signals, decisions, strict=True) if d is None and s.is_exit]
        if exits:
            intent = Intent(
                asset_id,
                exits[0].side,
                1.0,
                tuple(s.strategy for s in exits),
                "; ".join(s.reason for s in exits),
                is_exit=True,
            )
            labels = tuple(
                d if d is not None or s.is_exit else EXIT_FIRST
                for s, d in zip(signals, decisions, strict=True)
            )
            return Combined(intent, labels, 1.0)
        total = 0.0
        score = 0.0
        sides: set[Side] = set()
        for s, d in zip(signals, decisions, strict=True):
            if d is not None:
                continue
            w = weights[s.strategy]
            total += w
            score += w * (1.0 if s.side is Side.BUY else -1.0) * s.strength
            sides.add(s.side)
        if total <= 0:
            below = Decision(DecisionKind.BELOW_THRESHOLD)
            return Combined(None, tuple(d or below for d in decisions))
        score /= total
        conflict = None  # what the two-sided vote came to, in the ledger's words
        if len(sides) > 1:
            winner = Side.BUY if score > 0 else Side.SELL
            conflict = (
                f"{winner.value} by net score {score:+.2f}"
                if abs(score) >= self.threshold and score != 0
                else f"net score {score:+.2f} below threshold {self.threshold:g}"
            )
        if abs(score) < self.threshold or score == 0:
            why = (
                Decision(DecisionKind.CONFLICT, detail=conflict)
                if conflict
                else Decision(
                    DecisionKind.BELOW_THRESHOLD, detail=f"{score:+.2f} < {self.threshold:g}"
                )
            )
            return Combined(None, tuple(d or why for d in decisions), score, _said(conflict))
        side = Side.BUY if score > 0 else Side.SELL
        voters = [
            s for s, d in zip(signals, decisions, strict=True) if d is None and s.side is side
        ]
        outvoted = Decision(DecisionKind.OUTVOTED, detail=conflict) if conflict else None
        labels = tuple(
            d if d is not None else (None if s.side is side else outvoted)
            for s, d in zip(signals, decisions, strict=True)
        )
        intent = Intent(
            asset_id,
            side,
            score,
            tuple(s.strategy for s in voters),
            "; ".join(s.reason for s in voters),
        )
        return Combined(intent, labels, score, _said(conflict))

    def _resolve_one(self, asset_id: str, s: Signal) -> Combined:
        """:meth:`resolve` of a lone signal (most passes: one voter on a token), without
        its lists and sets: the same outcome, with the same float arithmetic. A lone
        voter never conflicts (one side voted)."""
        weight = self.weights.get(s.strategy, 0.0)
        if not weight > 0:
            return Combined(None, (DETECTED,))
        if s.is_exit:
            intent = Intent(asset_id, s.side, 1.0, (s.strategy,), s.reason, is_exit=True)
            return Combined(intent, (None,), 1.0)
        # The general path's sums start at 0.0: kept, so the float score is the same bits.
        score = 0.0 + weight * (1.0 if s.side is Side.BUY else -1.0) * s.strength
        score /= 0.0 + weight
        if abs(score) < self.threshold or score == 0:
            why = Decision(
                DecisionKind.BELOW_THRESHOLD, detail=f"{score:+.2f} < {self.threshold:g}"
            )
            return Combined(None, (why,), score, None)
        side = Side.BUY if score > 0 else Side.SELL
        if s.side is not side:  # (a negative strength): no voter on the winning side
            return Combined(Intent(asset_id, side, score, (), ""), (None,), score, None)
        return Combined(
            Intent(asset_id, side, score, (s.strategy,), s.reason), (None,), score, None
        )


def _said(conflict: str | None) -> str | None:
    return None if conflict is None else f"conflict: {conflict}"

"""Refusals: every order risk (or a check before it) would not let out, counted and
recorded with the rule that decided it.

An entry refused is an ``IntentRejected`` row at once. A held exit is retried on every
housekeeping tick, so it is recorded once per rule per minute, not ten times a second.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from engine.clock import Clock
from engine.decisions import Decision, refused
from engine.events import EngineEvent, IntentRejected
from engine.orders import Side

EXIT_RECORD_EVERY_S = 60.0


class Refusals:
    def __init__(self, clock: Clock, emit: Callable[[EngineEvent], None]) -> None:
        self._clock = clock
        self._emit = emit
        self.counts: Counter[str] = Counter()  # rejects, entry_refused
        self.rejects: Counter[str] = Counter()  # by reason
        self._exit_refused: dict[str, tuple[str, float]] = {}  # asset -> (rule, when)

    def reject(self, reason: str) -> None:
        """Count a refusal (by risk, or an order the gateway rejected)."""
        self.counts["rejects"] += 1
        self.rejects[reason] += 1

    def refuse(
        self, asset: str, side: Side, strategy: str, reason: str, wanted: int, rule: str
    ) -> Decision:
        """Record a refused entry or a held exit; the decision it makes."""
        at = self._clock.time()
        if side is Side.SELL:
            last = self._exit_refused.get(asset)
            if last is not None and last[0] == rule and at - last[1] < EXIT_RECORD_EVERY_S:
                return refused(rule, reason)
            self._exit_refused[asset] = (rule, at)
        else:
            self.counts["entry_refused"] += 1
        self._emit(IntentRejected(at, asset, side, strategy, reason, wanted, 0))
        self.reject(rule)
        return refused(rule, reason)

    def count_entry_refused(self) -> None:
        """An entry refused whole without a row of its own (a basket records itself)."""
        self.counts["entry_refused"] += 1

"""Refusals: every order risk (or a check before it) would not let out, counted and
recorded with the rule that decided it.

An entry refused is an ``IntentRejected`` row; a strategy's entries that the same rule
keeps refusing on the same token (the order rate cap, full, refuses every book update of
every wanted token) are a row a minute with their count (``repeats``, engine.repeats), so
the ledger holds every refusal without a row each. A held exit is retried on every
housekeeping tick, so it is recorded once per rule per minute, not ten times a second.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import msgspec

from engine.clock import Clock
from engine.decisions import Decision, refused
from engine.events import EngineEvent, IntentRejected
from engine.orders import Side
from engine.repeats import RECORD_EVERY_S, RepeatFold

EXIT_RECORD_EVERY_S = RECORD_EVERY_S  # a held exit: a row a minute, its retries dropped


class Refusals:
    def __init__(self, clock: Clock, emit: Callable[[EngineEvent], None]) -> None:
        self._clock = clock
        self._emit = emit
        self.counts: Counter[str] = Counter()  # rejects, entry_refused
        self.rejects: Counter[str] = Counter()  # by reason
        self._exit_refused: dict[str, tuple[str, float]] = {}  # asset -> (rule, when)
        # A strategy's refused entries by (token, strategy, rule): repeats held and counted.
        self._entries: RepeatFold[tuple[str, str, str], IntentRejected] = RepeatFold()

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

    def refuse_entry(
        self, asset: str, strategy: str, reason: str, wanted: int, rule: str
    ) -> Decision:
        """A strategy's entry refused: counted, and recorded or held as a repeat of the
        last row of its token, strategy and rule (see the module)."""
        clock = self._clock
        self.counts["entry_refused"] += 1
        self.reject(rule)
        event = IntentRejected(clock.time(), asset, Side.BUY, strategy, reason, wanted, 0)
        repeats = self._entries.admit((asset, strategy, rule), clock.monotonic(), event)
        if repeats:
            self._emit(event if repeats == 1 else msgspec.structs.replace(event, repeats=repeats))
        return refused(rule, reason)

    def write_due(self, now: float) -> None:
        """Write the held refusals whose minute is over (`now`: the monotonic clock)."""
        self._write(self._entries.due(now))

    def flush(self) -> None:
        """Write the refusals still held (the run is ending): each kind's latest, with its
        count."""
        self._write(self._entries.drain())

    def _write(self, held: list[tuple[int, IntentRejected]]) -> None:
        for repeats, event in held:
            self._emit(msgspec.structs.replace(event, repeats=repeats))

    def count_entry_refused(self) -> None:
        """An entry refused whole without a row of its own (a basket records itself)."""
        self.counts["entry_refused"] += 1

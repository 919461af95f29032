"""The kill switch's watch: it measures equity each housekeeping tick, once every holding
is marked.

Equity is only worth a baseline (or a trip) once every holding is marked at a bid:
positions restored before their books arrive would count at cost. A holding whose market
this run does not list never gets a book: after a grace period it is counted at cost,
and said so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from engine.events import EngineEvent
from engine.execution.accounting import Accounting
from engine.fixed import format_cash
from engine.risk.kill_switch import KillSwitch

log = logging.getLogger("engine")


class KillSwitchWatch:
    def __init__(
        self,
        kill_switch: KillSwitch,
        accounting: Accounting,
        emit: Callable[[EngineEvent], None],
        in_grace: Callable[[float], bool],
    ) -> None:
        self._kill_switch = kill_switch
        self._accounting = accounting
        self._emit = emit
        self._in_grace = in_grace
        self._warned = False

    def baseline(self, at: float) -> None:
        """The run starts: take (or restore) the day's baseline when marks allow."""
        if self._ready(at):
            for change in self._kill_switch.update(self._accounting.values.equity(), at):
                self._emit(change)

    def tick(self, at: float) -> bool:
        """Measure equity; whether the switch asks for a flatten (flatten_on_trip)."""
        if not self._ready(at):
            return False
        kill_switch = self._kill_switch
        for change in kill_switch.update(self._accounting.values.equity(), at):
            self._emit(change)
            if change.reason == "trip":
                log.warning(
                    "kill switch tripped: loss %s reached the limit %s",
                    format_cash(change.loss),
                    format_cash(change.limit),
                )
        return kill_switch.take_flatten()

    def _ready(self, at: float) -> bool:
        # Only holdings restored from the ledger wait for their books: one this run
        # bought was marked when it filled (and one whose bids vanished since counts at
        # its last trade or cost, as any holding without a bid does).
        unmarked = self._accounting.unmarked_restored()
        if not unmarked:
            return True
        if self._in_grace(at):
            return False
        if not self._warned:
            self._warned = True
            log.warning(
                "kill switch: %d holding(s) have no book in this run and count at cost",
                unmarked,
            )
        return True

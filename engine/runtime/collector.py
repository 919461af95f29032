"""The garbage collector's passes, run where a pause costs an order nothing.

CPython collects when the count of new container objects passes a threshold, inside
whatever code allocated the last one. On a trading loop that is most often the decision
pass between a frame and its order: at 250 markets a young pass took ~0.2 ms, a middle
one ~1.7 ms and a full one ~30 ms, and they were most of the tail of frame -> order. A
live run turns the automatic collector off and the runner runs the same generational
passes at a loop turn when no decision is pending and no order or cancel is in the
gateway's hands (queued, signed, recorded or on its way). A run that never has such a
turn still collects once the young generation is far past its threshold, so memory stays
bounded.

The passes follow CPython's own schedule and thresholds (``gc.get_threshold()`` when the
run starts): a young pass when the count passes the first threshold, a middle one once
more young ones than the second threshold ran, and a full one once more middle ones than
the third ran, but only when the old generation has grown by a quarter since the last
full pass or freeze (CPython's rule, which keeps full passes' cost in proportion to what
the run keeps). CPython counts that growth as it goes; here the old generation is
listed, only when a full pass could be due and only once per middle pass (it grows by
nothing else).

Python 3.14's collector is incremental, with other counts and short pauses of its own:
there it is left alone.
"""

from __future__ import annotations

import gc
import sys

# A young generation this many times its threshold is collected even in a busy turn: a
# young pass costs in proportion to its size (~1 ms at 1,000 markets, looked at every
# COLLECT_CHECK_S of the live runner).
OVERDUE_FACTOR = 4
# CPython's rule: a full pass only once the old generation grew by this share of itself.
FULL_PASS_GROWTH = 0.25


class SafePointCollector:
    """Holds the collector off while active; `collect()` runs the pass that is due."""

    def __init__(self) -> None:
        self._active = False
        self._thresholds: tuple[int, int, int] = (700, 10, 10)
        self._old_after_full = 0
        self._grew = False  # the growth test's answer, until the next middle pass:
        self._grew_at = -1  # ...the middle and full passes run when it was answered (-1: ask)
        self.passes = [0, 0, 0]  # passes run, by generation

    @property
    def active(self) -> bool:
        return self._active

    def take(self) -> None:
        """Turn the automatic collector off, keeping its thresholds. Nothing is done when
        it is off already (the process chose that)."""
        threshold0, threshold1, threshold2 = gc.get_threshold()
        if self._active or not gc.isenabled() or threshold0 <= 0:
            return
        if sys.version_info >= (3, 14):
            return  # incremental: its counts mean other things, its pauses are short
        self._thresholds = (threshold0, threshold1, threshold2)
        self._old_after_full = len(gc.get_objects(2))
        gc.disable()
        self._active = True

    def freeze(self) -> None:
        """Keep everything alive now out of every later pass (``gc.freeze()``): what
        lives as long as the run, once loaded. The young garbage goes first (frozen, it
        could never be freed), and the old generation's growth counts from here."""
        if self._active:
            gc.collect(1)
        gc.freeze()
        if self._active:
            self._old_after_full = len(gc.get_objects(2))
            self._grew_at = -1

    def give_back(self) -> None:
        """Turn the automatic collector on again (only if `take` turned it off)."""
        if self._active:
            self._active = False
            gc.enable()

    def due(self) -> bool:
        """A pass is due: the young generation passed its threshold."""
        return self._active and gc.get_count()[0] > self._thresholds[0]

    def overdue(self) -> bool:
        """Due long since: collect even though the loop is busy."""
        return self._active and gc.get_count()[0] > self._thresholds[0] * OVERDUE_FACTOR

    def collect(self) -> int:
        """Run the oldest generation's pass that is due (CPython's choice); return it."""
        _, threshold1, threshold2 = self._thresholds
        _, count1, count2 = gc.get_count()
        generation = 0
        if count2 > threshold2 and self._old_grew():
            generation = 2
        elif count1 > threshold1:
            generation = 1
        gc.collect(generation)
        if generation == 2:
            self._old_after_full = len(gc.get_objects(2))
            self._grew_at = -1
        self.passes[generation] += 1
        return generation

    def _old_grew(self) -> bool:
        # The old generation grows only by middle passes (and full ones): listed once
        # after each, not at every young pass (listing it costs a fraction of a full one).
        stats = gc.get_stats()
        older = stats[1]["collections"] + stats[2]["collections"]
        if older != self._grew_at:
            grown = len(gc.get_objects(2)) - self._old_after_full
            self._grew = grown > self._old_after_full * FULL_PASS_GROWTH
            self._grew_at = older
        return self._grew

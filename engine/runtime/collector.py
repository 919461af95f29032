"""The garbage collector's passes, run where a pause costs an order nothing.

CPython collects when the count of new container objects passes a threshold, inside
whatever code allocated the last one. On a trading loop that is most often the decision
pass between a frame and its order: at 250 markets a young pass took ~0.2 ms, a middle
one ~1.7 ms and a full one ~30 ms, and they were the whole tail of frame -> order. A live
run turns the automatic collector off and the runner runs the same generational passes at
a loop turn when no decision is pending and no order waits to leave. A run that never has
such a turn still collects once the young generation is far past its threshold, so memory
stays bounded.

The passes follow CPython's own schedule and thresholds (``gc.get_threshold()`` when the
run starts): a young pass when the count passes the first threshold, a middle one every
so many young ones, and a full one every so many middle ones, but only once the old
generation has grown by a quarter since the last full pass (CPython's rule, which keeps
full passes' cost in proportion to what the run keeps). A full pass comes at the middle
pass it would have replaced, so at most a young pass later than CPython would run it.
"""

from __future__ import annotations

import gc

# A young generation this many times its threshold is collected even in a busy turn (a
# young pass costs in proportion to it: at 20 times, ~1.5 ms at 1,000 markets).
OVERDUE_FACTOR = 4
# CPython's rule: a full pass only once the old generation grew by this share of itself.
FULL_PASS_GROWTH = 0.25


class SafePointCollector:
    """Holds the collector off while active; `collect()` runs the pass that is due."""

    def __init__(self) -> None:
        self._active = False
        self._thresholds: tuple[int, int, int] = (700, 10, 10)
        self._old_after_full = 0
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
        self._thresholds = (threshold0, threshold1, threshold2)
        self._old_after_full = len(gc.get_objects(2))
        gc.disable()
        self._active = True

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
        if count1 > threshold1:
            # The old generation grows only by middle passes: its size is looked at
            # only when one is due (listing it costs a fraction of a full pass).
            generation = 2 if count2 >= threshold2 and self._old_grew() else 1
        gc.collect(generation)
        if generation == 2:
            self._old_after_full = len(gc.get_objects(2))
        self.passes[generation] += 1
        return generation

    def _old_grew(self) -> bool:
        return len(gc.get_objects(2)) - self._old_after_full > (
            self._old_after_full * FULL_PASS_GROWTH
        )

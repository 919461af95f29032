"""Repeats folded into counts: the ledger keeps a row a minute of a decision that repeats.

A rule that refuses an entry keeps refusing it while it holds: with the order rate cap
full, every book update of every wanted token is refused again (at 1,000 markets ~390 a
second, two rows each). Each such record is kept, as a count. Records of one kind (a
key: the same token, strategy and rule) are written at most once a minute: the first is
a row at once; the ones of the next ``RECORD_EVERY_S`` are held and counted, and written
once that minute is over, as one row that is their latest member with their count (its
``repeats``); a record of the kind that comes after a minute without one is a row at once
again. What is still held when the run ends is written then. So ``sum(repeats)`` over
the rows of a kind is every one that happened, a kind that repeats costs a row a minute
rather than a row a decision, and a count reaches the ledger at most a minute (and a
housekeeping tick) after its records.

The minute is measured on the monotonic clock (a wall clock stepped back would hold
every kind until it caught up); a row's own time is the wall time of its record.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable
from typing import Generic, TypeVar

RECORD_EVERY_S = 60.0

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class RepeatFold(Generic[K, T]):
    """Held repeats per key: ``admit`` says whether a record is written now, ``due``
    gives the held ones whose minute is over, ``drain`` all that are left."""

    __slots__ = ("_every", "_written", "_held", "_due", "_seq")

    def __init__(self, every_s: float = RECORD_EVERY_S) -> None:
        self._every = every_s
        self._written: dict[K, float] = {}  # key -> when (monotonic) its last row was written
        self._held: dict[K, tuple[int, T]] = {}  # key -> (how many held, the latest)
        # (when a key's minute is over, a tie-break, the key, when its row was written):
        # one entry per row written, so a key's minute ends on time and a key that stops
        # repeating is forgotten.
        self._due: list[tuple[float, int, K, float]] = []
        self._seq = 0

    def admit(self, key: K, now: float, item: T) -> int:
        """0: the record is held (counted into its key's next row). n >= 1: write it now,
        as a row standing for n records (itself and the n - 1 held before it)."""
        written = self._written.get(key)
        # `written + every` as the minute's end in `due`: the same float sum in both.
        if written is not None and now < written + self._every:
            held = self._held.get(key)
            self._held[key] = (1 if held is None else held[0] + 1, item)
            return 0
        held = self._held.pop(key, None)
        self._wrote(key, now)
        return 1 if held is None else held[0] + 1

    def due(self, now: float) -> list[tuple[int, T]]:
        """The held records whose key's minute is over, one (count, latest record) per
        key; each is a row written now. Keys idle for a minute are forgotten."""
        queue = self._due
        if not queue or queue[0][0] > now:
            return []  # the common case: one comparison a housekeeping tick
        out: list[tuple[int, T]] = []
        while queue and queue[0][0] <= now:
            _, _, key, written = heapq.heappop(queue)
            if self._written.get(key) != written:
                continue  # a row written since has an entry of its own
            held = self._held.pop(key, None)
            if held is None:
                del self._written[key]  # a minute without a repeat: the next one is a row
            else:
                out.append(held)
                self._wrote(key, now)
        return out

    def drain(self) -> list[tuple[int, T]]:
        """What is still held, one (count, latest record) per key, in the order the keys
        began holding; nothing is held or remembered afterwards (the run is ending)."""
        out = list(self._held.values())
        self._held.clear()
        self._written.clear()
        self._due.clear()
        return out

    @property
    def holding(self) -> int:
        """How many records are held, across all keys."""
        return sum(n for n, _ in self._held.values())

    def _wrote(self, key: K, now: float) -> None:
        self._written[key] = now
        self._seq += 1
        heapq.heappush(self._due, (now + self._every, self._seq, key, now))

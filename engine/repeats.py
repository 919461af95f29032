"""Repeats folded into counts: the ledger keeps one row a minute of a decision that repeats.

A rule that refuses an entry keeps refusing it while it holds: with the order rate cap
full, every book update of every wanted token is refused again (at 1,000 markets ~390 a
second, two rows each). Each such record is kept, as a count: the first of its kind is a
row at once; the identical ones of the next ``RECORD_EVERY_S`` are held and counted; the
next one after that is a row standing for itself and those held before it (its
``repeats``); what is still held when the run ends is written then, as its latest
member. So ``sum(repeats)`` over the rows of a kind is every one that happened, and a
kind that repeats costs a row a minute, not a row a decision.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

RECORD_EVERY_S = 60.0

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class RepeatFold(Generic[K, T]):
    """Held repeats per key; ``admit`` says whether a record is written now."""

    __slots__ = ("_every", "_written", "_held")

    def __init__(self, every_s: float = RECORD_EVERY_S) -> None:
        self._every = every_s
        self._written: dict[K, float] = {}  # key -> when its last row was written
        self._held: dict[K, tuple[int, T]] = {}  # key -> (how many held, the latest)

    def admit(self, key: K, at: float, item: T) -> int:
        """0: the record is held (counted into its key's next row). n >= 1: write it now
        as a row standing for n records (itself and the n - 1 held before it)."""
        written = self._written.get(key)
        if written is not None and at - written < self._every:
            held = self._held.get(key)
            self._held[key] = (1 if held is None else held[0] + 1, item)
            return 0
        self._written[key] = at
        held = self._held.pop(key, None)
        return 1 if held is None else held[0] + 1

    def drain(self) -> list[tuple[int, T]]:
        """What is still held, one (count, latest record) per key, in the order the keys
        were first held; nothing is held afterwards (the run is ending)."""
        out = list(self._held.values())
        self._held.clear()
        self._written.clear()
        return out

    @property
    def holding(self) -> int:
        """How many records are held, across all keys."""
        return sum(n for n, _ in self._held.values())

"""Log lines a decision pass writes once its orders have left.

A log line on a cold path costs tens of microseconds (its record, its formatted figures,
the hand-off to the log file's thread): an entry's ``[sizing]`` and ``ORDER`` lines were a
third of the time from a frame to its order. While a pass holds the book, each line waits,
its arguments fixed (immutable values only), and the lines are written in the order they
were asked for when the pass ends; outside a pass a line is written at once.
"""

from __future__ import annotations

from collections.abc import Callable

Line = Callable[[], None]


class Logbook:
    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held: list[Line] | None = None

    def write(self, line: Line) -> None:
        """`line()` now, or when the pass holding the book ends."""
        held = self._held
        if held is None:
            line()
        else:
            held.append(line)

    def hold(self) -> None:
        """Lines wait from now until :meth:`release`."""
        if self._held is None:
            self._held = []

    def release(self) -> None:
        """Write the lines that waited, in order; lines are written at once again."""
        held, self._held = self._held, None
        if held:
            for line in held:
                line()

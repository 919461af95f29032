"""The Clock port: the only source of time in the engine.

``time()`` gives unix seconds for timestamps that are stored or shown, ``monotonic()``
seconds for ages, timeouts and cadences, and ``sleep()`` waits. Live and headless runs
use :class:`SystemClock`. Backtests use :class:`SimClock`: time moves only when the
runner advances it, and timers due on the way fire first, in time order, so a replay on
a simulated clock runs exactly the code a live run does.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol


def perf_ns() -> int:
    """A CPU stopwatch for instrumentation only (latency figures); it never decides
    anything, so a backtest stays a pure function of its inputs."""
    return time.perf_counter_ns()


class Clock(Protocol):
    def time(self) -> float:
        """Unix seconds, for timestamps that are stored or shown."""

    def monotonic(self) -> float:
        """Seconds that never go backwards, for ages, timeouts and cadences."""

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class SimClock:
    """A simulated clock with a timer heap, advanced by its driver (the backtest runner).

    ``time()`` and ``monotonic()`` read the same simulated instant, so an age computed
    on one and a timestamp written from the other never disagree.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()  # ties fire in the order they were set
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []

    def time(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now

    def call_at(self, when: float, callback: Callable[[], None]) -> None:
        """Run `callback` when simulated time reaches `when` (at once if already past)."""
        heapq.heappush(self._timers, (max(when, self._now), next(self._seq), callback))

    def next_due(self) -> float | None:
        due = [self._timers[0][0]] if self._timers else []
        if self._sleepers:
            due.append(self._sleepers[0][0])
        return min(due) if due else None

    def advance_to(self, when: float) -> int:
        """Move time forward to `when`, firing every timer due on the way; returns how many.

        Time never goes backwards: an earlier `when` (an out-of-order tape record) leaves
        the clock where it is.
        """
        fired = 0
        timers = self._timers
        while timers and timers[0][0] <= when:
            at, _, callback = heapq.heappop(timers)
            self._now = max(self._now, at)
            callback()
            fired += 1
        sleepers = self._sleepers
        while sleepers and sleepers[0][0] <= when:
            at, _, fut = heapq.heappop(sleepers)
            self._now = max(self._now, at)
            if not fut.done():
                fut.set_result(None)
        self._now = max(self._now, when)
        return fired

    async def sleep(self, seconds: float) -> None:
        """Suspend until the driver advances simulated time past now + seconds."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + max(0.0, seconds), next(self._seq), fut))
        await fut

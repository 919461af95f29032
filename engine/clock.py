"""The Clock port: wall time for records, monotonic time for intervals, and sleep.

Live and headless runs use :class:`SystemClock`; backtests plug in a simulated clock.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


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

"""A clock whose sleep advances time at once: deterministic pacing tests."""

from __future__ import annotations

import asyncio


class FakeClock:
    """A clock whose sleep advances time at once: deterministic pacing tests."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return 1_700_000_000.0 + self.now

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)

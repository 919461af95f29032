"""Traded flow per token: short and long exponentially weighted rates of printed size, so
a strategy can tell a volume spike (short rate well above the long one) from a busy
market. Floats: an indicator, not money."""

from __future__ import annotations

import math


class TradeFlow:
    __slots__ = ("short_s", "long_s", "short_rate", "long_rate", "last_at", "prints")

    def __init__(self, short_s: float = 30.0, long_s: float = 600.0) -> None:
        self.short_s = short_s
        self.long_s = long_s
        self.short_rate = 0.0  # shares per second
        self.long_rate = 0.0
        self.last_at: float | None = None
        self.prints = 0

    def on_print(self, shares: float, now: float) -> None:
        # Runs for every trade print: the decay to `now` is inlined (the same arithmetic,
        # in the same order) and skipped when no time passed (prints of one frame).
        last = self.last_at
        if last is None:
            self.last_at = now
        elif now > last:
            dt = now - last
            self.short_rate *= math.exp(-dt / self.short_s)
            self.long_rate *= math.exp(-dt / self.long_s)
            self.last_at = now
        self.short_rate += shares / self.short_s
        self.long_rate += shares / self.long_s
        self.prints += 1

    def rates(self, now: float) -> tuple[float, float]:
        """(short, long) rates as of `now`, without changing the state."""
        last = self.last_at
        if last is None:
            return 0.0, 0.0
        dt = max(0.0, now - last)
        return (
            self.short_rate * math.exp(-dt / self.short_s),
            self.long_rate * math.exp(-dt / self.long_s),
        )

    def spike(self, now: float) -> float:
        """Short rate over long rate: 1 is usual flow, 3 is three times the usual."""
        short, long = self.rates(now)
        if long <= 0:
            return 0.0
        return short / long

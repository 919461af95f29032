"""Mean reversion: buy a token whose mid has fallen well below its recent mean, sell the
position once the mid has come back.

Mids are sampled at most once per ``sample_interval_s`` of clock time, when the book
changes, so the window is a span of time (window x interval) whatever the message rate,
and a backtest samples exactly what a live run would. The mean and variance are kept as
running sums (recomputed exactly every window to stop float drift): this runs on every
book update. Floats are fine here: this is an indicator, not money.
"""

from __future__ import annotations

import math
from collections import deque

from engine.config import MeanReversionConfig
from engine.orders import Side
from engine.strategies.base import MarketContext, Signal


class _Window:
    __slots__ = ("values", "total", "total_sq", "since_exact", "last_sample")

    def __init__(self, size: int) -> None:
        self.values: deque[float] = deque(maxlen=size)
        self.total = 0.0
        self.total_sq = 0.0
        self.since_exact = 0
        self.last_sample = -math.inf

    def add(self, x: float) -> None:
        values = self.values
        if len(values) == values.maxlen:
            old = values[0]
            self.total -= old
            self.total_sq -= old * old
        values.append(x)
        self.total += x
        self.total_sq += x * x
        self.since_exact += 1
        if self.since_exact >= len(values):
            self.total = math.fsum(values)
            self.total_sq = math.fsum(v * v for v in values)
            self.since_exact = 0

    def zscore(self, full: int) -> float | None:
        n = len(self.values)
        if n < full:
            return None
        mean = self.total / n
        var = self.total_sq / n - mean * mean
        if var <= 1e-12:
            return None
        return (self.values[-1] - mean) / math.sqrt(var)


class MeanReversion:
    name = "mean_reversion"

    def __init__(self, config: MeanReversionConfig) -> None:
        self.config = config
        self.weight = config.weight
        self._windows: dict[str, _Window] = {}

    def zscore(self, asset_id: str) -> float | None:
        window = self._windows.get(asset_id)
        return None if window is None else window.zscore(self.config.window)

    def on_tick(self, ctx: MarketContext) -> Signal | None:
        cfg = self.config
        window = self._windows.get(ctx.asset_id)
        if window is None:
            window = self._windows[ctx.asset_id] = _Window(cfg.window)
        if ctx.now - window.last_sample < cfg.sample_interval_s:
            return None
        book = ctx.book
        mid = book.mid()
        spread = book.spread()
        if mid is None or spread is None:
            return None
        window.last_sample = ctx.now
        window.add(mid)
        z = window.zscore(cfg.window)
        if z is None:
            return None
        if ctx.position > 0 and z >= -cfg.exit_z:
            return Signal(
                self.name, ctx.asset_id, Side.SELL, 1.0, f"reverted to mean (z={z:+.2f})", True
            )
        if spread > cfg.max_spread_ticks * book.tick:
            return None  # too wide to enter: the spread would eat the edge
        if z <= -cfg.entry_z:
            strength = min(1.0, -z / (1.5 * cfg.entry_z))
            return Signal(
                self.name, ctx.asset_id, Side.BUY, strength, f"mid {z:+.2f} sd below mean"
            )
        return None

"""Mean reversion: buy a token whose mid has fallen well below its recent mean, sell
the position once the mid has come back.

Mids are sampled once per decision tick, so the window is a span of time
(window x decision interval). Floats are fine here: this is an indicator, not money.
"""

from __future__ import annotations

import math
from collections import deque

from engine.config import MeanReversionConfig
from engine.orders import Side
from engine.strategies.base import MarketContext, Signal


class MeanReversion:
    name = "mean_reversion"

    def __init__(self, config: MeanReversionConfig) -> None:
        self.config = config
        self.weight = config.weight
        self._mids: dict[str, deque[float]] = {}

    def zscore(self, asset_id: str) -> float | None:
        window = self._mids.get(asset_id)
        if window is None or len(window) < self.config.window:
            return None
        n = len(window)
        mean = math.fsum(window) / n
        var = math.fsum((x - mean) ** 2 for x in window) / n
        if var <= 1e-12:
            return None
        return (window[-1] - mean) / math.sqrt(var)

    def on_tick(self, ctx: MarketContext) -> Signal | None:
        cfg = self.config
        book = ctx.book
        mid = book.mid()
        spread = book.spread()
        if mid is None or spread is None:
            return None
        window = self._mids.get(ctx.asset_id)
        if window is None:
            window = self._mids[ctx.asset_id] = deque(maxlen=cfg.window)
        window.append(mid)
        z = self.zscore(ctx.asset_id)
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

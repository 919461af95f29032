"""The session's series for the console's charts, one point per second of engine time.

Sampled from the snapshots the engine publishes, keyed by the engine's clock: a live run
samples at most once a second however fast snapshots arrive, and a replay on a simulated
clock samples the same points every time (the snapshot tests depend on that).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from engine.runtime.snapshot import EngineSnapshot

POINTS = 600  # ten minutes of one-second points
MID_POINTS = 120  # per token: the markets pane's trend and the detail screen's sparkline


@dataclass(frozen=True, slots=True)
class Point:
    at: float
    equity: float
    day_pnl: float  # equity against the kill switch's baseline for the trading day
    loss_limit: float  # the loss that trips the kill switch (positive)


class SessionHistory:
    def __init__(self) -> None:
        self.points: deque[Point] = deque(maxlen=POINTS)
        self.mids: dict[str, deque[float]] = {}
        self.version = 0  # bumps with every sample: panes redraw charts only then
        self._second: int | None = None

    def observe(self, snap: EngineSnapshot) -> bool:
        """Take a sample when `snap` is in a new second of engine time; True if it did."""
        second = int(snap.at)
        if second == self._second:
            return False
        self._second = second
        ks = snap.kill_switch
        self.points.append(
            Point(snap.at, float(snap.equity), float(snap.equity - ks.baseline), float(ks.limit))
        )
        for row in snap.markets:
            if row.best_bid is None or row.best_ask is None:
                continue
            series = self.mids.get(row.asset_id)
            if series is None:
                series = self.mids[row.asset_id] = deque(maxlen=MID_POINTS)
            series.append(float(row.best_bid + row.best_ask) / 2)
        self.version += 1
        return True

    def equity(self) -> list[float]:
        return [p.equity for p in self.points]

    def day_pnl(self) -> list[float]:
        return [p.day_pnl for p in self.points]

    def loss_floor(self) -> float | None:
        """Minus the current loss limit: the line the day's PnL must stay above."""
        return -self.points[-1].loss_limit if self.points else None

    def mid_series(self, asset_id: str, last: int | None = None) -> list[float]:
        series = self.mids.get(asset_id)
        if series is None:
            return []
        values = list(series)
        return values if last is None else values[-last:]

"""Frame-to-order latency: engine time from a frame's arrival to the order it caused.

Each sample is the interval from the receive timestamp of the frame that triggered a
decision (the first frame that changed the book since its last decision) to the moment
the order is handed to the gateway. The live runner records them; the snapshot carries
the figures (p50/p99/max) and a cumulative histogram over fixed buckets, which the run
summary, ``polyterm ctl`` and the metrics endpoint read. A bounded reservoir keeps the
percentiles; the histogram counts every sample; a long run costs no memory.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

RESERVOIR = 100_000
# Bucket upper bounds, microseconds (the engine decides in tens of microseconds to a few
# milliseconds; a loaded box reaches tens of milliseconds).
BUCKETS_US: tuple[float, ...] = (
    50,
    100,
    250,
    500,
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    1_000_000,
)


@dataclass(frozen=True, slots=True)
class LatencyFigures:
    count: int
    p50_us: float
    p99_us: float
    max_us: float


@dataclass(frozen=True, slots=True)
class LatencyHistogram:
    """Samples per bucket (``counts[i]``: at most ``BUCKETS_US[i]``, the last: above them
    all), their sum and count, since the run started."""

    counts: tuple[int, ...]
    sum_us: float
    count: int
    bounds_us: tuple[float, ...] = BUCKETS_US


@dataclass(frozen=True, slots=True)
class LatencyView:
    """What a snapshot carries of the frame -> order latency."""

    figures: LatencyFigures
    histogram: LatencyHistogram


class LatencyRecorder:
    def __init__(self) -> None:
        self.samples: list[int] = []  # nanoseconds, the first RESERVOIR orders
        self.count = 0
        self.version = 0
        self._buckets = [0] * (len(BUCKETS_US) + 1)
        self._sum_us = 0.0
        self._view: tuple[int, LatencyView | None] = (0, None)

    def add(self, ns: int, orders: int = 1) -> None:
        """`orders` orders handed on `ns` nanoseconds after their frame arrived."""
        self.count += orders
        self.version += 1
        us = ns / 1000
        self._buckets[bisect_left(BUCKETS_US, us)] += orders
        self._sum_us += us * orders
        if len(self.samples) < RESERVOIR:
            self.samples.extend([ns] * min(orders, RESERVOIR - len(self.samples)))

    def figures(self) -> LatencyFigures | None:
        if not self.samples:
            return None
        ordered = sorted(self.samples)
        n = len(ordered)

        def pct(q: float) -> float:
            return ordered[min(n - 1, int(q * n))] / 1000

        return LatencyFigures(self.count, pct(0.50), pct(0.99), ordered[-1] / 1000)

    def histogram(self) -> LatencyHistogram:
        return LatencyHistogram(tuple(self._buckets), self._sum_us, self.count)

    def view(self) -> LatencyView | None:
        """Figures and histogram as of now (worked out again only after new samples:
        snapshots ask ten times a second)."""
        version, view = self._view
        if version != self.version:
            figures = self.figures()
            view = None if figures is None else LatencyView(figures, self.histogram())
            self._view = (self.version, view)
        return view

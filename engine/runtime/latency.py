"""Frame-to-order latency: engine time from a frame's arrival to the order it caused.

Recorded by the runners with the CPU stopwatch; shown in the run summary's figures and
printed by the benchmarks. Keeps a bounded reservoir so a long run costs no memory.
"""

from __future__ import annotations

from dataclasses import dataclass

RESERVOIR = 100_000


@dataclass(frozen=True, slots=True)
class LatencyFigures:
    count: int
    p50_us: float
    p99_us: float
    max_us: float


class LatencyRecorder:
    def __init__(self) -> None:
        self.samples: list[int] = []
        self.count = 0

    def add(self, ns: int, orders: int = 1) -> None:
        self.count += orders
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

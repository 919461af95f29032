"""Per-endpoint request limits, as the venue publishes them (requests per 10 s).

Each request counts against its endpoint's window and the host-wide one (``CLOB`` or
``GAMMA``); past a limit the emulator answers 429 with ``Retry-After`` (seconds until the
oldest request in the window leaves it), as the venue does. Windows slide on the
emulator's clock. The figures are Polymarket's published table (API.md); they are
generous, so a well-behaved client never meets them. Set a key to 0 to lift that limit,
or pass an empty table to lift them all.
"""

from __future__ import annotations

import math
from collections import deque

from engine.clock import Clock
from engine.config.feed import VENUE_RATE_LIMITS

WINDOW_S = 10.0

# Keys: "METHOD /path" for one endpoint, "CLOB" or "GAMMA" for a whole host. The table is
# the one the feed paces itself by (engine.config.feed.VENUE_RATE_LIMITS); Gamma lives
# under /gamma here, so "GAMMA GET /markets" is "GET /gamma/markets".
VENUE_LIMITS: dict[str, int] = {
    (f"{key.split()[1]} /gamma{key.split()[2]}" if key.startswith("GAMMA ") else key): limit
    for key, limit in VENUE_RATE_LIMITS.items()
}


def endpoint_key(method: str, path: str) -> str:
    """The table key of a request: ``GET /data/order/0xab`` counts as ``GET /data/order``."""
    if path.startswith("/data/order/"):
        path = "/data/order"
    elif path.startswith("/gamma/markets/"):
        path = "/gamma/markets"
    return f"{method} {path}"


class Pacing:
    def __init__(self, limits: dict[str, int], clock: Clock) -> None:
        self.clock = clock
        self.limits: dict[str, int] = {}
        self.windows: dict[str, deque[float]] = {}
        self.limited = 0  # requests answered 429 by pacing
        self.update(limits, replace=True)

    def update(self, limits: dict[str, int], replace: bool = False) -> None:
        for key, value in limits.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"limit {key!r} must be a whole number >= 0 (0 lifts it)")
        if replace:
            self.limits = {}
            self.windows = {}
        self.limits.update(limits)

    def check(self, method: str, path: str) -> float | None:
        """Count one request; None when allowed, else seconds to wait (``Retry-After``)."""
        if not self.limits:
            return None
        host = "GAMMA" if path.startswith("/gamma") else "CLOB"
        keys = [k for k in (host, endpoint_key(method, path)) if self.limits.get(k)]
        if not keys:
            return None
        now = self.clock.monotonic()
        wait = 0.0
        for key in keys:
            window = self.windows.setdefault(key, deque())
            while window and window[0] <= now - WINDOW_S:
                window.popleft()
            if len(window) >= self.limits[key]:
                wait = max(wait, window[0] + WINDOW_S - now)
        if wait > 0:
            self.limited += 1
            return wait
        for key in keys:
            self.windows[key].append(now)
        return None

    @staticmethod
    def retry_after(wait: float) -> str:
        return str(max(1, math.ceil(wait)))

    def describe(self) -> dict[str, object]:
        return {"limits": dict(self.limits), "window_s": WINDOW_S, "limited": self.limited}

"""Pacing for venue requests: per-endpoint windows (the venue's published limits), an
optional token bucket of our own, and jittered backoff."""

from __future__ import annotations

import asyncio
import bisect
import random
from collections import deque
from collections.abc import Mapping

from engine.clock import Clock


class RateLimiter:
    """Token bucket: `rate` requests per second on average, bursts up to `burst`."""

    def __init__(self, clock: Clock, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self._clock = clock
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._stamp = clock.monotonic()

    def _refill(self) -> None:
        now = self._clock.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self) -> float:
        """Wait for a token; returns how long this call waited."""
        waited = 0.0
        self._refill()
        # The epsilon stops float rounding (0.9999999 tokens) from spinning on tiny sleeps.
        while self._tokens < 1.0 - 1e-9:
            delay = max((1.0 - self._tokens) / self.rate, 1e-6)
            await self._clock.sleep(delay)
            waited += delay
            self._refill()
        self._tokens = max(0.0, self._tokens - 1.0)
        return waited


class Backoff:
    """Exponential backoff with full jitter: a random delay in [base/2, min(cap, base*2^n)].

    Jitter keeps many clients (or many tasks of ours) from retrying in lockstep.
    """

    def __init__(self, base: float, cap: float, rng: random.Random | None = None) -> None:
        self.base = base
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * (2**self.attempt))
        self.attempt += 1
        return self._rng.uniform(min(self.base / 2, ceiling), ceiling)

    def reset(self) -> None:
        self.attempt = 0


WINDOW_S = 10.0  # the venue publishes its limits as requests per 10 s


def endpoint_key(method: str, path: str, table: Mapping[str, int], host: str = "") -> str | None:
    """The key of `table` that limits ``method path``: ``GET /data/order/0xab`` counts as
    ``GET /data/order`` (the longest key that is the path or a parent of it), a Gamma
    request as ``GAMMA GET /markets``. None when no key names the endpoint."""
    prefix = f"{host} " if host else ""
    head = f"{prefix}{method.upper()} "
    best: str | None = None
    for key in table:
        if not key.startswith(head):
            continue
        route = key[len(head) :]
        if (path == route or path.startswith(route + "/")) and (
            best is None or len(key) > len(best)
        ):
            best = key
    return best


class WindowLimiter:
    """Per-endpoint request limits over a sliding window, as the venue counts them.

    `limits` maps a key (``"CLOB"``, ``"GAMMA"`` for a whole host; ``"GET /book"``,
    ``"GAMMA GET /markets"`` for one endpoint) to requests per :data:`WINDOW_S`; 0 lifts
    a limit. A request counts against its endpoint's key and its host's, from
    :meth:`admit` until its answer arrives (:meth:`done`) and for a window after that.

    The venue counts a request when it arrives, some time between our sending it and
    our reading its answer; no clock of ours can see that instant. Its answer is the
    one moment we know comes after it, so the window runs from there: a request is
    admitted only when the venue has already let every older one go, whatever the
    network and the connection slots did to their timing. The cost is one round trip
    per window, against limits published per 10 s. A request given up on unanswered
    has no such moment; it is assumed to arrive within a window of being given up.
    """

    def __init__(self, clock: Clock, limits: Mapping[str, int]) -> None:
        self._clock = clock
        self.limits = {k: v for k, v in limits.items() if v > 0}
        # Answered requests, by the time their answer arrived (ascending).
        self._windows: dict[str, deque[float]] = {k: deque() for k in self.limits}
        # Admitted requests still waiting for their answer: they count, without a time.
        self._in_flight: dict[str, int] = dict.fromkeys(self.limits, 0)
        self._answered = asyncio.Event()
        self.waited_s = 0.0

    def keys_for(self, host: str, method: str, path: str) -> tuple[str, ...]:
        keys = [host] if host in self.limits else []
        endpoint = endpoint_key(method, path, self.limits, "" if host == "CLOB" else host)
        if endpoint is not None:
            keys.append(endpoint)
        return tuple(keys)

    async def acquire(self, keys: tuple[str, ...]) -> float:
        """Wait for room, count one request answered at once; returns how long it waited."""
        waited = await self.admit(keys)
        self.done(keys)
        return waited

    async def admit(self, keys: tuple[str, ...]) -> float:
        """Wait until each of `keys` has room in its window, then count one request in
        flight; returns how long it waited. Call :meth:`done` when it is answered,
        fails or is abandoned."""
        if not keys:
            return 0.0
        started = self._clock.monotonic()
        while True:
            now = self._clock.monotonic()
            wait = 0.0
            full = False
            for key in keys:
                window = self._windows[key]
                while window and window[0] <= now - WINDOW_S:
                    window.popleft()
                if len(window) + self._in_flight[key] >= self.limits[key]:
                    full = True
                    if window:
                        wait = max(wait, window[0] + WINDOW_S - now)
            if not full:
                for key in keys:
                    self._in_flight[key] += 1
                waited = self._clock.monotonic() - started
                self.waited_s += waited
                return waited
            if wait > 0:
                # A hair past the oldest answer's expiry, so the retry finds the room.
                await self._clock.sleep(wait + 1e-6)
            else:
                # Every place is held by a request in flight: its answer starts the
                # window that will free the place.
                await self._answered.wait()

    def done(self, keys: tuple[str, ...], *, unanswered: bool = False) -> None:
        """The request admitted under `keys` got its answer, or was never sent: its
        window starts now. `unanswered`: it was sent but we gave up on it (a timeout, a
        dropped connection, a cancel); it may still reach the venue and count there, at
        a moment no answer bounds, so it keeps its place for one more window."""
        if not keys:
            return
        stamp = self._clock.monotonic() + (WINDOW_S if unanswered else 0.0)
        for key in keys:
            self._in_flight[key] -= 1
            window = self._windows[key]
            if window and stamp < window[-1]:
                bisect.insort(window, stamp)  # before a held place: keep the window sorted
            else:
                window.append(stamp)
        self._answered.set()
        self._answered = asyncio.Event()

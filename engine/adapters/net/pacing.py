"""Pacing for venue requests: a token-bucket rate limiter and jittered backoff."""

from __future__ import annotations

import random

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

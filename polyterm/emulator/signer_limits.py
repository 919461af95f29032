"""Per-signer token buckets for order and cancel requests, with the venue's headers.

On top of the per-endpoint windows (``pacing.py``) the venue meters each signer: posting
costs one token per order (a batch of N costs N), a cancel one per order cancelled (a
cancel-all 1 plus what it cancelled). Every order and cancel answer carries
``Poly-RateLimit-Remaining`` (tokens left), ``Poly-RateLimit-Reset`` (unix seconds when
the bucket is full again) and ``Poly-RateLimit-Tier``; an empty bucket answers 429 with
``Retry-After``, or, in warning mode (``enforce`` off), lets the request through with
``Poly-RateLimit-Warning: true``. The official SDK reports these as ``RateLimitUpdate``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from engine.clock import Clock

TIER = "default"


@dataclass(slots=True)
class Bucket:
    capacity: float
    refill_per_s: float
    tokens: dict[str, float] = field(default_factory=dict)
    stamp: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    headers: dict[str, str]
    retry_after: float = 0.0


class SignerLimits:
    def __init__(self, clock: Clock, enforce: bool = True) -> None:
        self.clock = clock
        self.enforce = enforce
        # Generous defaults (the venue's burst figures): a sane client never meets them.
        self.buckets = {"order": Bucket(3500, 60.0), "cancel": Bucket(3000, 50.0)}
        self.limited = 0

    def configure(self, kind: str, capacity: float, refill_per_s: float) -> None:
        if kind not in self.buckets:
            raise ValueError(f"bucket {kind!r} is unknown: use order or cancel")
        if not (capacity > 0 and refill_per_s > 0):
            raise ValueError("capacity and refill_per_s must be numbers > 0")
        self.buckets[kind] = Bucket(capacity, refill_per_s)

    def charge(self, kind: str, signer: str, cost: float) -> Verdict:
        bucket = self.buckets[kind]
        now = self.clock.monotonic()
        key = signer.lower()
        have = bucket.tokens.get(key, bucket.capacity)
        have = min(bucket.capacity, have + (now - bucket.stamp.get(key, now)) * bucket.refill_per_s)
        bucket.stamp[key] = now
        short = cost - have
        warning = short > 0
        if warning and self.enforce:
            bucket.tokens[key] = have
            self.limited += 1
            wait = short / bucket.refill_per_s
            return Verdict(False, self._headers(bucket, have, False), wait)
        bucket.tokens[key] = have - cost
        return Verdict(True, self._headers(bucket, have - cost, warning))

    def _headers(self, bucket: Bucket, remaining: float, warning: bool) -> dict[str, str]:
        full_in = max(0.0, (bucket.capacity - remaining) / bucket.refill_per_s)
        headers = {
            "Poly-RateLimit-Remaining": str(math.floor(remaining)),
            "Poly-RateLimit-Reset": str(math.ceil(self.clock.time() + full_in)),
            "Poly-RateLimit-Tier": TIER,
        }
        if warning:
            headers["Poly-RateLimit-Warning"] = "true"
        return headers

    def describe(self) -> dict[str, object]:
        return {
            "enforce": self.enforce,
            "limited": self.limited,
            "buckets": {
                k: {"capacity": b.capacity, "refill_per_s": b.refill_per_s}
                for k, b in self.buckets.items()
            },
        }

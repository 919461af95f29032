"""Faults the emulator can inject on demand, switched at run time through
``POST /_admin/faults`` (or flags at start-up).

Deadlines (``ws_stall``) are kept on the emulator's clock, so a stall on a ``SimClock``
lasts exactly as long as the driver says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.clock import Clock, SystemClock

_COUNTERS = ("http_429", "http_5xx", "latency_ms", "malformed", "news_malformed")


@dataclass(slots=True)
class Faults:
    http_429: int = 0  # answer the next N REST requests (news included) with 429
    http_5xx: int = 0  # answer the next N REST requests (news included) with 503
    latency_ms: int = 0  # delay every REST response
    malformed: int = 0  # send N malformed market-channel frames
    news_malformed: int = 0  # answer the next N news requests with malformed JSON
    ws_stall_until: float = 0.0  # clock.monotonic() time until which the WS goes silent
    stale_books: bool = False  # REST books keep their old timestamp and content
    clock: Clock = field(default_factory=SystemClock, repr=False, compare=False)

    def stalled(self) -> bool:
        return self.clock.monotonic() < self.ws_stall_until

    def apply(self, spec: dict[str, Any]) -> list[str]:
        """Apply an admin request; returns which actions need the server (e.g. 'ws_drop')."""
        actions: list[str] = []
        for key, value in spec.items():
            if key == "ws_drop":
                if value:
                    actions.append("ws_drop")
            elif key == "ws_stall":
                self.ws_stall_until = self.clock.monotonic() + float(value)
            elif key in _COUNTERS:
                setattr(self, key, max(0, int(value)))
            elif key == "stale_books":
                self.stale_books = bool(value)
            elif key == "clear":
                if value:
                    self.http_429 = self.http_5xx = self.latency_ms = self.malformed = 0
                    self.news_malformed = 0
                    self.ws_stall_until = 0.0
                    self.stale_books = False
            else:
                raise ValueError(
                    f"unknown fault {key!r}: use ws_drop, ws_stall, http_429, http_5xx, "
                    "latency_ms, malformed, news_malformed, stale_books or clear"
                )
        return actions

    def describe(self) -> dict[str, Any]:
        remaining = max(0.0, self.ws_stall_until - self.clock.monotonic())
        return {
            "http_429": self.http_429,
            "http_5xx": self.http_5xx,
            "latency_ms": self.latency_ms,
            "malformed": self.malformed,
            "news_malformed": self.news_malformed,
            "stale_books": self.stale_books,
            "ws_stall_remaining_s": round(remaining, 3),
        }

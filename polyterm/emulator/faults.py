"""Faults the emulator can inject on demand, switched at run time through
``POST /_admin/faults`` (or flags at start-up).

Deadlines (``ws_stall``, ``user_ws_stall``) are kept on the emulator's clock, so a stall
on a ``SimClock`` lasts exactly as long as the driver says.

Faults for live trading tests: ``drop_heartbeats`` (heartbeats answer 503 and refresh
nothing, so the dead-man switch fires), ``user_ws_drop`` (cut every user-channel
socket), ``user_ws_delay_s`` (deliver user events that much later), ``user_ws_stall``
(seconds during which user events are lost, as a silent socket loses them),
``order_late`` with ``order_late_s`` (the next N order requests land at once but are
answered only after that many seconds: past a client's timeout), ``fail_trades`` (the
next N trades go MATCHED -> RETRYING -> FAILED and are reversed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.clock import Clock, SystemClock

_COUNTERS = (
    "http_429",
    "http_5xx",
    "latency_ms",
    "malformed",
    "news_malformed",
    "order_late",
    "fail_trades",
)
_SECONDS = ("order_late_s", "user_ws_delay_s")
_NAMES = (
    "ws_drop, ws_stall, http_429, http_5xx, latency_ms, malformed, news_malformed, "
    "stale_books, drop_heartbeats, user_ws_drop, user_ws_stall, user_ws_delay_s, "
    "order_late, order_late_s, fail_trades or clear"
)


@dataclass(slots=True)
class Faults:
    http_429: int = 0  # answer the next N REST requests (news included) with 429
    http_5xx: int = 0  # answer the next N REST requests (news included) with 503
    latency_ms: int = 0  # delay every REST response
    malformed: int = 0  # send N malformed market-channel frames
    news_malformed: int = 0  # answer the next N news requests with malformed JSON
    ws_stall_until: float = 0.0  # clock.monotonic() time until which the WS goes silent
    stale_books: bool = False  # REST books keep their old timestamp and content
    drop_heartbeats: bool = False
    user_ws_stall_until: float = 0.0
    user_ws_delay_s: float = 0.0
    order_late: int = 0
    order_late_s: float = 0.0
    fail_trades: int = 0
    clock: Clock = field(default_factory=SystemClock, repr=False, compare=False)

    def stalled(self) -> bool:
        return self.clock.monotonic() < self.ws_stall_until

    def user_stalled(self) -> bool:
        return self.clock.monotonic() < self.user_ws_stall_until

    def apply(self, spec: dict[str, Any]) -> list[str]:
        """Apply an admin request; returns the actions the server must take
        ('ws_drop', 'user_ws_drop', 'fail_trades')."""
        actions: list[str] = []
        for key, value in spec.items():
            if key in ("ws_drop", "user_ws_drop"):
                if _flag(key, value):
                    actions.append(key)
            elif key == "ws_stall":
                self.ws_stall_until = self.clock.monotonic() + _seconds(key, value)
            elif key == "user_ws_stall":
                self.user_ws_stall_until = self.clock.monotonic() + _seconds(key, value)
            elif key in _COUNTERS:
                setattr(self, key, max(0, _count(key, value)))
                if key == "fail_trades":
                    actions.append(key)
            elif key in _SECONDS:
                setattr(self, key, _seconds(key, value))
            elif key in ("stale_books", "drop_heartbeats"):
                setattr(self, key, _flag(key, value))
            elif key == "clear":
                if _flag(key, value):
                    self.clear()
            else:
                raise ValueError(f"unknown fault {key!r}: use {_NAMES}")
        return actions

    def clear(self) -> None:
        self.http_429 = self.http_5xx = self.latency_ms = self.malformed = 0
        self.news_malformed = self.order_late = self.fail_trades = 0
        self.ws_stall_until = self.user_ws_stall_until = 0.0
        self.user_ws_delay_s = self.order_late_s = 0.0
        self.stale_books = self.drop_heartbeats = False

    def describe(self) -> dict[str, Any]:
        now = self.clock.monotonic()
        return {
            "http_429": self.http_429,
            "http_5xx": self.http_5xx,
            "latency_ms": self.latency_ms,
            "malformed": self.malformed,
            "news_malformed": self.news_malformed,
            "stale_books": self.stale_books,
            "ws_stall_remaining_s": round(max(0.0, self.ws_stall_until - now), 3),
            "drop_heartbeats": self.drop_heartbeats,
            "user_ws_stall_remaining_s": round(max(0.0, self.user_ws_stall_until - now), 3),
            "user_ws_delay_s": self.user_ws_delay_s,
            "order_late": self.order_late,
            "order_late_s": self.order_late_s,
            "fail_trades": self.fail_trades,
        }


def _flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool | int):
        raise ValueError(f"{key} must be true or false, not {value!r}")
    return bool(value)


def _count(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{key} must be a whole number, not {value!r}")
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"{key} must be a whole number, not {value!r}") from exc


def _seconds(key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{key} must be a number of seconds, not {value!r}")
    try:
        seconds = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{key} must be a number of seconds, not {value!r}") from exc
    if not 0 <= seconds < 86400:
        raise ValueError(f"{key} must be between 0 and 86400 seconds, not {value!r}")
    return seconds

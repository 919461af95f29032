"""Order heartbeats and the venue's dead-man switch, per API key.

``POST /v1/heartbeats {"heartbeat_id": id}`` answers ``{"heartbeat_id": next}``. The first
accepted heartbeat arms the switch; each accepted one must carry the id the previous
answer gave (a stale id is refused with 400 ``{"error_msg": "Invalid Heartbeat ID",
"heartbeat_id": <expected>}``, which the SDK raises as ``OrderHeartbeatMismatchError``,
and does not refresh the deadline). About ten seconds without an accepted heartbeat
cancels every open order of the key and disarms the switch; a later heartbeat arms it
again. There is no disarm request, as on the venue.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from engine.clock import Clock

TIMEOUT_S = 10.0


@dataclass(slots=True)
class _Armed:
    expected: str
    deadline: float  # clock.monotonic()


class Heartbeats:
    def __init__(self, clock: Clock, timeout_s: float = TIMEOUT_S) -> None:
        self.clock = clock
        self.timeout_s = timeout_s
        self.armed: dict[str, _Armed] = {}
        self.fired = 0  # dead-man cancels so far

    def beat(self, api_key: str, heartbeat_id: str) -> tuple[bool, str]:
        """(accepted, id): the next id when accepted, else the id that was expected."""
        current = self.armed.get(api_key)
        if current is not None and heartbeat_id != current.expected:
            return False, current.expected
        nxt = secrets.token_hex(16)
        self.armed[api_key] = _Armed(nxt, self.clock.monotonic() + self.timeout_s)
        return True, nxt

    def lapsed(self) -> list[str]:
        """Keys whose deadline has passed: they are disarmed and returned (to cancel)."""
        now = self.clock.monotonic()
        gone = [key for key, armed in self.armed.items() if armed.deadline <= now]
        for key in gone:
            del self.armed[key]
        self.fired += len(gone)
        return gone

    def describe(self) -> dict[str, float]:
        now = self.clock.monotonic()
        return {key[:8] + "…": round(a.deadline - now, 3) for key, a in self.armed.items()}

"""The market channel's connections: subscriptions, venue-like framing, slow consumers.

Protocol (as Polymarket's market WebSocket):

- first message ``{"assets_ids": [...], "type": "market", "custom_feature_enabled": bool}``;
  later ``{"operation": "subscribe" | "unsubscribe", "assets_ids": [...],
  "custom_feature_enabled": bool}`` on the same connection; a subscribe answers ``book``
  snapshots for the assets it adds;
- ``best_bid_ask``, ``new_market`` and ``market_resolved`` go only to connections that
  subscribed with ``custom_feature_enabled: true``;
- one connection serves at most ``token_cap`` tokens (the first ones it asked for): past
  that, updates for the extra tokens silently never come, as on the venue.

Frames carry one message (``frame_messages = 1``, as the venue sends) or a JSON list of
at most ``frame_messages``. Frames are written straight to the connection's transport
without awaiting, so a slow reader never holds the flow or the other readers up; what a
reader has not taken yet waits in its transport buffer, and a reader whose backlog passes
``max_backlog_bytes`` is disconnected (counted), as a venue drops consumers that cannot
keep up. No compression is negotiated (loopback; it would cost more CPU than it saves).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence

from aiohttp import web

_TEXT = 0x81  # FIN + text opcode
MAX_FRAME_MESSAGES = 1000


def check_rate(rate: float | None, frame_messages: int) -> None:
    """One-line errors for the rate knobs (options, CLI and ``POST /_admin/rate``)."""
    if rate is not None and not (math.isfinite(rate) and rate > 0):
        raise ValueError(f"rate must be a number of messages per second > 0, or null; not {rate}")
    if not 1 <= frame_messages <= MAX_FRAME_MESSAGES:
        raise ValueError(
            f"frame_messages must be between 1 and {MAX_FRAME_MESSAGES}, not {frame_messages}"
        )


def ws_frame(payload: bytes) -> bytes:
    """One unmasked server-to-client RFC 6455 text frame around `payload`."""
    n = len(payload)
    if n < 126:
        return bytes((_TEXT, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", _TEXT, 126, n) + payload
    return struct.pack("!BBQ", _TEXT, 127, n) + payload


def frames_of(messages: Sequence[bytes], per_frame: int) -> Iterable[bytes]:
    """Encoded messages grouped `per_frame` to a frame: one object, or a JSON list."""
    if per_frame <= 1:
        for message in messages:
            yield ws_frame(message)
        return
    for i in range(0, len(messages), per_frame):
        chunk = messages[i : i + per_frame]
        yield ws_frame(b"[" + b",".join(chunk) + b"]")


class MarketConnection:
    """One market-channel WebSocket and what it asked for."""

    __slots__ = (
        "id",
        "ws",
        "request",
        "assets",
        "served",
        "custom_feature_enabled",
        "messages_sent",
        "frames_sent",
        "token_cap",
        "market_masks",
        "closed",
    )

    def __init__(
        self, conn_id: str, ws: web.WebSocketResponse, request: web.Request, token_cap: int
    ) -> None:
        self.id = conn_id
        self.ws = ws
        self.request = request
        self.assets: dict[str, None] = {}  # every token asked for, in order
        self.served: frozenset[str] = frozenset()  # the first `token_cap` of them
        self.custom_feature_enabled = False
        self.messages_sent = 0
        self.frames_sent = 0
        self.token_cap = token_cap
        # Rate mode: market index -> 1 (YES served), 2 (NO), 3 (both); see churn.py.
        self.market_masks: dict[int, int] = {}
        self.closed = False

    def subscribe(self, assets: Iterable[str]) -> list[str]:
        """Add tokens; returns the ones newly served (under the cap)."""
        before = self.served
        for asset in assets:
            self.assets.setdefault(asset, None)
        self._reserve()
        return [a for a in self.assets if a in self.served and a not in before]

    def unsubscribe(self, assets: Iterable[str]) -> None:
        for asset in assets:
            self.assets.pop(asset, None)
        self._reserve()

    def _reserve(self) -> None:
        cap = self.token_cap
        self.served = frozenset(list(self.assets)[:cap] if cap > 0 else self.assets)

    @property
    def over_cap(self) -> int:
        return max(0, len(self.assets) - len(self.served))

    def backlog(self) -> int:
        """Bytes written but not yet taken by the reader (0 once closed)."""
        transport = self.request.transport
        return transport.get_write_buffer_size() if transport is not None else 0

    def write(self, messages: Sequence[bytes], per_frame: int) -> bool:
        """Send `messages` framed `per_frame` to a frame; False when the socket is gone."""
        transport = self.request.transport
        if self.closed or transport is None or transport.is_closing():
            return False
        frames = list(frames_of(messages, per_frame))
        transport.write(b"".join(frames))
        self.messages_sent += len(messages)
        self.frames_sent += len(frames)
        return True

    def abort(self) -> None:
        """Cut the connection at once, without a close handshake (a dropped socket)."""
        self.closed = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    def describe(self) -> dict[str, object]:
        return {
            "id": self.id,
            "assets": list(self.assets),
            "custom_feature_enabled": self.custom_feature_enabled,
            "messages_sent": self.messages_sent,
            "frames_sent": self.frames_sent,
            "served": len(self.served),
            "over_cap": self.over_cap,
            "backlog_bytes": self.backlog(),
        }

"""Feed health: where market data is coming from right now and how fresh it is.

Risk reads it to halt, skip or scale strategies; every face shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class FeedSource(StrEnum):
    WS_INITIALISING = "ws_initialising"  # connecting or waiting for the first WS message
    WS_LIVE = "ws_live"  # WS messages flowing
    WS_STALE = "ws_stale"  # WS open but silent for too long; a reconnect is under way
    REST_ONLY = "rest_only"  # WS down: books sampled over REST until it is back
    REPLAY = "replay"  # a recorded tape


@dataclass(frozen=True, slots=True)
class FeedHealthSnapshot:
    current_source: str
    ws_connected: bool
    ws_age_s: float | None
    rest_age_s: float | None
    fallback_reason: str | None
    reconnect_cooldown_s: float
    ws_reconnects: int
    ws_messages: int
    bad_frames: int
    rest_requests: int
    rest_429: int
    rest_5xx: int
    rest_errors: int
    rest_latency_ms: float | None
    rest_latency_avg_ms: float | None
    subscribed_assets: int
    ws_shards: int = 0  # market-channel connections
    ws_shards_live: int = 0  # of which streaming
    ws_sliced_frames: int = 0  # long frames applied in slices
    # While the feed starts: what it is doing ("listing markets", "market details
    # 120/200", "loading books 120/400"); None once every selected book has loaded.
    startup: str | None = None
    books_expected: int = 0
    books_loaded: int = 0
    skipped_markets: tuple[tuple[str, int], ...] = ()  # (reason, count)


class FeedHealth:
    """Mutable record owned by the feed; readers take :meth:`snapshot`."""

    def __init__(self) -> None:
        self.source = FeedSource.WS_INITIALISING
        self.ws_connected = False
        self.last_ws_message: float | None = None
        self.last_rest_fetch: float | None = None
        self.fallback_reason: str | None = None
        self.reconnect_at: float = 0.0
        self.ws_reconnects = 0
        self.ws_messages = 0
        self.bad_frames = 0
        self.rest_requests = 0
        self.rest_429 = 0
        self.rest_5xx = 0
        self.rest_errors = 0
        self.rest_latency_ms: float | None = None
        self.rest_latency_avg_ms: float | None = None
        self.subscribed_assets = 0
        # When the book of a token was last vouched for by the connection that carries it
        # (monotonic time of that connection's last message, while it streams; None when
        # no live connection carries the token). Set by a sharded stream; None: one
        # source vouches for every book (a tape, a replay).
        self.last_message_for: Callable[[str], float | None] | None = None
        self.ws_shards = 0
        self.ws_shards_live = 0
        self.ws_sliced_frames = 0
        self.startup: str | None = None
        self.books_expected = 0
        self.books_loaded = 0
        self.skipped_markets: dict[str, int] = {}
        self.transitions: list[tuple[float, str, str | None]] = []

    def set_source(self, source: FeedSource, now: float, reason: str | None = None) -> None:
        if source is not self.source:
            self.source = source
            self.transitions.append((now, source.value, reason))
            del self.transitions[:-50]
        if source is FeedSource.WS_LIVE:
            self.fallback_reason = None
        elif reason is not None:
            self.fallback_reason = reason

    def record_latency(self, ms: float) -> None:
        self.rest_latency_ms = ms
        prev = self.rest_latency_avg_ms
        self.rest_latency_avg_ms = ms if prev is None else prev * 0.9 + ms * 0.1

    def snapshot(self, now: float) -> FeedHealthSnapshot:
        def age(t: float | None) -> float | None:
            return None if t is None else round(max(0.0, now - t), 3)

        return FeedHealthSnapshot(
            current_source=self.source.value,
            ws_connected=self.ws_connected,
            ws_age_s=age(self.last_ws_message),
            rest_age_s=age(self.last_rest_fetch),
            fallback_reason=self.fallback_reason,
            reconnect_cooldown_s=round(max(0.0, self.reconnect_at - now), 3),
            ws_reconnects=self.ws_reconnects,
            ws_messages=self.ws_messages,
            bad_frames=self.bad_frames,
            rest_requests=self.rest_requests,
            rest_429=self.rest_429,
            rest_5xx=self.rest_5xx,
            rest_errors=self.rest_errors,
            rest_latency_ms=None
            if self.rest_latency_ms is None
            else round(self.rest_latency_ms, 2),
            rest_latency_avg_ms=(
                None if self.rest_latency_avg_ms is None else round(self.rest_latency_avg_ms, 2)
            ),
            subscribed_assets=self.subscribed_assets,
            ws_shards=self.ws_shards,
            ws_shards_live=self.ws_shards_live,
            ws_sliced_frames=self.ws_sliced_frames,
            startup=self.startup,
            books_expected=self.books_expected,
            books_loaded=self.books_loaded,
            skipped_markets=tuple(sorted(self.skipped_markets.items())),
        )

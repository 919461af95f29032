"""The market channel over sharded WebSocket connections.

The venue serves at most about 500 tokens on one connection (past that, updates silently
stop), so the subscription is spread over shards of at most ``shard_size`` tokens, each
its own connection with its own life: subscribe (with ``custom_feature_enabled``, so
``best_bid_ask``, ``new_market`` and ``market_resolved`` arrive), a text ``PING`` every
few seconds, a watchdog that treats silence as stale, reconnects with jittered backoff.
The set changes live with ``subscribe`` / ``unsubscribe`` operations on the shards that
hold the tokens; a shard left empty is closed. One shard down leaves the others
streaming: the feed samples only its tokens over REST until it is back.

The receive path has no Task per message: the connection calls back once per message
(see :mod:`engine.adapters.net.ws`), and every message one socket read brought in is
handed on before the loop runs anything else, with one timestamp per read. A message
longer than ``slice_bytes`` (a venue frame packing thousands of events) is not applied
in one go: it is split into slices of whole events, applied one slice per loop turn,
with reading paused meanwhile, so the loop never blocks for long and nothing is
reordered. Data frames are otherwise handed on untouched, so the book builder and the
recorder see exactly what the venue sent.

Cancellation is never swallowed (see :mod:`engine.adapters.net.tasks`): a stream
cancelled while a frame arrives, or while its watchdog winds down, stops; it does not
reconnect.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import msgspec

from engine.adapters.net.loopback import ensure_loopback, is_loopback_host
from engine.adapters.net.pacing import Backoff
from engine.adapters.net.tasks import cancel_and_wait
from engine.adapters.net.ws import CONNECT_ERRORS, WsConnection, open_connection
from engine.clock import Clock
from engine.market.health import FeedHealth, FeedSource

log = logging.getLogger("engine.adapters.polymarket.ws")

# raw frame, receive time (clock time), source ("ws"): MarketDataSink.on_frame's shape
FrameSink = Callable[[bytes | str, float, str], None]
ConnectedHook = Callable[[list[str]], Awaitable[None]]

_LIVE = FeedSource.WS_LIVE
_RANK = {
    FeedSource.WS_LIVE: 0,
    FeedSource.WS_INITIALISING: 1,
    FeedSource.WS_STALE: 2,
    FeedSource.REST_ONLY: 3,
}
_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])


def split_frame(payload: bytes, slice_bytes: int) -> list[bytes]:
    """A frame's events regrouped into JSON lists of about `slice_bytes` each, in order.

    A frame that is one object (or not JSON at all) cannot be split: it comes back
    whole, and the book builder reports it if it is bad.
    """
    try:
        items = _RAW_LIST.decode(payload)
    except msgspec.DecodeError:
        return [payload]
    parts: list[bytes] = []
    chunk: list[msgspec.Raw] = []
    size = 0
    for item in items:
        chunk.append(item)
        size += len(item)
        if size >= slice_bytes:
            parts.append(b"[" + b",".join(chunk) + b"]")
            chunk, size = [], 0
    if chunk or not parts:
        parts.append(b"[" + b",".join(chunk) + b"]")
    return parts


def subscription(assets: list[str], operation: str | None = None) -> str:
    """The market channel's subscription message (first) or operation (later)."""
    body: dict[str, Any] = {"assets_ids": assets}
    if operation is None:
        body["type"] = "market"
    else:
        body["operation"] = operation
    body["custom_feature_enabled"] = True
    return json.dumps(body, separators=(",", ":"))


class MarketShard:
    """One connection of the stream and the tokens it carries."""

    def __init__(self, shard_id: int, stream: MarketStream) -> None:
        self.id = shard_id
        self.stream = stream
        self.assets: dict[str, None] = {}  # wanted, in order
        self.state = FeedSource.WS_INITIALISING
        self.reason: str | None = None
        self.connected = False
        self.reconnects = 0
        self.frames = 0
        self.sliced = 0
        self.reconnect_at = 0.0
        self.last_seen = stream.clock.monotonic()
        self._told: set[str] = set()  # what the open connection was subscribed to
        self._conn: WsConnection | None = None
        self._backoff = Backoff(stream.reconnect_base_s, stream.reconnect_cap_s)
        self._backlog: deque[tuple[bytes, float]] = deque()
        self._drainer: asyncio.Task[None] | None = None
        self._read_ts: float | None = None  # receive time of the read being handed on
        self._stale_reason: str | None = None
        # Read on every message: kept here rather than looked up through the stream.
        self._health = stream.health
        self._deliver = stream.on_frame
        self._slice_bytes = stream.slice_bytes

    # -- subscription -----------------------------------------------------------------
    async def subscribe(self, assets: list[str]) -> None:
        self.assets.update(dict.fromkeys(assets))
        self.stream._shard_of.update(dict.fromkeys(assets, self))
        conn = self._conn
        if conn is None:
            return  # sent with the whole list on connect
        new = [a for a in assets if a not in self._told]
        if new:
            self._told.update(new)
            await conn.send_text(subscription(new, "subscribe"))

    async def unsubscribe(self, assets: list[str]) -> None:
        shard_of = self.stream._shard_of
        for asset in assets:
            self.assets.pop(asset, None)
            if shard_of.get(asset) is self:
                del shard_of[asset]
        conn = self._conn
        if conn is None:
            return
        gone = [a for a in assets if a in self._told]
        if gone:
            self._told.difference_update(gone)
            await conn.send_text(subscription(gone, "unsubscribe"))

    # -- the connection's life ----------------------------------------------------------
    async def run(self) -> None:
        stream = self.stream
        clock = stream.clock
        while True:
            reason: str
            try:
                reason = await self._session()
            except CONNECT_ERRORS as exc:
                reason = (
                    f"WS {type(exc).__name__}: {exc}" if str(exc) else f"WS {type(exc).__name__}"
                )
            self.connected = False
            if self.state is not FeedSource.WS_STALE:
                self.state = FeedSource.REST_ONLY
            self.reason = reason
            delay = self._backoff.next_delay()
            self.reconnect_at = clock.monotonic() + delay
            stream.refresh_health()
            log.warning(
                "market WS shard %d down (%s); reconnecting in %.1fs", self.id, reason, delay
            )
            await clock.sleep(delay)
            self.reconnects += 1
            stream.health.ws_reconnects += 1

    async def _session(self) -> str:
        """One connection's life; returns why it ended."""
        stream = self.stream
        self._read_ts = None
        self._stale_reason = None
        conn = await open_connection(stream.url, self._on_message, compression=stream.compression)
        self._conn = conn
        watchdog: asyncio.Task[None] | None = None
        try:
            self.connected = True
            self.last_seen = stream.clock.monotonic()
            if self.state is not _LIVE:
                self.state = FeedSource.WS_INITIALISING
            stream.refresh_health()
            told = list(self.assets)
            self._told = set(told)
            await conn.send_text(subscription(told))
            watchdog = asyncio.create_task(self._watchdog(conn), name=f"ws-shard-{self.id}-watch")
            if self.reconnects and stream.on_connected is not None:
                await stream.on_connected(told)
            reason = await conn.closed()
            return self._stale_reason or reason
        finally:
            self._conn = None
            # Not `suppress(CancelledError): await task`: that also eats a cancel aimed at
            # this task while it waits, and the shard would reconnect for ever.
            if watchdog is not None:
                await cancel_and_wait(watchdog)
                if not watchdog.cancelled() and watchdog.exception() is not None:
                    log.warning("market WS watchdog failed: %r", watchdog.exception())
            await self._finish_backlog()
            await conn.aclose()

    async def _watchdog(self, conn: WsConnection) -> None:
        """PINGs on the venue's cadence, or twice per `stale_after` when that is shorter
        (a quiet stream still answers PONG in time); a stream silent for `stale_after` s
        is marked stale and cut the moment that time is up."""
        stream = self.stream
        clock = stream.clock
        stale_after = stream.stale_after_s
        ping_every = min(stream.ping_interval_s, stale_after / 2)
        next_ping = clock.monotonic() + ping_every
        while True:
            now = clock.monotonic()
            deadline = self.last_seen + stale_after
            await clock.sleep(max(0.0, min(next_ping, deadline) - now))
            now = clock.monotonic()
            if now >= next_ping:
                await conn.send_text("PING")
                next_ping = now + ping_every
            if now - self.last_seen >= stale_after:
                reason = f"no WS message for {stale_after:g}s"
                self._stale_reason = self.reason = reason
                self.state = FeedSource.WS_STALE
                stream.refresh_health()
                await conn.aclose()
                return

    # -- the receive path (a callback per message) ----------------------------------------
    def _on_message(self, payload: bytes, last: bool) -> None:
        ts = self._read_ts
        if ts is None:
            clock = self.stream.clock
            ts = clock.time()
            self.last_seen = self._health.last_ws_message = clock.monotonic()
            if not last:
                self._read_ts = ts
        elif last:
            self._read_ts = None
        if payload == b"PONG":
            return
        self.frames += 1
        self._health.ws_messages += 1
        if self.state is not _LIVE:
            self._now_live()
        if self._backlog or len(payload) > self._slice_bytes:
            self._queue(payload, ts)
            return
        self._deliver(payload, ts, "ws")

    def _now_live(self) -> None:
        self.state = _LIVE
        self.reason = None
        self._backoff.reset()
        self.stream.refresh_health()

    def _queue(self, payload: bytes, ts: float) -> None:
        """Hand a long frame (and whatever arrives behind it) on in slices, reading paused."""
        drainer = self._drainer
        failed = (
            drainer is not None
            and drainer.done()
            and not drainer.cancelled()
            and drainer.exception() is not None
        )
        if failed:
            return  # a frame failed to apply: the session is ending with that error
        self._backlog.append((payload, ts))
        if self._drainer is None or self._drainer.done():
            if self._conn is not None:
                self._conn.pause_reading()
            self._drainer = asyncio.create_task(self._drain(), name=f"ws-shard-{self.id}-slices")

    async def _drain(self) -> None:
        stream = self.stream
        on_frame, slice_bytes = stream.on_frame, stream.slice_bytes
        backlog = self._backlog
        try:
            while backlog:
                payload, ts = backlog.popleft()
                if len(payload) > slice_bytes:
                    parts = split_frame(payload, slice_bytes)
                    if len(parts) > 1:
                        self.sliced += 1
                        stream.health.ws_sliced_frames += 1
                    for i, part in enumerate(parts):
                        if i:
                            await asyncio.sleep(0)  # one slice per loop turn
                        on_frame(part, ts, "ws")
                else:
                    on_frame(payload, ts, "ws")
                await asyncio.sleep(0)
        except Exception:
            # A bug applying a frame: the rest of the backlog would build on a wrong book.
            # End the session; it raises this error (see _finish_backlog), as the direct
            # path does, so the feed fails loudly instead of trading on.
            backlog.clear()
            conn = self._conn
            if conn is not None:
                await conn.aclose()
            raise
        finally:
            if self._conn is not None:
                self._conn.resume_reading()

    async def _finish_backlog(self) -> None:
        """At the end of a session: frames already received are still applied (unless
        the stream is being cancelled); an error applying them is raised here."""
        drainer = self._drainer
        if drainer is None:
            return
        current = asyncio.current_task()
        if not drainer.done():
            if current is not None and current.cancelling():
                await cancel_and_wait(drainer)
            else:
                await asyncio.wait({drainer})
        self._drainer = None
        self._backlog.clear()
        if not drainer.cancelled() and drainer.exception() is not None:
            raise drainer.exception()  # type: ignore[misc]


class MarketStream:
    """The whole market-channel subscription, spread over :class:`MarketShard` s."""

    def __init__(
        self,
        url: str,
        clock: Clock,
        health: FeedHealth,
        on_frame: FrameSink,
        *,
        shard_size: int = 400,
        ping_interval_s: float = 10.0,
        stale_after_s: float = 5.0,
        reconnect_base_s: float = 1.0,
        reconnect_cap_s: float = 30.0,
        compression: bool = False,
        slice_bytes: int = 1 << 16,
        offline: bool = False,
        on_connected: ConnectedHook | None = None,
    ) -> None:
        if offline:
            ensure_loopback(url, "market WebSocket URL")
        if shard_size < 1:
            raise ValueError(f"shard_size must be >= 1, not {shard_size}")
        self.url = url
        self.clock = clock
        self.health = health
        self.on_frame = on_frame
        self.shard_size = shard_size
        self.ping_interval_s = ping_interval_s
        self.stale_after_s = stale_after_s
        self.reconnect_base_s = reconnect_base_s
        self.reconnect_cap_s = reconnect_cap_s
        # permessage-deflate costs CPU on every message and saves nothing on loopback.
        self.compression = compression and not is_loopback_host(urlsplit(url).hostname or "")
        self.slice_bytes = slice_bytes
        self.on_connected = on_connected
        health.last_message_for = self.last_message_for
        self.shards: list[MarketShard] = []
        self._shard_of: dict[str, MarketShard] = {}  # token -> the shard that carries it
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._group: asyncio.TaskGroup | None = None
        self._ids = 0

    @property
    def assets(self) -> list[str]:
        return [a for shard in self.shards for a in shard.assets]

    def assets_not_live(self) -> list[str]:
        """Tokens of the shards that are not streaming (the REST fallback samples these)."""
        return [a for s in self.shards if s.state is not _LIVE for a in s.assets]

    def shard_of(self, asset: str) -> MarketShard | None:
        return self._shard_of.get(asset)

    def last_message_for(self, asset: str) -> float | None:
        """When the connection carrying this token last said anything (monotonic), while
        it streams and has been asked for the token; None otherwise. A message on one
        connection vouches only for its own books: a shard gone silent without closing
        ages its books while the others talk on."""
        shard = self._shard_of.get(asset)
        if shard is None or shard.state is not _LIVE or asset not in shard._told:
            return None
        return shard.last_seen

    async def update_assets(self, assets: Iterable[str]) -> None:
        """Change the subscription: unsubscribe what went, subscribe what came (on
        shards with room, opening new ones as needed), close shards left empty."""
        wanted = dict.fromkeys(assets)
        for shard in self.shards:
            gone = [a for a in shard.assets if a not in wanted]
            if gone:
                await shard.unsubscribe(gone)
        held = {a for shard in self.shards for a in shard.assets}
        added = [a for a in wanted if a not in held]
        for shard in self.shards:
            if not added:
                break
            room = self.shard_size - len(shard.assets)
            if room > 0:
                take, added = added[:room], added[room:]
                await shard.subscribe(take)
        while added:
            take, added = added[: self.shard_size], added[self.shard_size :]
            shard = self._open_shard()
            await shard.subscribe(take)
        for shard in [s for s in self.shards if not s.assets]:
            self._close_shard(shard)
        self.health.subscribed_assets = len(wanted)
        self.refresh_health()

    def _open_shard(self) -> MarketShard:
        self._ids += 1
        shard = MarketShard(self._ids, self)
        self.shards.append(shard)
        if self._group is not None:
            self._start(shard)
        return shard

    def _start(self, shard: MarketShard) -> None:
        assert self._group is not None
        self._tasks[shard.id] = self._group.create_task(shard.run(), name=f"ws-shard-{shard.id}")

    def _close_shard(self, shard: MarketShard) -> None:
        self.shards.remove(shard)
        task = self._tasks.pop(shard.id, None)
        if task is not None:
            task.cancel()  # its session closes the connection as it unwinds

    async def run(self) -> None:
        """Run every shard (and those opened later) until cancelled."""
        async with asyncio.TaskGroup() as group:
            self._group = group
            try:
                for shard in self.shards:
                    self._start(shard)
                await asyncio.get_running_loop().create_future()  # until cancelled
            finally:
                self._group = None
                self._tasks.clear()

    def refresh_health(self) -> None:
        """The feed's health from its shards': live only when every shard is; otherwise
        the worst shard's state and reason (its tokens are sampled over REST)."""
        health = self.health
        shards = self.shards
        health.ws_shards = len(shards)
        health.ws_shards_live = sum(1 for s in shards if s.state is _LIVE)
        health.ws_connected = bool(shards) and all(s.connected for s in shards)
        if not shards:
            return
        worst = max(shards, key=lambda s: _RANK[s.state])
        health.reconnect_at = max(s.reconnect_at for s in shards)
        now = self.clock.monotonic()
        if worst.state is _LIVE:
            health.set_source(_LIVE, now)
            return
        reason = worst.reason
        if reason and len(shards) > 1:
            reason = f"shard {worst.id}: {reason}"
        health.set_source(worst.state, now, reason)

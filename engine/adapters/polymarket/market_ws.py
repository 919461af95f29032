"""The market-channel WebSocket client.

Subscribes to a set of assets, sends a text ``PING`` every few seconds, treats a silent
stream as stale, reconnects with jittered backoff and resubscribes. Every data frame is
handed on untouched (with its receive time) so the book builder and the recorder see
exactly what the venue sent.

Cancellation is never swallowed (see :mod:`engine.adapters.net.tasks`): a feed cancelled
while a frame arrives, or while its pinger winds down, stops; it does not reconnect.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import ClientConnection

from engine.adapters.net.loopback import ensure_loopback, is_loopback_host
from engine.adapters.net.pacing import Backoff
from engine.adapters.net.tasks import cancel_and_wait
from engine.clock import Clock
from engine.market.health import FeedHealth, FeedSource

log = logging.getLogger("engine.adapters.polymarket.ws")

FrameHandler = Callable[[str | bytes, float], None]


class MarketWebSocket:
    def __init__(
        self,
        url: str,
        clock: Clock,
        health: FeedHealth,
        on_frame: FrameHandler,
        *,
        ping_interval_s: float = 10.0,
        stale_after_s: float = 20.0,
        reconnect_base_s: float = 1.0,
        reconnect_cap_s: float = 30.0,
        offline: bool = False,
        on_connected: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        if offline:
            ensure_loopback(url, "market WebSocket URL")
        self.url = url
        self._clock = clock
        self._health = health
        self._on_frame = on_frame
        self._ping_interval = ping_interval_s
        self._stale_after = stale_after_s
        self._backoff = Backoff(reconnect_base_s, reconnect_cap_s)
        self._on_connected = on_connected
        self._assets: list[str] = []
        self._ws: ClientConnection | None = None
        self._subscribed: set[str] = set()
        # permessage-deflate costs about a quarter of the receive path and saves nothing
        # on loopback (the emulator); the venue keeps websockets' default.
        self._compression: str | None = (
            None if is_loopback_host(urlsplit(url).hostname or "") else "deflate"
        )

    @property
    def assets(self) -> list[str]:
        return list(self._assets)

    async def update_assets(self, assets: list[str]) -> None:
        """Change the subscription; applied at once when connected, else on connect."""
        self._assets = list(assets)
        self._health.subscribed_assets = len(assets)
        ws = self._ws
        if ws is None:
            return
        wanted = set(assets)
        added = [a for a in assets if a not in self._subscribed]
        removed = [a for a in self._subscribed if a not in wanted]
        try:
            if added:
                await ws.send(json.dumps({"assets_ids": added, "operation": "subscribe"}))
            if removed:
                await ws.send(json.dumps({"assets_ids": removed, "operation": "unsubscribe"}))
        except websockets.ConnectionClosed:
            return  # the session loop reconnects and subscribes to the full list
        self._subscribed = wanted

    async def run(self) -> None:
        health = self._health
        while True:
            reason: str
            try:
                reason = await self._session()
            except (OSError, websockets.WebSocketException, TimeoutError) as exc:
                reason = (
                    f"WS {type(exc).__name__}: {exc}" if str(exc) else f"WS {type(exc).__name__}"
                )
            self._ws = None
            health.ws_connected = False
            now = self._clock.monotonic()
            if health.source is not FeedSource.WS_STALE:
                health.set_source(FeedSource.REST_ONLY, now, reason)
            else:
                health.fallback_reason = reason
            delay = self._backoff.next_delay()
            health.reconnect_at = now + delay
            log.warning("market WS down (%s); reconnecting in %.1fs", reason, delay)
            await self._clock.sleep(delay)
            health.ws_reconnects += 1

    async def _session(self) -> str:
        """One connection's life; returns why it ended."""
        health = self._health
        async with websockets.connect(
            self.url,
            ping_interval=None,  # the venue wants text PINGs, sent below
            open_timeout=10,
            close_timeout=1,
            max_size=2**24,
            proxy=None,
            compression=self._compression,
        ) as ws:
            self._ws = ws
            health.ws_connected = True
            now = self._clock.monotonic()
            if health.source is not FeedSource.WS_LIVE:
                health.set_source(FeedSource.WS_INITIALISING, now, health.fallback_reason)
            self._subscribed = set(self._assets)
            await ws.send(json.dumps({"assets_ids": self._assets, "type": "market"}))
            if self._on_connected is not None:
                await self._on_connected()
            pinger = asyncio.create_task(self._ping(ws), name="ws-ping")
            try:
                return await self._receive(ws)
            finally:
                # Not `suppress(CancelledError): await pinger`: that also eats a cancel
                # aimed at this task while it waits, and the feed would reconnect forever.
                await cancel_and_wait(pinger)
                if not pinger.cancelled() and pinger.exception() is not None:
                    log.warning("market WS pinger failed: %r", pinger.exception())

    async def _receive(self, ws: ClientConnection) -> str:
        """Hand on frames until the stream closes or stays silent for `stale_after` s.

        One ``asyncio.timeout`` pushed forward on every message, not ``wait_for`` per
        ``recv``: on 3.11 ``wait_for`` drops a cancel that lands as ``recv`` completes
        (and it costs a task per message).
        """
        health = self._health
        clock = self._clock
        on_frame = self._on_frame
        stale_after = self._stale_after
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(stale_after) as silence:
                while True:
                    raw = await ws.recv()
                    silence.reschedule(loop.time() + stale_after)
                    now = clock.monotonic()
                    health.last_ws_message = now
                    if raw == "PONG":
                        continue
                    health.ws_messages += 1
                    if health.source is not FeedSource.WS_LIVE:
                        health.set_source(FeedSource.WS_LIVE, now)
                        self._backoff.reset()
                    on_frame(raw, clock.time())
        except TimeoutError:
            reason = f"no WS message for {stale_after:g}s"
            health.set_source(FeedSource.WS_STALE, clock.monotonic(), reason)
            return reason
        except websockets.ConnectionClosed as exc:
            return f"WS closed ({exc.rcvd.code if exc.rcvd else 'no close frame'})"

    async def _ping(self, ws: ClientConnection) -> None:
        while True:
            await self._clock.sleep(self._ping_interval)
            try:
                await ws.send("PING")
            except websockets.ConnectionClosed:
                return

"""The user channel: the venue's word on our orders and trades as they happen.

One WebSocket to ``{CLOB_WS_URL}/user``, authenticated with the API triplet in its first
frame, kept alive with text ``PING``s (the venue answers ``PONG``). A socket silent for
longer than ``stale_after_s`` -- not even a PONG -- is taken as dead and replaced. The
venue does not replay what a reconnect missed, so every connection after the first is
announced (``on_connected(again=True)``) and the gateway reconciles over REST.

This is a client of our own rather than the SDK's user stream: the SDK reconnects
silently (nothing tells its caller that events may have been missed) and drops the
oldest events when its queue is full; a trading engine must know both.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec

from engine.adapters.polymarket.wire.user import UserEvent, decode_user_frame
from engine.clock import Clock

log = logging.getLogger("engine.live.user_channel")
# The websockets library logs frames at debug level: the first one holds the API secret.
_quiet = logging.getLogger("engine.live.user_channel.socket")
_quiet.setLevel(logging.WARNING)
_quiet.propagate = False


class UserChannel:
    def __init__(
        self,
        url: str,
        credentials: Callable[[], dict[str, str]],
        clock: Clock,
        *,
        on_events: Callable[[Sequence[UserEvent]], None],
        on_connected: Callable[[bool], Awaitable[None]],
        on_lost: Callable[[str], None],
        ping_s: float = 10.0,
        stale_after_s: float = 25.0,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 10.0,
    ) -> None:
        self.url = url
        self._credentials = credentials  # the triplet, asked for only when it is sent
        self._clock = clock
        self._on_events = on_events
        self._on_connected = on_connected
        self._on_lost = on_lost
        self.ping_s = ping_s
        self.stale_after_s = stale_after_s
        self._backoff_base_s = backoff_base_s
        self._backoff_cap_s = backoff_cap_s
        self.connections = 0
        self.bad_frames = 0
        self.connected = asyncio.Event()

    async def run(self) -> None:
        """Connect, read, reconnect, until cancelled."""
        delay = self._backoff_base_s
        while True:
            try:
                await self._session()
                delay = self._backoff_base_s
            except (OSError, TimeoutError, ConnectionError) as exc:
                self._lost(f"user channel unreachable ({type(exc).__name__})")
            except Exception as exc:  # noqa: BLE001 - websockets raises its own kinds
                self._lost(f"user channel closed ({type(exc).__name__})")
            await self._clock.sleep(delay)
            delay = min(self._backoff_cap_s, delay * 2)

    def _lost(self, why: str) -> None:
        if self.connected.is_set():
            self.connected.clear()
            log.warning("%s: reconnecting", why)
            self._on_lost(why)

    async def _session(self) -> None:
        from websockets.asyncio.client import connect

        async with connect(
            self.url, open_timeout=10, close_timeout=1, ping_interval=None, logger=_quiet
        ) as ws:
            auth = {"type": "user", "auth": self._credentials()}
            await ws.send(json.dumps(auth))
            self.connections += 1
            again = self.connections > 1
            self.connected.set()
            if again:
                log.warning("user channel reconnected: reconciling what it missed")
            pinger = asyncio.create_task(self._ping(ws))
            try:
                await self._on_connected(again)
                await self._read(ws)
            finally:
                pinger.cancel()
                await asyncio.gather(pinger, return_exceptions=True)
        self._lost("user channel closed by the venue")

    async def _ping(self, ws: Any) -> None:
        while True:
            await self._clock.sleep(self.ping_s)
            await ws.send("PING")

    async def _read(self, ws: Any) -> None:
        while True:
            try:
                async with asyncio.timeout(self.stale_after_s):
                    raw = await ws.recv()
            except TimeoutError:
                self._lost(f"user channel silent for {self.stale_after_s:g} s")
                return
            if raw == "PONG" or raw == b"PONG":
                continue
            try:
                events = decode_user_frame(raw)
            except (ValueError, TypeError, AttributeError, msgspec.MsgspecError):
                self.bad_frames += 1
                text = raw if isinstance(raw, str) else raw.decode(errors="replace")
                if '"error"' in text:
                    # Never quoted: an error frame could echo what we sent.
                    log.error("user channel: the venue refused our API credentials")
                else:
                    log.warning("user channel: a frame that is not an order or trade event")
                continue
            if events:
                self._on_events(events)

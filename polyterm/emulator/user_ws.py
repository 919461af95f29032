"""The user channel (``/ws/user``): a key's own order and trade events.

Protocol (as the venue, as the official SDK speaks it): the first message is
``{"type": "user", "auth": {"apiKey", "secret", "passphrase"}, "markets": [...]}`` (no
``markets``: every market); later ``{"operation": "subscribe" | "unsubscribe",
"markets": [...]}`` change the set; text ``PING`` is answered ``PONG``. A bad triplet is
answered with an error and the socket closed (4001). Events are JSON lists of
``order`` (PLACEMENT / UPDATE / CANCELLATION) and ``trade`` (MATCHED, MINED, CONFIRMED,
RETRYING, FAILED) objects. The venue does not replay what a reconnect missed; neither
does this. Faults: ``user_ws_drop``, ``user_ws_stall`` (events lost), ``user_ws_delay_s``.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from engine.clock import Clock
from polyterm.emulator.auth import KeyStore
from polyterm.emulator.faults import Faults
from polyterm.emulator.state import Event


@dataclass(slots=True)
class UserSocket:
    ws: web.WebSocketResponse
    request: web.Request
    key: str
    markets: set[str] | None  # None: every market
    sent: int = 0


@dataclass(slots=True)
class UserChannel:
    keys: KeyStore
    faults: Faults
    clock: Clock
    sockets: list[UserSocket] = field(default_factory=list)
    delayed: list[tuple[float, str, Event]] = field(default_factory=list)
    dropped_events: int = 0

    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, heartbeat=None)
        await ws.prepare(request)
        sock: UserSocket | None = None
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                if msg.data == "PING":
                    await ws.send_str("PONG")
                    continue
                try:
                    command = json.loads(msg.data)
                    if not isinstance(command, dict):
                        raise TypeError
                except (ValueError, TypeError):
                    await ws.send_str(json.dumps({"error": "expected a subscription object"}))
                    continue
                if sock is None:
                    sock = self._authenticate(ws, request, command)
                    if sock is None:
                        await ws.send_str(json.dumps({"error": "invalid api key credentials"}))
                        await ws.close(code=4001)
                        break
                    self.sockets.append(sock)
                    continue
                self._change(sock, command)
        finally:
            if sock in self.sockets:
                self.sockets.remove(sock)
        return ws

    def _authenticate(
        self, ws: web.WebSocketResponse, request: web.Request, command: dict[str, object]
    ) -> UserSocket | None:
        auth = command.get("auth")
        if not isinstance(auth, dict):
            return None
        key = self.keys.check_triplet(
            str(auth.get("apiKey", "")),
            str(auth.get("secret", "")),
            str(auth.get("passphrase", "")),
        )
        if key is None:
            return None
        markets = command.get("markets")
        wanted = (
            {str(m).lower() for m in markets} if isinstance(markets, list) and markets else None
        )
        return UserSocket(ws, request, key.key, wanted)

    @staticmethod
    def _change(sock: UserSocket, command: dict[str, object]) -> None:
        operation = str(command.get("operation", "")).lower()
        raw = command.get("markets")
        markets = {str(m).lower() for m in raw} if isinstance(raw, list) else set()
        if operation == "subscribe":
            if sock.markets is not None:
                sock.markets |= markets
        elif operation == "unsubscribe":
            if sock.markets is None:
                return  # an all-markets subscription keeps everything, as the SDK expects
            sock.markets -= markets

    async def publish(self, events: list[tuple[str, Event]]) -> None:
        """Send each owner its events (now, later under a delay, or never under a stall)."""
        now = self.clock.monotonic()
        if events and self.faults.user_stalled():
            self.dropped_events += len(events)
            events = []
        if self.faults.user_ws_delay_s > 0:
            self.delayed.extend((now + self.faults.user_ws_delay_s, k, e) for k, e in events)
            events = []
        if self.delayed:
            due = [(k, e) for at, k, e in self.delayed if at <= now]
            self.delayed = [d for d in self.delayed if d[0] > now]
            events = due + events
        if not events or not self.sockets:
            return
        for sock in list(self.sockets):
            mine = [
                e
                for k, e in events
                if k == sock.key
                and (sock.markets is None or str(e.get("market", "")).lower() in sock.markets)
            ]
            if mine and not sock.ws.closed:
                # A failed send is noticed by the reader side, which unregisters the socket.
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await sock.ws.send_str(json.dumps(mine, separators=(",", ":")))
                    sock.sent += len(mine)

    async def drop_all(self) -> int:
        """Cut every user socket without a close handshake (the ``user_ws_drop`` fault)."""
        dropped = 0
        for sock in list(self.sockets):
            transport = sock.request.transport
            if transport is not None:
                transport.abort()
            else:
                await sock.ws.close()
            self.sockets.remove(sock)
            dropped += 1
        return dropped

    async def close(self) -> None:
        for sock in list(self.sockets):
            await sock.ws.close()

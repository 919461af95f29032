"""WebSocket client connections for the market feed: one callback per message, no Task
per receive.

Two maintained clients sit behind the one small :class:`WsConnection` interface:

- **picows** (the default): frames are parsed in Cython as the socket is read and each
  complete message is handed to the callback at once, so every frame that one read
  brought in is applied before the loop runs anything else (the "last of this read"
  flag lets the caller take one timestamp per read). No permessage-deflate.
- **websockets**, when compression is asked for (``feed.ws_compression = "deflate"``, a
  metered link to the venue): picows cannot inflate, websockets can. A reader task
  calls back the same way, one message at a time.

Measured on the whole socket path (``benchmarks/bench_ingest.py --client``, emulator ->
loopback -> books): picows costs under 1 us of client time per frame, aiohttp's reader
about 2 us and websockets about 7 us (the book work is 3-5 us), so picows is the default;
see the README's Benchmarks section for the figures.

A callback that raises does not take the event loop down with it: the connection is
cut and :meth:`WsConnection.closed` re-raises the error, so the feed fails loudly
instead of reconnecting over a bug.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Protocol

import websockets
from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport, ws_connect
from picows import WSError as PicowsError
from websockets.asyncio.client import ClientConnection

from engine.adapters.net.tasks import cancel_and_wait

# payload, and whether it is the last complete message this socket read brought in
MessageHandler = Callable[[bytes, bool], None]

MAX_MESSAGE_BYTES = 1 << 24  # the venue's book dumps stay far below this
# How much one socket read may take in (picows reads into a buffer of this size): every
# frame of a read is applied before the loop turns, so this bounds a turn (~400 one-
# message frames, ~3 ms) while draining whatever queued since the last one.
READ_BUFFER_BYTES = 1 << 17
CONNECT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    PicowsError,
    websockets.WebSocketException,
)


class WsConnection(Protocol):
    async def send_text(self, text: str) -> None:
        """Send a text message (the subscription, a PING); a closed connection drops it
        (the session notices the close on its own)."""

    def pause_reading(self) -> None:
        """Stop reading the socket (the caller has a backlog to apply first)."""

    def resume_reading(self) -> None: ...

    async def closed(self) -> str:
        """Wait until the connection is gone; return why. Re-raises an error the message
        callback raised."""

    async def aclose(self) -> None:
        """Close (with a close frame when possible) and wait briefly for the socket."""


async def open_connection(
    url: str,
    on_message: MessageHandler,
    *,
    compression: bool = False,
    open_timeout_s: float = 10.0,
) -> WsConnection:
    """Connect to `url`; raises one of :data:`CONNECT_ERRORS` when that fails."""
    if compression:
        return await _WebsocketsConnection.open(url, on_message, open_timeout_s)
    return await _PicowsConnection.open(url, on_message, open_timeout_s)


# -- picows ------------------------------------------------------------------------------

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_CONTINUATION = WSMsgType.CONTINUATION
_CLOSE = WSMsgType.CLOSE


class _Listener(WSListener):
    """Reassembles fragmented messages and hands each one on; remembers why it closed."""

    def __init__(self, on_message: MessageHandler) -> None:
        self.on_message = on_message
        self.parts: list[bytes] | None = None  # a fragmented message being reassembled
        self.failure: Exception | None = None
        self.close_code: int | None = None
        self.disconnected = asyncio.get_running_loop().create_future()

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is _TEXT or kind is _BINARY:
            if frame.fin:
                self._deliver(transport, frame.get_payload_as_bytes(), frame.last_in_buffer)
            else:
                self.parts = [frame.get_payload_as_bytes()]
        elif kind is _CONTINUATION:
            if self.parts is None:
                return  # a continuation of nothing: the server's error, nothing to deliver
            self.parts.append(frame.get_payload_as_bytes())
            if frame.fin:
                payload, self.parts = b"".join(self.parts), None
                self._deliver(transport, payload, frame.last_in_buffer)
        elif kind is _CLOSE:
            self.close_code = frame.get_close_code().value
            transport.send_close(frame.get_close_code())
            transport.disconnect()

    def _deliver(self, transport: WSTransport, payload: bytes, last: bool) -> None:
        if self.failure is not None:
            return
        try:
            self.on_message(payload, last)
        except Exception as exc:  # noqa: BLE001 - kept and re-raised by closed()
            self.failure = exc
            transport.disconnect(graceful=False)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if not self.disconnected.done():
            self.disconnected.set_result(None)


class _PicowsConnection:
    def __init__(self, transport: WSTransport, listener: _Listener) -> None:
        self._transport = transport
        self._listener = listener

    @classmethod
    async def open(
        cls, url: str, on_message: MessageHandler, open_timeout_s: float
    ) -> _PicowsConnection:
        async with asyncio.timeout(open_timeout_s):
            transport, listener = await ws_connect(
                lambda: _Listener(on_message),
                url,
                websocket_handshake_timeout=open_timeout_s,
                max_frame_size=MAX_MESSAGE_BYTES,
                read_buffer_init_size=READ_BUFFER_BYTES,
                enable_auto_pong=True,
                logger_name="engine.adapters.ws",
            )
        assert isinstance(listener, _Listener)
        return cls(transport, listener)

    async def send_text(self, text: str) -> None:
        if not self._transport.is_disconnected:
            self._transport.send(_TEXT, text.encode())

    def pause_reading(self) -> None:
        self._transport.underlying_transport.pause_reading()

    def resume_reading(self) -> None:
        if not self._transport.is_disconnected:
            self._transport.underlying_transport.resume_reading()

    async def closed(self) -> str:
        listener = self._listener
        await asyncio.shield(listener.disconnected)
        if listener.failure is not None:
            raise listener.failure
        code = listener.close_code
        return f"WS closed ({code if code is not None else 'no close frame'})"

    async def aclose(self) -> None:
        transport = self._transport
        if not transport.is_disconnected:
            with contextlib.suppress(RuntimeError, OSError):
                transport.send_close(WSCloseCode.GOING_AWAY)
            transport.disconnect()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await asyncio.shield(self._listener.disconnected)


# -- websockets (permessage-deflate) -------------------------------------------------------


class _WebsocketsConnection:
    def __init__(self, ws: ClientConnection, on_message: MessageHandler) -> None:
        self._ws = ws
        self._on_message = on_message
        self._reading = asyncio.Event()
        self._reading.set()
        self._reader = asyncio.create_task(self._read(), name="ws-reader")

    @classmethod
    async def open(
        cls, url: str, on_message: MessageHandler, open_timeout_s: float
    ) -> _WebsocketsConnection:
        ws = await websockets.connect(
            url,
            ping_interval=None,  # the venue wants text PINGs; the feed sends them
            open_timeout=open_timeout_s,
            close_timeout=1,
            max_size=MAX_MESSAGE_BYTES,
            proxy=None,
            compression="deflate",
        )
        return cls(ws, on_message)

    async def _read(self) -> str:
        ws = self._ws
        on_message = self._on_message
        reading = self._reading
        try:
            while True:
                if not reading.is_set():
                    await reading.wait()
                # One recv per message, awaited in this task: no Task per receive, and a
                # cancel always lands (no wait_for).
                on_message(await ws.recv(decode=False), True)
        except websockets.ConnectionClosed as exc:
            return f"WS closed ({exc.rcvd.code if exc.rcvd else 'no close frame'})"

    async def send_text(self, text: str) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            await self._ws.send(text)

    def pause_reading(self) -> None:
        self._reading.clear()

    def resume_reading(self) -> None:
        self._reading.set()

    async def closed(self) -> str:
        await asyncio.wait({self._reader})
        if self._reader.cancelled():
            # aclose() (the stale watchdog) cancelled the reader: the connection ended;
            # its session must reconnect, not end as if it had been cancelled itself.
            return "WS closed (closed here)"
        return self._reader.result()

    async def aclose(self) -> None:
        await cancel_and_wait(self._reader)
        with contextlib.suppress(OSError, websockets.WebSocketException):
            await self._ws.close()

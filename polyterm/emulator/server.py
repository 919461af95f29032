"""The emulator process: builds the exchange, serves it on loopback, runs the flow.

One aiohttp application serves the CLOB REST routes, ``/gamma``, ``/news``, the admin
routes under ``/_admin`` and the two WebSocket channels ``/ws/market`` and ``/ws/user``.

Time comes only from the :class:`~engine.clock.Clock` handed to :class:`ExchangeEmulator`
(the system clock by default): wire timestamps, auth skew checks, ``/time``, fault
deadlines and the pacing of the flow loop. On a ``SimClock`` the flow loop steps only as
the driver advances time, so a seeded run is reproducible byte for byte. The server only
ever listens on a loopback address.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import random
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from engine.adapters.net.loopback import is_loopback_host
from engine.adapters.net.tasks import cancel_and_wait
from engine.clock import Clock, SystemClock
from engine.fixed import SIZE_SCALE
from engine.market.fees import FREE, FeeSchedule
from polyterm.emulator.faults import Faults
from polyterm.emulator.flow import FlowModel
from polyterm.emulator.rest_api import RestApi
from polyterm.emulator.seed import (
    recorded_markets,
    recorded_shapes,
    synthetic_market,
    synthetic_shape,
    volume_for,
)
from polyterm.emulator.state import EmuMarket, Event, Exchange

log = logging.getLogger("polyterm.exchange")

_MALFORMED = (
    b'{"event_type": "book", "asset_id": ',  # truncated JSON
    b'{"event_type": "order_book_v9", "asset_id": "1"}',  # unknown event type
    b'[{"event_type": "price_change", "price_changes": "oops"}]',  # wrong field type
)


@dataclass(slots=True)
class EmulatorOptions:
    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 7
    markets: int = 8
    events_per_second: float = 12.0
    step_seconds: float = 0.1
    news_per_hour: float = 30.0
    starting_balance: Decimal = Decimal(10000)
    recorded: Path | None = None
    faults: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.step_seconds > 0:
            raise ValueError(f"step_seconds must be > 0, not {self.step_seconds}")
        if not self.events_per_second >= 0:
            raise ValueError(f"events_per_second must be >= 0, not {self.events_per_second}")
        if self.markets < 0:
            raise ValueError(f"markets must be >= 0, not {self.markets}")


@dataclass(frozen=True, slots=True)
class EmulatorUrls:
    clob: str
    market_ws: str
    user_ws: str
    gamma: str
    news: str  # a NewsAPI-shaped base: /v2/everything and /v2/top-headlines live under it
    admin: str

    def as_dict(self) -> dict[str, str]:
        return {
            "clob": self.clob,
            "market_ws": self.market_ws,
            "user_ws": self.user_ws,
            "gamma": self.gamma,
            "news": self.news,
            "admin": self.admin,
        }


def build_exchange(
    options: EmulatorOptions, clock: Clock | None = None
) -> tuple[Exchange, FlowModel]:
    """Markets from recordings (metadata and book shapes) or synthetic, fully seeded.

    Every timestamp the exchange writes is read from `clock` (the system clock when
    None); with a ``SimClock`` the same seed and steps give byte-identical messages.
    """
    rng = random.Random(f"setup:{options.seed}")
    metas = recorded_markets(options.recorded)
    shapes = recorded_shapes(options.recorded)
    markets: list[EmuMarket] = []
    pending = []
    for i in range(options.markets):
        info = metas[i] if i < len(metas) else synthetic_market(i, options.seed)
        volume, liquidity = volume_for(rng)
        # Every third market charges taker fees, so fee handling is always exercised.
        fees = FeeSchedule(Decimal("0.25"), Decimal("2")) if i % 3 == 2 else FREE
        info = replace(
            info,
            tick=100,
            min_order_size=5 * SIZE_SCALE,
            fees=fees,
            volume_24h=volume,
            liquidity=liquidity,
            active=True,
            closed=False,
            accepting_orders=True,
            gamma_id=str(500000 + i),
        )
        shape = shapes[i % len(shapes)] if shapes else synthetic_shape(rng)
        fair = rng.uniform(0.2, 0.8)
        market = EmuMarket(info, fair, clock)
        markets.append(market)
        pending.append((market, shape, fair))
    exchange = Exchange(markets, clock)
    for market, shape, fair in pending:
        FlowModel.seed_book(market, shape, fair)
    exchange.market_outbox.clear()
    return exchange, FlowModel(
        exchange, options.seed, options.events_per_second, options.news_per_hour
    )


def market_events_for(events: list[Event], assets: Collection[str]) -> list[Event]:
    """What the market channel sends a subscriber of `assets` out of one step's events.

    ``price_change`` events keep only the subscriber's entries; market-wide events
    (``new_market``, ``market_resolved``) go to everyone.
    """
    out: list[Event] = []
    for event in events:
        kind = event["event_type"]
        if kind == "price_change":
            mine = [c for c in event["price_changes"] if c["asset_id"] in assets]
            if mine:
                out.append({**event, "price_changes": mine})
        elif kind in ("new_market", "market_resolved") or event.get("asset_id") in assets:
            out.append(event)
    return out


def encode_frame(events: list[Event]) -> bytes:
    """One market-channel frame: a JSON list of events, as the WebSocket sends it."""
    return msgspec.json.encode(events)


class _MarketSub:
    __slots__ = ("ws", "assets", "request")

    def __init__(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.ws = ws
        self.assets: set[str] = set()
        self.request = request


class ExchangeEmulator:
    def __init__(
        self, options: EmulatorOptions | None = None, *, clock: Clock | None = None
    ) -> None:
        self.options = options or EmulatorOptions()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.exchange, self.flow = build_exchange(self.options, self.clock)
        self.faults = Faults(clock=self.clock)
        if self.options.faults:
            self.faults.apply(self.options.faults)
        self.api = RestApi(self.exchange, self.options.seed, self.options.starting_balance)
        self.market_subs: list[_MarketSub] = []
        self.user_subs: list[tuple[web.WebSocketResponse, str]] = []
        self.requests = 0
        self.ws_connections = 0
        self._runner: web.AppRunner | None = None
        self._flow_task: asyncio.Task[None] | None = None
        self.urls: EmulatorUrls | None = None

    # -- lifecycle ------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._faults_middleware])
        app.add_routes(self.api.routes())
        app.add_routes(
            [
                web.get("/ws/market", self.market_ws),
                web.get("/ws/user", self.user_ws),
                web.post("/_admin/faults", self.admin_faults),
                web.get("/_admin/state", self.admin_state),
            ]
        )
        return app

    async def start(self) -> EmulatorUrls:
        if not is_loopback_host(self.options.host):
            raise ValueError(
                f"host {self.options.host!r} is not a loopback address; "
                "the emulator only serves 127.0.0.1, ::1 or localhost"
            )
        runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.options.host, self.options.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise OSError(
                f"cannot listen on {self.options.host}:{self.options.port} ({exc.strerror}); "
                "pick another --port or use --port 0 for a free one"
            ) from exc
        server = site._server
        sockets = getattr(server, "sockets", None)  # asyncio.Server; typed as AbstractServer
        assert sockets
        bound = [str(sock.getsockname()[0]) for sock in sockets]
        if not all(ipaddress.ip_address(addr.split("%")[0]).is_loopback for addr in bound):
            await runner.cleanup()  # e.g. a hosts file that maps localhost elsewhere
            raise ValueError(f"refusing to serve on non-loopback addresses {bound}")
        self._runner = runner
        host, port = sockets[0].getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        base = f"http://{shown}:{port}"
        self.urls = EmulatorUrls(
            clob=base,
            market_ws=f"ws://{shown}:{port}/ws/market",
            user_ws=f"ws://{shown}:{port}/ws/user",
            gamma=f"{base}/gamma",
            news=f"{base}/news",
            admin=f"{base}/_admin",
        )
        self._flow_task = asyncio.create_task(self._run_flow(), name="emulator-flow")
        return self.urls

    async def stop(self) -> None:
        if self._flow_task is not None:
            # Never swallow a cancel aimed at us while the flow task winds down.
            await cancel_and_wait(self._flow_task)
            self._flow_task = None
        for sub in list(self.market_subs):
            await sub.ws.close()
        for ws, _ in list(self.user_subs):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ExchangeEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- the flow loop ------------------------------------------------------------
    async def _run_flow(self) -> None:
        """One model step per `step_seconds` of the emulator's clock.

        On a ``SimClock`` the loop waits until the driver advances time, and each step
        still models exactly `step_seconds`, whatever the wall clock does.
        """
        clock = self.clock
        step = self.options.step_seconds
        next_at = clock.monotonic()
        while True:
            self.flow.step(step)
            await self._broadcast()
            next_at += step
            delay = next_at - clock.monotonic()
            if delay < -1.0:  # fell far behind (debugger, overloaded box): do not burst
                next_at = clock.monotonic()
                delay = 0.0
            if delay > 0:
                await clock.sleep(delay)
            else:
                # Behind schedule: only yield. A SimClock's sleep(0) would wait for the
                # driver's next advance, so it is not used to catch up.
                await asyncio.sleep(0)

    async def _broadcast(self) -> None:
        events = self.exchange.market_outbox
        self.exchange.market_outbox = []
        user_events = self.exchange.user_outbox
        self.exchange.user_outbox = []
        stalled = self.faults.stalled()
        if events and self.market_subs and not stalled:
            for sub in list(self.market_subs):
                await self._send_market(sub, events)
        if user_events and self.user_subs and not stalled:
            for ws, key in list(self.user_subs):
                mine = [e for owner, e in user_events if owner == key]
                if mine:
                    await self._send(ws, msgspec.json.encode(mine))

    async def _send_market(self, sub: _MarketSub, events: list[Event]) -> None:
        if self.faults.malformed > 0:
            self.faults.malformed -= 1
            await self._send(sub.ws, _MALFORMED[self.faults.malformed % len(_MALFORMED)])
            return
        out = market_events_for(events, sub.assets)
        if out:
            await self._send(sub.ws, encode_frame(out))

    async def _send(self, ws: web.WebSocketResponse, data: bytes) -> None:
        if ws.closed:
            return
        # A failed send is noticed by the reader side, which unregisters the socket.
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(data.decode())

    # -- WebSockets ---------------------------------------------------------------
    async def market_ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, heartbeat=None)
        await ws.prepare(request)
        self.ws_connections += 1
        sub = _MarketSub(ws, request)
        self.market_subs.append(sub)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                if msg.data == "PING":
                    if not self.faults.stalled():
                        await ws.send_str("PONG")
                    continue
                await self._market_command(sub, msg.data)
        finally:
            if sub in self.market_subs:
                self.market_subs.remove(sub)
        return ws

    async def _market_command(self, sub: _MarketSub, text: str) -> None:
        try:
            command = json.loads(text)
            assets = [str(a) for a in command.get("assets_ids", [])]
        except (ValueError, AttributeError, TypeError):
            await sub.ws.send_str(json.dumps({"error": "expected a subscription object"}))
            return
        operation = str(command.get("operation", "subscribe")).lower()
        if operation == "unsubscribe":
            sub.assets.difference_update(assets)
            return
        new = [a for a in assets if a not in sub.assets and a in self.exchange.by_token]
        sub.assets.update(assets)
        if new and command.get("initial_dump", True) and not self.faults.stalled():
            snapshots = []
            for asset in new:
                market = self.exchange.by_token[asset]
                book = market.book_of(asset)
                assert book is not None
                snapshots.append(market.book_message(book))
            await self._send(sub.ws, encode_frame(snapshots))

    async def user_ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, heartbeat=None)
        await ws.prepare(request)
        entry: tuple[web.WebSocketResponse, str] | None = None
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                if msg.data == "PING":
                    await ws.send_str("PONG")
                    continue
                try:
                    auth = json.loads(msg.data).get("auth") or {}
                    key = str(auth.get("apiKey", ""))
                    account = self.exchange.accounts.get(key)
                    ok = account is not None and (
                        auth.get("secret") == account.secret
                        and auth.get("passphrase") == account.passphrase
                    )
                except (ValueError, AttributeError):
                    ok = False
                if not ok:
                    await ws.send_str(json.dumps({"error": "invalid api key credentials"}))
                    await ws.close(code=4001)
                    break
                if entry is None:
                    entry = (ws, key)
                    self.user_subs.append(entry)
        finally:
            if entry in self.user_subs:
                self.user_subs.remove(entry)
        return ws

    async def drop_websockets(self) -> int:
        """Cut every market WS connection without a close handshake."""
        dropped = 0
        for sub in list(self.market_subs):
            transport = sub.request.transport
            if transport is not None:
                transport.abort()
            else:
                await sub.ws.close(code=1012)
            self.market_subs.remove(sub)
            dropped += 1
        return dropped

    # -- middleware and admin -----------------------------------------------------
    @web.middleware
    async def _faults_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path
        if path.startswith(("/_admin", "/ws/")):
            return await handler(request)  # type: ignore[no-any-return]
        self.requests += 1
        faults = self.faults
        if faults.latency_ms:
            await self.clock.sleep(faults.latency_ms / 1000)
        if faults.http_429 > 0:
            faults.http_429 -= 1
            return web.json_response(
                {"error": "Too Many Requests"}, status=429, headers={"Retry-After": "1"}
            )
        if faults.http_5xx > 0:
            faults.http_5xx -= 1
            return web.json_response({"error": "Service Unavailable"}, status=503)
        self.api.stale_books = faults.stale_books
        return await handler(request)  # type: ignore[no-any-return]

    async def admin_faults(self, request: web.Request) -> web.Response:
        try:
            spec = await request.json()
            if not isinstance(spec, dict):
                raise ValueError("send a JSON object")
            actions = self.faults.apply(spec)
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        dropped = 0
        if "ws_drop" in actions:
            dropped = await self.drop_websockets()
        return web.json_response({"faults": self.faults.describe(), "ws_dropped": dropped})

    async def admin_state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "seed": self.options.seed,
                "time": self.clock.time(),
                "markets": len(self.exchange.markets),
                "steps": self.flow.steps,
                "requests": self.requests,
                "ws_connections": self.ws_connections,
                "market_subscribers": len(self.market_subs),
                "user_subscribers": len(self.user_subs),
                "headlines": len(self.exchange.headlines),
                "faults": self.faults.describe(),
            }
        )

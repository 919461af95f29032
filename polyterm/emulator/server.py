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
import ipaddress
import itertools
import json
import logging
import random
from collections import Counter
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
from engine.fixed import SIZE_SCALE, format_price
from engine.market.fees import FREE, FeeSchedule
from engine.market.markets import MarketInfo
from polyterm.emulator.admin import AdminApi
from polyterm.emulator.churn import Churn
from polyterm.emulator.control import Control
from polyterm.emulator.flow import EventGroup, FlowModel
from polyterm.emulator.market_ws import MarketConnection, check_rate
from polyterm.emulator.pacing import VENUE_LIMITS, Pacing
from polyterm.emulator.rest_api import RestApi
from polyterm.emulator.seed import (
    EventSeed,
    recorded_event,
    recorded_markets,
    recorded_shapes,
    synthetic_event,
    synthetic_market,
    synthetic_shape,
    volume_for,
)
from polyterm.emulator.state import EmuMarket, Event, Exchange
from polyterm.emulator.trading_api import TradingApi

log = logging.getLogger("polyterm.exchange")

_MALFORMED = (
    b'{"event_type": "book", "asset_id": ',  # truncated JSON
    b'{"event_type": "order_book_v9", "asset_id": "1"}',  # unknown event type
    b'[{"event_type": "price_change", "price_changes": "oops"}]',  # wrong field type
)
_MALFORMED_NEWS = (
    b'{"status": "ok", "totalResults": 3, "articles": [{"title": ',  # truncated JSON
    b"<html><body>502 Bad Gateway</body></html>",  # not JSON at all
    b'{"status": "ok", "articles": "none"}',  # wrong field type
)
RATE_TICK_S = 0.01  # churn cadence in rate mode: small slices keep the loop responsive
# A step's market messages leave across the first SPREAD_SHARE of the step, a slice every
# SPREAD_GAP_S, as a venue's arrive (each market's changes when they happen), not as one
# burst of every market's messages at the step's start.
SPREAD_GAP_S = 0.001
SPREAD_SHARE = 0.8


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
    # Neg-risk events (3-6 outcome markets each, counted in `markets`); None: one per 16
    # markets once there are 6 or more, the first from the recorded Gamma event.
    neg_risk_events: int | None = None
    # YES/NO and basket mispricings opened per hour of model time (0: none).
    mispricings_per_hour: float = 600.0
    # Market-channel messages per second across all markets; None: the flow model alone
    # (events_per_second per market), else the model topped up with level-size churn.
    rate: float | None = None
    frame_messages: int = 1  # messages per WS frame at most; 1 = one object, as the venue
    ws_token_cap: int = 500  # tokens one market connection is served; the rest stay silent
    ws_max_backlog_bytes: int = 32 * 1024 * 1024  # a reader further behind is dropped
    # Requests per 10 s by endpoint (pacing.VENUE_LIMITS when None; {} lifts all).
    rate_limits: dict[str, int] | None = None
    # A fresh wallet's funding: `starting_balance` pUSD and, when True, every trading
    # approval (so an --offline live run trades at once; False to test a missing one).
    default_approvals: bool = True
    admin_token: str | None = None  # None: a random one per run
    # The market makers that keep spreads and depth near recorded books' (flow.Quoting).
    # Off: the bare random flow of earlier releases, whose spreads drift wide (tapes
    # that fixtures were built on keep their bytes with it).
    market_makers: bool = True
    # Each step's market messages spread across the step (on the system clock; on a
    # SimClock a step's messages go at once, when the driver advances). Off: one burst
    # per step, every market's messages together (a load test of bursts).
    spread: bool = True

    def __post_init__(self) -> None:
        if not self.step_seconds > 0:
            raise ValueError(f"step_seconds must be > 0, not {self.step_seconds}")
        if not self.events_per_second >= 0:
            raise ValueError(f"events_per_second must be >= 0, not {self.events_per_second}")
        if self.markets < 0:
            raise ValueError(f"markets must be >= 0, not {self.markets}")
        check_rate(self.rate, self.frame_messages)
        if self.ws_token_cap < 1:
            raise ValueError(f"ws_token_cap must be >= 1, not {self.ws_token_cap}")
        if not self.mispricings_per_hour >= 0:
            raise ValueError(f"mispricings_per_hour must be >= 0, not {self.mispricings_per_hour}")
        if self.neg_risk_events is not None and self.neg_risk_events < 0:
            raise ValueError(f"neg_risk_events must be >= 0, not {self.neg_risk_events}")


@dataclass(frozen=True, slots=True)
class EmulatorUrls:
    clob: str
    market_ws: str
    user_ws: str
    gamma: str
    news: str  # a NewsAPI-shaped base: /v2/everything and /v2/top-headlines live under it
    admin: str
    rpc: str = ""  # the JSON-RPC chain stub (approvals, balances)
    data: str = ""  # the data API base (the approvals view)
    ws: str = ""  # the channels' base: /market and /user under it (CLOB_WS_URL)
    admin_token: str = ""  # send as Authorization: Bearer <token> to /_admin

    def admin_headers(self) -> dict[str, str]:
        """The header that opens ``/_admin`` for this run."""
        return {"Authorization": f"Bearer {self.admin_token}"}

    def as_dict(self) -> dict[str, str]:
        return {
            "clob": self.clob,
            "market_ws": self.market_ws,
            "user_ws": self.user_ws,
            "gamma": self.gamma,
            "news": self.news,
            "admin": self.admin,
            "rpc": self.rpc,
            "data": self.data,
            "ws": self.ws,
            "admin_token": self.admin_token,
        }


def _event_plan(options: EmulatorOptions, has_recorded: bool) -> list[int]:
    """Sizes of the neg-risk events to list: each 3-6 markets, at least 2 binaries left."""
    rng = random.Random(f"events:{options.seed}")
    count = options.neg_risk_events
    if count is None:
        count = 0 if options.markets < 6 else max(1, options.markets // 16)
    room = options.markets - 2
    sizes: list[int] = []
    for j in range(count):
        size = min(4 if j == 0 and has_recorded else rng.randint(3, 6), room)
        if size < 3:
            break
        sizes.append(size)
        room -= size
    return sizes


def build_exchange(
    options: EmulatorOptions, clock: Clock | None = None
) -> tuple[Exchange, FlowModel]:
    """Markets from recordings (metadata and book shapes) or synthetic, fully seeded.

    Binary markets come first, then the neg-risk events' outcome markets (the recorded
    event first when present). Recorded markets that cannot trade (no token ids, or a
    token id another market already has) are skipped, counted by reason in
    ``exchange.skipped``. Every timestamp the exchange writes is read from `clock` (the
    system clock when None); with a ``SimClock`` the same seed and steps give
    byte-identical messages.
    """
    rng = random.Random(f"setup:{options.seed}")
    metas = iter(recorded_markets(options.recorded))
    shapes = recorded_shapes(options.recorded)
    skipped: Counter[str] = Counter()
    event_rng = random.Random(f"event-setup:{options.seed}")
    sizes = _event_plan(options, recorded_event(options.recorded, 4) is not None)
    seeds: list[EventSeed] = []
    for j, size in enumerate(sizes):
        seed = recorded_event(options.recorded, size) if j == 0 else None
        seeds.append(seed or synthetic_event(j, options.seed, size))
    taken = {t for e in seeds for m in e.markets for t in m.token_ids}
    infos: list[MarketInfo] = []
    for i in range(options.markets - sum(len(e.markets) for e in seeds)):
        info = None
        for meta in metas:
            if not all(meta.token_ids):
                skipped["no token ids"] += 1
            elif taken.intersection(meta.token_ids):
                skipped["duplicate token ids"] += 1
            else:
                info = meta
                break
        info = info or synthetic_market(i, options.seed)
        taken.update(info.token_ids)
        infos.append(info)
    grouped: list[tuple[MarketInfo, EventSeed | None]] = [(info, None) for info in infos]
    grouped += [(info, e) for e in seeds for info in e.markets]
    event_fairs: dict[str, list[float]] = {}
    for e in seeds:
        weights = [event_rng.uniform(0.5, 1.5) for _ in e.markets]
        n, total = len(weights), sum(weights)
        event_fairs[e.id] = [
            EventGroup.FLOOR + (1 - n * EventGroup.FLOOR) * w / total for w in weights
        ]
    markets: list[EmuMarket] = []
    pending = []
    for i, (info, event) in enumerate(grouped):
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
            neg_risk=event is not None,
            event_id=event.id if event else (info.event_id or str(600000 + i)),
            event_markets=len(event.markets) if event else 0,
        )
        shape = shapes[i % len(shapes)] if shapes else synthetic_shape(rng)
        fair = rng.uniform(0.2, 0.8)
        if event is not None:
            fair = event_fairs[event.id][event.markets.index(_original(event, info))]
        market = EmuMarket(info, fair, clock)
        markets.append(market)
        pending.append((market, shape, fair))
    exchange = Exchange(markets, clock)
    exchange.skipped = dict(skipped)
    for e in seeds:
        members = [m for m in markets if m.info.event_id == e.id]
        exchange.events[e.id] = (e.slug, e.title, members)
    for market, shape, fair in pending:
        FlowModel.seed_book(market, shape, fair)
    exchange.market_outbox.clear()
    return exchange, FlowModel(
        exchange,
        options.seed,
        options.events_per_second,
        options.news_per_hour,
        options.mispricings_per_hour,
        market_makers=options.market_makers,
    )


def _original(event: EventSeed, info: MarketInfo) -> MarketInfo:
    for m in event.markets:
        if m.condition_id == info.condition_id:
            return m
    raise KeyError(info.condition_id)


CUSTOM_ONLY = frozenset(("best_bid_ask", "new_market", "market_resolved"))


def event_assets(event: Event) -> tuple[str, ...]:
    """The tokens one market-channel event is about (none for market-wide ones)."""
    if event["event_type"] == "price_change":
        return tuple(c["asset_id"] for c in event["price_changes"])
    asset = event.get("asset_id")
    return (asset,) if asset else ()


def market_events_for(
    events: list[Event], assets: Collection[str], custom_feature: bool = False
) -> list[Event]:
    """What the market channel sends a subscriber of `assets` out of one step's events.

    ``price_change`` events keep only the subscriber's entries; ``best_bid_ask``,
    ``new_market`` and ``market_resolved`` go only to ``custom_feature_enabled``
    subscribers (the last two whatever their assets, as on the venue).
    """
    out: list[Event] = []
    for event in events:
        kind = event["event_type"]
        if kind in CUSTOM_ONLY and not custom_feature:
            continue
        if kind == "price_change":
            mine = [c for c in event["price_changes"] if c["asset_id"] in assets]
            if mine:
                out.append({**event, "price_changes": mine})
        elif kind in ("new_market", "market_resolved") or event.get("asset_id") in assets:
            out.append(event)
    return out


def encode_frame(events: list[Event]) -> bytes:
    """One market-channel frame as a tape stores it: a JSON list of events."""
    return msgspec.json.encode(events)


class ExchangeEmulator:
    def __init__(
        self, options: EmulatorOptions | None = None, *, clock: Clock | None = None
    ) -> None:
        self.options = options or EmulatorOptions()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.exchange, self.flow = build_exchange(self.options, self.clock)
        limits = self.options.rate_limits
        self.pacing = Pacing(dict(VENUE_LIMITS) if limits is None else dict(limits), self.clock)
        self.control = Control(
            self.exchange,
            self.clock,
            self.pacing,
            starting_balance=self.options.starting_balance,
            default_approvals=self.options.default_approvals,
            admin_token=self.options.admin_token,
        )
        self.control.host = self
        self.faults = self.control.faults
        if self.options.faults:
            self.faults.apply(self.options.faults)
        self.api = RestApi(self.exchange)
        self.trading_api = TradingApi(self.control)
        self.rate: float | None = self.options.rate
        self.frame_messages = self.options.frame_messages
        self.churn = Churn(self.exchange.markets, self.options.seed)
        self.token_slots: dict[str, tuple[int, int]] = {}
        for index, market in enumerate(self.exchange.markets):
            self._index_tokens(index, market)
        self.connections: list[MarketConnection] = []
        self._routes: dict[int, list[tuple[MarketConnection, int]]] = {}
        self.requests = 0
        self.ws_connections = 0
        self.slow_disconnects = 0
        self.messages_generated = 0  # market-channel messages made (flow + churn)
        self.messages_sent = 0  # market-channel messages written, all connections
        self._conn_ids = itertools.count(1)
        self._touch: dict[str, tuple[int | None, int | None]] = {}
        self._runner: web.AppRunner | None = None
        self._flow_task: asyncio.Task[None] | None = None
        self.urls: EmulatorUrls | None = None
        self.admin = AdminApi(self.control, self.flow)

    def _index_tokens(self, index: int, market: EmuMarket) -> None:
        self.token_slots[market.yes.asset_id] = (index, 1)
        self.token_slots[market.no.asset_id] = (index, 2)

    # -- lifecycle ------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.admin.guard, self._faults_middleware])
        app.add_routes(self.api.routes())
        app.add_routes(self.trading_api.routes())
        app.add_routes(self.control.chain.routes())
        app.add_routes(
            [
                web.get("/ws/market", self.market_ws),
                web.get("/ws/user", self.control.users.serve),
                *self.admin.routes(),
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
            rpc=f"{base}/rpc",
            data=f"{base}/data-api",
            ws=f"ws://{shown}:{port}/ws",
            admin_token=self.control.admin_token,
        )
        self._flow_task = asyncio.create_task(self._run_flow(), name="emulator-flow")
        return self.urls

    async def stop(self) -> None:
        if self._flow_task is not None:
            # Never swallow a cancel aimed at us while the flow task winds down.
            await cancel_and_wait(self._flow_task)
            self._flow_task = None
        for conn in list(self.connections):
            await conn.ws.close()
        await self.control.users.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ExchangeEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- the flow loop ------------------------------------------------------------
    def _tick(self) -> float:
        step = self.options.step_seconds
        return step if self.rate is None else min(step, RATE_TICK_S)

    async def _run_flow(self) -> None:
        """One model step per `step_seconds` of the emulator's clock; in rate mode,
        churn every `RATE_TICK_S` between the steps.

        On a ``SimClock`` the loop waits until the driver advances time, and each step
        still models exactly `step_seconds`, whatever the wall clock does.
        """
        clock = self.clock
        step = self.options.step_seconds
        next_at = clock.monotonic()
        due = step  # model time owed to the flow: the first step runs at once
        carry = 0.0
        while True:
            tick = self._tick()
            sent = 0
            if due >= step - 1e-9:
                due -= step
                self.flow.step(step)
                self.control.tick()
                sent = await self._broadcast()
            if self.rate is not None:
                carry += self.rate * tick - sent
                if carry >= 1:
                    n = int(carry)
                    carry -= n
                    self._send_churn(n)
                carry = max(carry, -self.rate)  # a burst from the flow is not owed back
            else:
                carry = 0.0
            due += tick
            next_at += tick
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

    def _touch_events(self) -> list[Event]:
        """``best_bid_ask`` for every token whose touch moved since the last broadcast."""
        out: list[Event] = []
        now = str(self.exchange.now_ms())
        for market in self.exchange.markets:
            for book in (market.yes, market.no):
                touch = (book.best_bid, book.best_ask)
                if self._touch.get(book.asset_id) == touch:
                    continue
                self._touch[book.asset_id] = touch
                bb, ba = touch
                both = bb is not None and ba is not None
                out.append(
                    {
                        "event_type": "best_bid_ask",
                        "market": market.info.condition_id,
                        "asset_id": book.asset_id,
                        "best_bid": format_price(bb) if bb is not None else "0",
                        "best_ask": format_price(ba) if ba is not None else "1",
                        "spread": format_price(ba - bb) if both else "1",  # type: ignore[operator]
                        "timestamp": now,
                    }
                )
        return out

    async def _broadcast(self) -> int:
        """Send one step's events; returns how many market messages were made."""
        events = self.exchange.market_outbox
        self.exchange.market_outbox = []
        if any(c.custom_feature_enabled for c in self.connections):
            events = events + self._touch_events()
        self.messages_generated += len(events)
        stalled = self.faults.stalled()
        if events and self.connections and not stalled:
            encoded = [msgspec.json.encode(e) for e in events]
            assets = [event_assets(e) for e in events]
            slices = self.step_slices(len(events))
            clock = self.clock
            start = clock.monotonic()
            for i, (lo, hi) in enumerate(slices):
                if i:
                    # Each slice at its own time from the step's start: on a busy loop a
                    # late slice leaves at once (merging with the next), and the step is
                    # never stretched past its share (80 sleeps of ~2 ms each lost a third
                    # of the flow's pace).
                    wait = start + i * SPREAD_GAP_S - clock.monotonic()
                    if wait > 0:
                        await clock.sleep(wait)
                    if self.faults.stalled():
                        break  # a stall injected mid-step silences the rest of it
                part, data, tokens = events[lo:hi], encoded[lo:hi], assets[lo:hi]
                for conn in list(self.connections):
                    self._send_market(conn, part, data, tokens)
        await self.control.publish_user_events()
        return len(events)

    def step_slices(self, n: int) -> list[tuple[int, int]]:
        """Where a step's `n` messages are cut: one slice per SPREAD_GAP_S over the first
        SPREAD_SHARE of the step (on the system clock, when spreading), else one."""
        count = 1
        if self.options.spread and type(self.clock) is SystemClock:
            count = max(1, min(n, int(self.options.step_seconds * SPREAD_SHARE / SPREAD_GAP_S)))
        return [(n * i // count, n * (i + 1) // count) for i in range(count)]

    def _send_market(
        self,
        conn: MarketConnection,
        events: list[Event],
        encoded: list[bytes],
        assets: list[tuple[str, ...]],
    ) -> None:
        if self.faults.malformed > 0:
            self.faults.malformed -= 1
            self._write(conn, [_MALFORMED[self.faults.malformed % len(_MALFORMED)]], 1)
            return
        served, custom = conn.served, conn.custom_feature_enabled
        out: list[bytes] = []
        for event, data, tokens in zip(events, encoded, assets, strict=True):
            kind = event["event_type"]
            if kind in CUSTOM_ONLY:
                if custom and (kind != "best_bid_ask" or tokens[0] in served):
                    out.append(data)
                continue
            mine = [t in served for t in tokens]
            if all(mine) and mine:
                out.append(data)
            elif any(mine):
                out.extend(msgspec.json.encode(e) for e in market_events_for([event], served))
        if out:
            self._write(conn, out, self.frame_messages)

    def _send_churn(self, n: int) -> None:
        now = self.exchange.now_ms()
        made = self.churn.generate(n, now)
        self.messages_generated += len(made)
        if not made or not self.connections or self.faults.stalled():
            return
        # Each message goes straight to the connections serving its market (a sharded
        # client has one), not past every connection's masks.
        routes = self._routes
        variant = self.churn.variant
        out: dict[MarketConnection, list[bytes]] = {}
        for m, data, yes_entry, no_entry in made:
            for conn, mask in routes.get(m, ()):
                buf = out.get(conn)
                if buf is None:
                    buf = out[conn] = []
                if mask == 3:
                    buf.append(data)
                else:
                    buf.append(variant(m, yes_entry if mask == 1 else no_entry, now))
        for conn, messages in out.items():
            self._write(conn, messages, self.frame_messages)

    def _write(self, conn: MarketConnection, messages: list[bytes], per_frame: int) -> None:
        if not conn.write(messages, per_frame):
            return
        self.messages_sent += len(messages)
        if conn.backlog() > self.options.ws_max_backlog_bytes:
            # The reader cannot keep up: drop it, as the venue would, so it never holds
            # the flow (or anyone else) back and its backlog stops growing.
            self.slow_disconnects += 1
            log.info("market ws %s dropped: %d bytes behind", conn.id, conn.backlog())
            conn.abort()
            self._forget(conn)

    # -- WebSockets ---------------------------------------------------------------
    async def market_ws(self, request: web.Request) -> web.WebSocketResponse:
        # No permessage-deflate: loopback gains nothing from it and frames are written
        # raw (see market_ws.py).
        ws = web.WebSocketResponse(autoping=True, heartbeat=None, compress=False)
        await ws.prepare(request)
        self.ws_connections += 1
        conn = MarketConnection(f"m{next(self._conn_ids)}", ws, request, self.options.ws_token_cap)
        self.connections.append(conn)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                if msg.data == "PING":
                    if not self.faults.stalled():
                        await ws.send_str("PONG")
                    continue
                await self._market_command(conn, msg.data)
        finally:
            conn.closed = True
            self._forget(conn)
        return ws

    def _masks(self, conn: MarketConnection) -> None:
        masks: dict[int, int] = {}
        for token in conn.served:
            slot = self.token_slots.get(token)
            if slot is not None:
                masks[slot[0]] = masks.get(slot[0], 0) | slot[1]
        conn.market_masks = masks
        self._reroute()

    def _reroute(self) -> None:
        """Market index -> the connections serving it (and which of its tokens), for churn."""
        routes: dict[int, list[tuple[MarketConnection, int]]] = {}
        for conn in self.connections:
            for m, mask in conn.market_masks.items():
                routes.setdefault(m, []).append((conn, mask))
        self._routes = routes

    def _forget(self, conn: MarketConnection) -> None:
        if conn in self.connections:
            self.connections.remove(conn)
            self._reroute()

    async def _market_command(self, conn: MarketConnection, text: str) -> None:
        try:
            command = json.loads(text)
            if not isinstance(command, dict):
                raise TypeError
            assets = [str(a) for a in command.get("assets_ids") or []]
        except (ValueError, AttributeError, TypeError):
            await conn.ws.send_str(json.dumps({"error": "expected a subscription object"}))
            return
        if "custom_feature_enabled" in command:
            conn.custom_feature_enabled = bool(command["custom_feature_enabled"])
        operation = str(command.get("operation", "subscribe")).lower()
        if operation == "unsubscribe":
            conn.unsubscribe(assets)
            self._masks(conn)
            return
        if operation != "subscribe":
            await conn.ws.send_str(
                json.dumps({"error": "operation must be subscribe or unsubscribe"})
            )
            return
        new = [a for a in conn.subscribe(assets) if a in self.exchange.by_token]
        self._masks(conn)
        if new and command.get("initial_dump", True) and not self.faults.stalled():
            snapshots = []
            for asset in new:
                market = self.exchange.by_token[asset]
                book = market.book_of(asset)
                assert book is not None
                snapshots.append(msgspec.json.encode(market.book_message(book)))
            self._write(conn, snapshots, self.frame_messages)

    async def drop_websockets(self) -> int:
        """Cut every market WS connection without a close handshake."""
        dropped = 0
        for conn in list(self.connections):
            self.drop_connection(conn)
            dropped += 1
        return dropped

    def drop_connection(self, conn: MarketConnection) -> None:
        conn.abort()
        self._forget(conn)

    # -- what the control object asks of the server (control.Host) ------------------
    def market_connections(self) -> list[dict[str, object]]:
        return [c.describe() for c in self.connections]

    def drop_market_connection(self, conn_id: str) -> bool:
        for conn in self.connections:
            if conn.id == conn_id:
                self.drop_connection(conn)
                return True
        return False

    def set_load(self, rate: float | None, frame_messages: int) -> None:
        self.rate, self.frame_messages = rate, frame_messages

    def counters(self) -> dict[str, Any]:
        ex = self.exchange
        return {
            "seed": self.options.seed,
            "time": self.clock.time(),
            "markets": len(ex.markets),
            "events": {eid: len(ms) for eid, (_, _, ms) in ex.events.items()},
            "skipped_markets": dict(ex.skipped),
            "steps": self.flow.steps,
            "requests": self.requests,
            "ws_connections": self.ws_connections,
            "market_subscribers": len(self.connections),
            "slow_disconnects": self.slow_disconnects,
            "messages_generated": self.messages_generated,
            "messages_sent": self.messages_sent,
            "rate": self.rate,
            "frame_messages": self.frame_messages,
            "spread": self.options.spread and type(self.clock) is SystemClock,
            "headlines": len(ex.headlines),
        }

    # -- markets listed and resolved at run time --------------------------------------
    def list_market(self) -> EmuMarket:
        """List one new seeded binary market; custom-feature readers get ``new_market``."""
        ex = self.exchange
        index = len(ex.markets)
        rng = random.Random(f"new-market:{self.options.seed}:{index}")
        info = synthetic_market(index, self.options.seed)
        volume, liquidity = volume_for(rng)
        info = replace(
            info,
            question=f"[New] {info.question}",
            slug=f"new-{info.slug}",
            min_order_size=5 * SIZE_SCALE,
            volume_24h=volume,
            liquidity=liquidity,
            gamma_id=str(500000 + index),
            event_id=str(600000 + index),
        )
        fair = rng.uniform(0.2, 0.8)
        market = EmuMarket(info, fair, self.clock)
        ex.add_market(market)
        self.flow.add_market(market)
        self.churn.add_market(market)
        self._index_tokens(index, market)
        FlowModel.seed_book(market, synthetic_shape(rng), fair)
        ex.market_outbox = [e for e in ex.market_outbox if e.get("market") != info.condition_id]
        ex.market_outbox.append(
            {
                "event_type": "new_market",
                "id": info.gamma_id,
                "question": info.question,
                "market": info.condition_id,
                "slug": info.slug,
                "description": f"Emulated market listed at run time: {info.question}",
                "assets_ids": list(info.token_ids),
                "outcomes": [o.name for o in info.outcomes],
                "event_message": {
                    "id": info.event_id,
                    "ticker": info.slug,
                    "slug": info.slug,
                    "title": info.question,
                    "description": "",
                },
                "timestamp": str(ex.now_ms()),
                "tags": ["emulated"],
                "condition_id": info.condition_id,
                "active": True,
                "clob_token_ids": list(info.token_ids),
                "sports_market_type": "",
                "line": "",
                "game_start_time": "",
                "order_price_min_tick_size": format_price(market.yes.tick),
                "group_item_title": "",
            }
        )
        return market

    def resolve_market(self, market: EmuMarket, winner: str) -> Event:
        """Resolve `market` to the outcome named (or token id) `winner`."""
        info = market.info
        token = next(
            (o.token_id for o in info.outcomes if winner in (o.token_id, o.name)), None
        ) or next((o.token_id for o in info.outcomes if o.name.lower() == winner.lower()), None)
        if token is None:
            names = ", ".join(o.name for o in info.outcomes)
            raise ValueError(f"winner {winner!r} is not an outcome of this market: use {names}")
        market.resolved = True
        market.winner = token
        market.info = replace(info, closed=True, accepting_orders=False)
        event: Event = {
            "event_type": "market_resolved",
            "id": info.gamma_id,
            "market": info.condition_id,
            "assets_ids": list(info.token_ids),
            "winning_asset_id": token,
            "winning_outcome": info.outcome_of(token),
            "timestamp": str(self.exchange.now_ms()),
            "tags": ["emulated"],
        }
        self.exchange.market_outbox.append(event)
        return event

    # -- middleware -------------------------------------------------------------------
    @web.middleware
    async def _faults_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path
        if path.startswith(("/_admin", "/ws/", "/rpc", "/data-api")):
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
        is_news = path == "/news" or path.startswith("/news/")
        if is_news and faults.news_malformed > 0:
            faults.news_malformed -= 1
            return web.Response(
                body=_MALFORMED_NEWS[faults.news_malformed % len(_MALFORMED_NEWS)],
                content_type="application/json",
            )
        if not is_news:
            wait = self.pacing.check(request.method, path)
            if wait is not None:
                return web.json_response(
                    {"error": "Too Many Requests (rate limit)"},
                    status=429,
                    headers={"Retry-After": Pacing.retry_after(wait)},
                )
        self.api.stale_books = faults.stale_books
        return await handler(request)  # type: ignore[no-any-return]

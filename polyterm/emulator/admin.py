"""Admin routes under ``/_admin``: faults, state, headlines, rate, connections, markets.

Every route answers JSON; bad input gets 400 with ``{"error": "<one line>"}`` naming the
field and the fix.

- ``POST /_admin/faults`` — switch faults (see faults.py); ``GET /_admin/state`` — counters.
- ``POST /_admin/news`` ``{"market", "title", "description"?, "source"?, "move"?}`` —
  a headline into the news feed now (and a fair-value jump of ``move`` if given).
- ``POST /_admin/rate`` ``{"rate": N | null, "frame_messages": K}`` — the load knobs.
- ``GET /_admin/connections``; ``POST /_admin/connections/{id}/drop``.
- ``POST /_admin/markets/new``; ``POST /_admin/markets/{condition_id}/resolve``
  ``{"winner": "<outcome name or token id>"}``.
- ``POST /_admin/mispricings`` ``{"kind": "yes_no" | "basket_yes" | "basket_no",
  "target"?: condition id or event id}`` — open one now.
- ``GET /_admin/limits``; ``POST /_admin/limits`` ``{"GET /book": 1500, ...}`` — pacing.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from polyterm.emulator.market_ws import check_rate
from polyterm.emulator.mispricing import KINDS
from polyterm.emulator.state import EmuMarket

if TYPE_CHECKING:
    from polyterm.emulator.server import ExchangeEmulator


def _error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError as exc:
        raise ValueError("body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


class AdminApi:
    def __init__(self, emulator: ExchangeEmulator) -> None:
        self.emu = emulator

    def routes(self) -> list[web.RouteDef]:
        g, p = web.get, web.post
        return [
            g("/_admin", self.index),
            g("/_admin/", self.index),
            p("/_admin/faults", self.faults),
            g("/_admin/state", self.state),
            p("/_admin/news", self.news),
            p("/_admin/rate", self.rate),
            g("/_admin/connections", self.connections),
            p("/_admin/connections/{conn_id}/drop", self.drop),
            p("/_admin/markets/new", self.new_market),
            p("/_admin/markets/{condition_id}/resolve", self.resolve),
            p("/_admin/mispricings", self.mispricing),
            g("/_admin/limits", self.limits),
            p("/_admin/limits", self.set_limits),
        ]

    def _market(self, key: str) -> EmuMarket | None:
        ex = self.emu.exchange
        market = ex.by_condition.get(key)
        if market is None:
            market = next((m for m in ex.markets if m.info.slug == key), None)
        return market

    async def index(self, request: web.Request) -> web.Response:
        """``GET /_admin``: the printed admin base lists its routes."""
        routes = [
            f"{r.method} {r.path}" for r in self.routes() if r.path not in ("/_admin", "/_admin/")
        ]
        return web.json_response({"name": "polyterm emulator admin", "routes": routes})

    # -- faults and state -------------------------------------------------------------
    async def faults(self, request: web.Request) -> web.Response:
        emu = self.emu
        try:
            actions = emu.faults.apply(await _object(request))
        except ValueError as exc:
            return _error(str(exc))
        dropped = await emu.drop_websockets() if "ws_drop" in actions else 0
        return web.json_response({"faults": emu.faults.describe(), "ws_dropped": dropped})

    async def state(self, request: web.Request) -> web.Response:
        emu = self.emu
        ex = emu.exchange
        return web.json_response(
            {
                "seed": emu.options.seed,
                "time": emu.clock.time(),
                "markets": len(ex.markets),
                "events": {eid: len(ms) for eid, (_, _, ms) in ex.events.items()},
                "skipped_markets": dict(ex.skipped),
                "steps": emu.flow.steps,
                "requests": emu.requests,
                "ws_connections": emu.ws_connections,
                "market_subscribers": len(emu.connections),
                "user_subscribers": len(emu.user_subs),
                "slow_disconnects": emu.slow_disconnects,
                "messages_generated": emu.messages_generated,
                "messages_sent": emu.messages_sent,
                "rate": emu.rate,
                "frame_messages": emu.frame_messages,
                "headlines": len(ex.headlines),
                "mispricings": emu.flow.mispricings.describe(),
                "pacing": emu.pacing.describe(),
                "faults": emu.faults.describe(),
            }
        )

    # -- headlines --------------------------------------------------------------------
    async def news(self, request: web.Request) -> web.Response:
        emu = self.emu
        try:
            body = await _object(request)
            key = str(body.get("market") or "")
            title = str(body.get("title") or "").strip()
            move_raw = body.get("move")
            move = None if move_raw is None else float(move_raw)
        except (ValueError, TypeError):
            return _error('send {"market": ..., "title": ..., "move": <number, optional>}')
        market = self._market(key)
        if market is None:
            return _error(f"market {key!r} is unknown: use a condition id or slug it lists")
        if not title:
            return _error('title is empty: send {"title": "<the headline>"}')
        if move is not None and not (math.isfinite(move) and -1 < move < 1):
            return _error(f"move must be a number between -1 and 1 (a fair-value jump), not {move}")
        info = market.info
        description = str(body.get("description") or "")
        source = str(body.get("source") or "Polyterm Wire (injected)")
        # The question rides in the text so keyword matching finds this market.
        subject = info.question.rstrip("?")
        published = datetime.fromtimestamp(emu.clock.time(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        n = emu.exchange.next_headline_number()
        direction = 0 if not move else (1 if move > 0 else -1)
        article: dict[str, Any] = {
            "source": {"id": "polyterm-admin", "name": source},
            "author": "exchange emulator (admin)",
            "title": title,
            "description": f"{description} ({subject})" if description else subject,
            "url": f"https://news.invalid/polyterm/injected/{n}",
            "urlToImage": None,
            "publishedAt": published,
            "content": f"{title}. {subject}.",
            "polyterm": {"market": info.condition_id, "direction": direction, "move": move},
        }
        emu.exchange.headlines.append(article)
        if move:
            emu.flow.jump(market, move)
        return web.json_response(article)

    # -- load knobs -------------------------------------------------------------------
    async def rate(self, request: web.Request) -> web.Response:
        emu = self.emu
        try:
            body = await _object(request)
            rate = emu.rate
            if "rate" in body:
                rate = None if body["rate"] is None else float(body["rate"])
            frames = int(body.get("frame_messages", emu.frame_messages))
            check_rate(rate, frames)
        except (ValueError, TypeError) as exc:
            return _error(str(exc) if "must" in str(exc) else f"bad rate request: {exc}")
        emu.rate, emu.frame_messages = rate, frames
        return web.json_response({"rate": rate, "frame_messages": frames})

    async def connections(self, request: web.Request) -> web.Response:
        return web.json_response([c.describe() for c in self.emu.connections])

    async def drop(self, request: web.Request) -> web.Response:
        conn_id = request.match_info["conn_id"]
        for conn in self.emu.connections:
            if conn.id == conn_id:
                self.emu.drop_connection(conn)
                return web.json_response({"dropped": conn_id})
        return _error(f"no market connection {conn_id!r}: see GET /_admin/connections", 404)

    # -- markets ----------------------------------------------------------------------
    async def new_market(self, request: web.Request) -> web.Response:
        market = self.emu.list_market()
        info = market.info
        return web.json_response(
            {
                "condition_id": info.condition_id,
                "question": info.question,
                "slug": info.slug,
                "token_ids": list(info.token_ids),
            }
        )

    async def resolve(self, request: web.Request) -> web.Response:
        cid = request.match_info["condition_id"]
        market = self.emu.exchange.by_condition.get(cid)
        if market is None:
            return _error(f"market {cid!r} is unknown: use a listed condition id", 404)
        if market.resolved:
            return _error(f"market {cid[:12]}… is already resolved")
        try:
            winner = str((await _object(request)).get("winner") or "")
            event = self.emu.resolve_market(market, winner)
        except ValueError as exc:
            return _error(str(exc))
        return web.json_response(event)

    async def mispricing(self, request: web.Request) -> web.Response:
        flow = self.emu.flow
        try:
            body = await _object(request)
            kind = str(body.get("kind") or "")
            if kind not in KINDS:
                raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
            opened = flow.mispricings.open(kind, flow.time, str(body.get("target") or ""))
        except ValueError as exc:
            return _error(str(exc))
        if opened is None:
            return _error(f"no {kind} mispricing can open now (no free market or event)", 409)
        return web.json_response(opened.describe())

    async def limits(self, request: web.Request) -> web.Response:
        return web.json_response(self.emu.pacing.describe())

    async def set_limits(self, request: web.Request) -> web.Response:
        try:
            self.emu.pacing.update(await _object(request))
        except ValueError as exc:
            return _error(str(exc))
        return web.json_response(self.emu.pacing.describe())

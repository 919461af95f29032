"""Admin routes under ``/_admin``: faults, state, headlines, rate, connections, markets,
wallets, approvals.

Every request carries the run's admin token (``Authorization: Bearer <token>`` or
``X-Admin-Token: <token>``; printed as ``admin_token`` at start), else 401. Every route
answers JSON; bad input gets 400 with ``{"error": "<one line>"}`` naming the field and
the fix. The routes talk to the :class:`~polyterm.emulator.control.Control` object only.

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
- ``POST /_admin/signer-limits`` ``{"bucket": "order" | "cancel", "capacity": N,
  "refill_per_s": R, "enforce"?: bool}`` — the per-signer buckets.
- ``POST /_admin/wallets/{address}/fund`` ``{"collateral": "10", "tokens": {id: "5"},
  "approve": bool}``; ``GET /_admin/wallets``; ``GET /_admin/approvals`` (every approval
  granted, through the chain stub or here); ``GET /_admin/orders``; ``GET /_admin/trades``.
- ``POST /_admin/markets/{condition_id}/tick`` ``{"tick_size": "0.001"}`` — re-grid.
"""

from __future__ import annotations

import hmac
import math
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from engine.fixed import parse_price
from polyterm.emulator.control import Control
from polyterm.emulator.flow import FlowModel
from polyterm.emulator.market_ws import check_rate
from polyterm.emulator.mispricing import KINDS

_TICKS = ("0.1", "0.01", "0.005", "0.0025", "0.001", "0.0001")


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
    def __init__(self, control: Control, flow: FlowModel) -> None:
        self.control = control
        self.flow = flow

    @web.middleware
    async def guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Only requests with the run's token reach an admin route."""
        if not request.path.startswith("/_admin"):
            return await handler(request)  # type: ignore[no-any-return]
        given = request.headers.get("X-Admin-Token", "")
        bearer = request.headers.get("Authorization", "")
        if bearer.lower().startswith("bearer "):
            given = given or bearer[7:].strip()
        # As bytes: compare_digest refuses non-ASCII str (a 500 and a traceback, not a 401).
        token = self.control.admin_token.encode()
        if not given or not hmac.compare_digest(given.encode("utf-8", "replace"), token):
            return _error(
                "admin token missing or wrong: send Authorization: Bearer <admin_token> "
                "(printed by polyterm exchange)",
                401,
            )
        return await handler(request)  # type: ignore[no-any-return]

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
            p("/_admin/signer-limits", self.set_signer_limits),
            g("/_admin/wallets", self.wallets),
            p("/_admin/wallets/{address}/fund", self.fund),
            g("/_admin/approvals", self.approvals),
            g("/_admin/orders", self.orders),
            g("/_admin/trades", self.trades),
            p("/_admin/markets/{condition_id}/tick", self.tick),
        ]

    async def index(self, request: web.Request) -> web.Response:
        """``GET /_admin``: the printed admin base lists its routes."""
        routes = [
            f"{r.method} {r.path}" for r in self.routes() if r.path not in ("/_admin", "/_admin/")
        ]
        return web.json_response({"name": "polyterm emulator admin", "routes": routes})

    # -- faults and state -------------------------------------------------------------
    async def faults(self, request: web.Request) -> web.Response:
        try:
            return web.json_response(await self.control.apply_faults(await _object(request)))
        except ValueError as exc:
            return _error(str(exc))

    async def state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {**self.control.state(), "mispricings": self.flow.mispricings.describe()}
        )

    # -- headlines --------------------------------------------------------------------
    async def news(self, request: web.Request) -> web.Response:
        control = self.control
        try:
            body = await _object(request)
            key = str(body.get("market") or "")
            title = str(body.get("title") or "").strip()
            move_raw = body.get("move")
            move = None if move_raw is None else float(move_raw)
        except (ValueError, TypeError):
            return _error('send {"market": ..., "title": ..., "move": <number, optional>}')
        market = control.market(key)
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
        published = datetime.fromtimestamp(control.clock.time(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        n = control.exchange.next_headline_number()
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
        control.exchange.headlines.append(article)
        if move:
            self.flow.jump(market, move)
        return web.json_response(article)

    # -- load knobs -------------------------------------------------------------------
    async def rate(self, request: web.Request) -> web.Response:
        host = self.control.host
        assert host is not None
        counters = host.counters()
        try:
            body = await _object(request)
            rate = counters["rate"]
            if "rate" in body:
                rate = None if body["rate"] is None else float(body["rate"])
            frames = int(body.get("frame_messages", counters["frame_messages"]))
            check_rate(rate, frames)
        except (ValueError, TypeError) as exc:
            return _error(str(exc) if "must" in str(exc) else f"bad rate request: {exc}")
        host.set_load(rate, frames)
        return web.json_response({"rate": rate, "frame_messages": frames})

    async def connections(self, request: web.Request) -> web.Response:
        assert self.control.host is not None
        return web.json_response(self.control.host.market_connections())

    async def drop(self, request: web.Request) -> web.Response:
        conn_id = request.match_info["conn_id"]
        assert self.control.host is not None
        if self.control.host.drop_market_connection(conn_id):
            return web.json_response({"dropped": conn_id})
        return _error(f"no market connection {conn_id!r}: see GET /_admin/connections", 404)

    # -- markets ----------------------------------------------------------------------
    async def new_market(self, request: web.Request) -> web.Response:
        assert self.control.host is not None
        market = self.control.host.list_market()
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
        market = self.control.exchange.by_condition.get(cid)
        if market is None:
            return _error(f"market {cid!r} is unknown: use a listed condition id", 404)
        if market.resolved:
            return _error(f"market {cid[:12]}… is already resolved")
        try:
            winner = str((await _object(request)).get("winner") or "")
            event = self.control.resolve(market, winner)
        except ValueError as exc:
            return _error(str(exc))
        return web.json_response(event)

    async def mispricing(self, request: web.Request) -> web.Response:
        flow = self.flow
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
        return web.json_response(self.control.pacing.describe())

    async def set_limits(self, request: web.Request) -> web.Response:
        try:
            self.control.pacing.update(await _object(request))
        except ValueError as exc:
            return _error(str(exc))
        return web.json_response(self.control.pacing.describe())

    async def set_signer_limits(self, request: web.Request) -> web.Response:
        limits = self.control.signer_limits
        try:
            body = await _object(request)
            if "enforce" in body:
                if not isinstance(body["enforce"], bool):
                    raise ValueError("enforce must be true or false")
                limits.enforce = body["enforce"]
            if "bucket" in body:
                limits.configure(
                    str(body["bucket"]), float(body["capacity"]), float(body["refill_per_s"])
                )
        except KeyError as exc:
            return _error(f"{exc.args[0]} is missing: send bucket, capacity and refill_per_s")
        except (ValueError, TypeError) as exc:
            return _error(str(exc))
        return web.json_response(limits.describe())

    # -- wallets, orders, trades ------------------------------------------------------
    async def wallets(self, request: web.Request) -> web.Response:
        return web.json_response(self.control.wallets.describe())

    async def fund(self, request: web.Request) -> web.Response:
        try:
            wallet = self.control.fund(request.match_info["address"], await _object(request))
        except ValueError as exc:
            return _error(str(exc))
        return web.json_response(wallet)

    async def approvals(self, request: web.Request) -> web.Response:
        return web.json_response(self.control.wallets.approvals)

    async def orders(self, request: web.Request) -> web.Response:
        return web.json_response(self.control.orders())

    async def trades(self, request: web.Request) -> web.Response:
        return web.json_response(self.control.trades())

    async def tick(self, request: web.Request) -> web.Response:
        cid = request.match_info["condition_id"]
        market = self.control.exchange.by_condition.get(cid)
        if market is None:
            return _error(f"market {cid!r} is unknown: use a listed condition id", 404)
        try:
            text = str((await _object(request)).get("tick_size") or "")
            if text not in _TICKS:
                raise ValueError(f"tick_size must be one of {', '.join(_TICKS)}, not {text!r}")
            Decimal(text)
        except (ValueError, InvalidOperation) as exc:
            return _error(str(exc))
        return web.json_response(self.control.set_tick(market, parse_price(text)))

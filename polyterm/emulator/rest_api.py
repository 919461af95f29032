"""REST handlers of the emulator: CLOB public routes, Gamma, news.

Server time (``/time``, the L1/L2 timestamp checks) is the exchange's clock. The news
feed is NewsAPI-shaped: its base is ``/news`` (what ``EmulatorUrls.news`` prints, and
what ``news_url`` is set to), with ``/v2/everything`` and ``/v2/top-headlines`` under it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from aiohttp import web

from engine.clock import Clock
from engine.fixed import (
    SIZE_DIGITS,
    format_fixed,
    format_price,
)
from engine.market.markets import MarketInfo
from polyterm.emulator.state import EmuMarket, Event, Exchange
from polyterm.emulator.trading_api import cursor_page as _cursor_page

END_CURSOR = "LTE="
PAGE = 100
BOOKS_CAP = 500  # token ids per POST /books, as the venue
NEWS_ENDPOINTS = ("/v2/everything", "/v2/top-headlines")


def dumps(data: Any) -> str:
    """The JSON text every REST answer is written with (compact separators)."""
    return json.dumps(data, separators=(",", ":"))


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=dumps)


def book_snapshot(market: EmuMarket, token_id: str) -> Event:
    """One entry of a ``GET /book`` / ``POST /books`` answer: the book, untagged."""
    book = market.book_of(token_id)
    assert book is not None
    snap = market.book_message(book)
    del snap["event_type"]
    return snap


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status)


def clob_market_json(m: EmuMarket) -> dict[str, Any]:
    info = m.info
    prices = {m.yes.asset_id: m.yes.mid(), m.no.asset_id: m.no.mid()}
    return {
        "enable_order_book": True,
        "active": info.active,
        "closed": info.closed,
        "archived": False,
        "accepting_orders": info.accepting_orders,
        "minimum_order_size": float(Decimal(info.min_order_size).scaleb(-SIZE_DIGITS)),
        "minimum_tick_size": float(Decimal(m.yes.tick).scaleb(-4)),
        "condition_id": info.condition_id,
        "question": info.question,
        "market_slug": info.slug,
        "end_date_iso": info.end_date or None,
        "neg_risk": info.neg_risk,
        "maker_base_fee": 0,
        "taker_base_fee": info.fees.rate_bps,
        "tokens": [
            {
                "token_id": o.token_id,
                "outcome": o.name,
                "price": prices.get(o.token_id),
                "winner": o.token_id == m.winner,
            }
            for o in info.outcomes
        ],
        "tags": ["emulated"],
    }


def _named(item: dict[str, Any], param: str, values: set[str]) -> bool:
    """A Gamma market object matches a lookup by slug, condition id or token id."""
    if param == "slug":
        return item["slug"] in values
    if param == "condition_ids":
        return item["conditionId"] in values
    return bool(set(json.loads(item["clobTokenIds"])) & values)


def event_ref(ex: Exchange, m: EmuMarket) -> dict[str, Any]:
    """The ``events[0]`` Gamma puts on a market: its neg-risk event, or its own."""
    info = m.info
    grouped = ex.events.get(info.event_id)
    if grouped is not None:
        slug, title, _ = grouped
        return {"id": info.event_id, "slug": slug, "title": title, "negRisk": True}
    return {"id": info.event_id, "slug": info.slug, "title": info.question, "negRisk": False}


def gamma_market_json(m: EmuMarket, event: dict[str, Any] | None = None) -> dict[str, Any]:
    info: MarketInfo = m.info
    yes_mid = m.yes.mid() or 0.5
    if event is None:
        event = {"id": info.event_id, "slug": info.slug, "title": info.question}
        event["negRisk"] = info.neg_risk
    out: dict[str, Any] = {
        "id": info.gamma_id,
        "question": info.question,
        "conditionId": info.condition_id,
        "slug": info.slug,
        "endDate": info.end_date or None,
        "liquidity": str(info.liquidity),
        "liquidityNum": float(info.liquidity),
        "volume24hr": float(info.volume_24h),
        "outcomes": json.dumps([o.name for o in info.outcomes]),
        "outcomePrices": json.dumps([f"{yes_mid:.4f}", f"{1 - yes_mid:.4f}"]),
        "clobTokenIds": json.dumps(list(info.token_ids)),
        "active": info.active,
        "closed": info.closed,
        "acceptingOrders": info.accepting_orders,
        "enableOrderBook": True,
        "negRisk": info.neg_risk,
        "orderPriceMinTickSize": float(Decimal(m.yes.tick).scaleb(-4)),
        "orderMinSize": float(Decimal(info.min_order_size).scaleb(-SIZE_DIGITS)),
        "makerBaseFee": 0,
        "takerBaseFee": info.fees.rate_bps,
        "events": [event],
    }
    if info.neg_risk:
        out["groupItemTitle"] = info.question
    return out


class RestApi:
    """The public CLOB routes, Gamma and news (the authenticated ones: trading_api.py)."""

    def __init__(self, exchange: Exchange) -> None:
        self.ex = exchange
        self.clock: Clock = exchange.clock
        self.stale_snapshots: dict[str, dict[str, Any]] = {}
        self.stale_books = False

    def routes(self) -> list[web.RouteDef]:
        g, p = web.get, web.post
        return [
            g("/", self.version),
            g("/version", self.version),
            g("/ok", self.ok),
            g("/time", self.server_time),
            g("/markets", self.markets),
            g("/sampling-markets", self.markets),
            g("/simplified-markets", self.simplified_markets),
            g("/markets/{condition_id}", self.market),
            g("/markets-by-token/{token_id}", self.market_by_token),
            g("/clob-markets/{condition_id}", self.clob_market),
            g("/book", self.book),
            p("/books", self.books),
            g("/price", self.price),
            g("/midpoint", self.midpoint),
            g("/spread", self.spread),
            g("/tick-size", self.tick_size),
            g("/neg-risk", self.neg_risk),
            g("/fee-rate", self.fee_rate),
            g("/prices-history", self.prices_history),
            g("/gamma", self.gamma_index),
            g("/gamma/", self.gamma_index),
            g("/gamma/markets", self.gamma_markets),
            g("/gamma/markets/keyset", self.gamma_markets_keyset),
            g("/gamma/markets/{gamma_id}", self.gamma_market),
            g("/gamma/events", self.gamma_events),
            g("/gamma/public-search", self.gamma_search),
            g("/news", self.news_index),
            g("/news/", self.news_index),
            *(g(f"/news{path}", self.news) for path in NEWS_ENDPOINTS),
        ]

    # -- helpers ------------------------------------------------------------------
    def _token_market(self, request: web.Request) -> tuple[str, EmuMarket]:
        token_id = request.query.get("token_id", "")
        market = self.ex.by_token.get(token_id)
        if market is None:
            raise web.HTTPNotFound(
                text=json.dumps({"error": "No orderbook exists for the requested token id"}),
                content_type="application/json",
            )
        return token_id, market

    def _book_json(self, token_id: str) -> dict[str, Any]:
        if self.stale_books and token_id in self.stale_snapshots:
            return self.stale_snapshots[token_id]
        snap = book_snapshot(self.ex.by_token[token_id], token_id)
        self.stale_snapshots[token_id] = snap
        return snap

    # -- public -------------------------------------------------------------------
    async def version(self, request: web.Request) -> web.Response:
        return _json({"version": 2})

    async def ok(self, request: web.Request) -> web.Response:
        return web.Response(text='"OK"', content_type="application/json")

    async def server_time(self, request: web.Request) -> web.Response:
        return _json(int(self.clock.time()))

    async def markets(self, request: web.Request) -> web.Response:
        items = [clob_market_json(m) for m in self.ex.markets]
        return _json(_cursor_page(items, request.query.get("next_cursor")))

    async def simplified_markets(self, request: web.Request) -> web.Response:
        items = [
            {
                "condition_id": m.info.condition_id,
                "tokens": clob_market_json(m)["tokens"],
                "active": m.info.active,
                "closed": m.info.closed,
                "archived": False,
                "accepting_orders": m.info.accepting_orders,
            }
            for m in self.ex.markets
        ]
        return _json(_cursor_page(items, request.query.get("next_cursor")))

    async def market(self, request: web.Request) -> web.Response:
        m = self.ex.by_condition.get(request.match_info["condition_id"])
        return _json(clob_market_json(m)) if m else _error(404, "market not found")

    async def market_by_token(self, request: web.Request) -> web.Response:
        m = self.ex.by_token.get(request.match_info["token_id"])
        if m is None:
            return _error(404, "market not found")
        return _json({"condition_id": m.info.condition_id})

    async def clob_market(self, request: web.Request) -> web.Response:
        m = self.ex.by_condition.get(request.match_info["condition_id"])
        if m is None:
            return _error(404, "market not found")
        fees = m.info.fees
        return _json(
            {
                "c": m.info.condition_id,
                "t": [{"t": o.token_id, "o": o.name} for o in m.info.outcomes],
                "mts": float(Decimal(m.yes.tick).scaleb(-4)),
                "mos": float(Decimal(m.info.min_order_size).scaleb(-SIZE_DIGITS)),
                "nr": m.info.neg_risk,
                "fd": {"r": str(fees.rate), "e": str(fees.exponent)},
            }
        )

    async def book(self, request: web.Request) -> web.Response:
        token_id, _ = self._token_market(request)
        return _json(self._book_json(token_id))

    async def books(self, request: web.Request) -> web.Response:
        try:
            wanted = await request.json()
            ids = [str(item["token_id"]) for item in wanted]
        except (ValueError, TypeError, KeyError):
            return _error(400, 'body must be a JSON list of {"token_id": ...}')
        if len(ids) > BOOKS_CAP:
            return _error(400, f"too many token ids: {len(ids)} (at most {BOOKS_CAP} per request)")
        return _json([self._book_json(t) for t in ids if t in self.ex.by_token])

    async def price(self, request: web.Request) -> web.Response:
        token_id, market = self._token_market(request)
        book = market.book_of(token_id)
        assert book is not None
        side = request.query.get("side", "").upper()
        if side not in ("BUY", "SELL"):
            return _error(400, "side must be BUY or SELL")
        # As on the CLOB: the price you would get, i.e. best ask to BUY, best bid to SELL.
        best = book.best_ask if side == "BUY" else book.best_bid
        return _json({"price": format_price(best) if best is not None else "0"})

    async def midpoint(self, request: web.Request) -> web.Response:
        token_id, market = self._token_market(request)
        book = market.book_of(token_id)
        assert book is not None
        if book.best_bid is None or book.best_ask is None:
            return _json({"mid": "0"})
        mid = format_fixed(book.best_bid + book.best_ask, 5)
        return _json({"mid": mid})

    async def spread(self, request: web.Request) -> web.Response:
        token_id, market = self._token_market(request)
        book = market.book_of(token_id)
        assert book is not None
        spread = book.spread()
        return _json({"spread": format_price(spread) if spread is not None else "0"})

    async def tick_size(self, request: web.Request) -> web.Response:
        token_id, market = self._token_market(request)
        return _json({"minimum_tick_size": float(Decimal(market.yes.tick).scaleb(-4))})

    async def neg_risk(self, request: web.Request) -> web.Response:
        _, market = self._token_market(request)
        return _json({"neg_risk": market.info.neg_risk})

    async def fee_rate(self, request: web.Request) -> web.Response:
        _, market = self._token_market(request)
        return _json({"base_fee": market.info.fees.rate_bps})

    async def prices_history(self, request: web.Request) -> web.Response:
        token = request.query.get("market", "")
        market = self.ex.by_token.get(token)
        if market is None:
            return _error(404, "market not found")
        start = int(request.query.get("startTs", "0") or 0)
        end = int(request.query.get("endTs", "0") or 0) or 2**62
        history = []
        for ts, price in market.history:
            if start <= ts <= end:
                p = Decimal(price) if token == market.yes.asset_id else 1 - Decimal(price)
                history.append({"t": ts, "p": float(p)})
        return _json({"history": history})

    # -- Gamma ----------------------------------------------------------------------
    async def gamma_index(self, request: web.Request) -> web.Response:
        """``GET /gamma``: the printed Gamma base answers with what lives under it."""
        return _json(
            {
                "name": "polyterm emulator Gamma",
                "endpoints": ["/markets", "/markets/{id}", "/events"],
                "markets": len(self.ex.markets),
                "events": len(self.ex.events),
            }
        )

    async def gamma_markets(self, request: web.Request) -> web.Response:
        q = request.query
        items = [gamma_market_json(m, event_ref(self.ex, m)) for m in self.ex.markets]
        if q.get("active") is not None:
            want = q["active"].lower() == "true"
            items = [i for i in items if i["active"] == want]
        if q.get("closed") is not None:
            want = q["closed"].lower() == "true"
            items = [i for i in items if i["closed"] == want]
        # Gamma's lookups by name: repeated (or comma-separated) slugs, condition ids and
        # token ids, as the venue takes them.
        for param in ("slug", "condition_ids", "clob_token_ids"):
            values = {x for raw in q.getall(param, []) for x in raw.split(",") if x}
            if values:
                items = [i for i in items if _named(i, param, values)]
        order = q.get("order")
        if order in ("volume24hr", "liquidity", "liquidityNum"):
            key = "volume24hr" if order == "volume24hr" else "liquidityNum"
            items.sort(key=lambda i: i[key], reverse=q.get("ascending", "false").lower() != "true")
        offset = int(q.get("offset", "0") or 0)
        limit = int(q.get("limit", "100") or 100)
        return _json(items[offset : offset + limit])

    async def gamma_markets_keyset(self, request: web.Request) -> web.Response:
        """``GET /markets/keyset``: what the official SDK's ``list_markets`` reads (its
        redemption finds a resolved market here by condition id); one page."""
        q = request.query
        wanted = {
            c.lower() for value in q.getall("condition_ids", []) for c in value.split(",") if c
        }
        items = [
            {**gamma_market_json(m, event_ref(self.ex, m)), "version": "v1"}
            for m in self.ex.markets
            if not wanted or m.info.condition_id.lower() in wanted
        ]
        if q.get("closed") is not None:
            want = q["closed"].lower() == "true"
            items = [i for i in items if i["closed"] == want]
        limit = int(q.get("limit", "100") or 100)
        return _json({"markets": items[:limit], "next_cursor": None})

    async def gamma_market(self, request: web.Request) -> web.Response:
        for m in self.ex.markets:
            if m.info.gamma_id == request.match_info["gamma_id"]:
                return _json(gamma_market_json(m, event_ref(self.ex, m)))
        return _error(404, "market not found")

    async def gamma_search(self, request: web.Request) -> web.Response:
        """``/public-search?q=``: events whose title, or one of whose markets' question or
        slug, holds every word of `q` (any case), with their markets, as Gamma answers."""
        words = [w for w in request.query.get("q", "").lower().split() if w]
        if not words:
            return _error(400, "q is required")
        limit = int(request.query.get("limit_per_type", "10") or 10)
        events: dict[str, dict[str, Any]] = {}
        for m in self.ex.markets:
            ref = event_ref(self.ex, m)
            text = f"{ref['title']} {m.info.question} {m.info.slug}".lower()
            if not all(w in text for w in words):
                continue
            event = events.setdefault(
                ref["id"], {**ref, "active": True, "closed": False, "markets": []}
            )
            event["markets"].append(gamma_market_json(m, ref))
        found = list(events.values())
        return _json(
            {
                "events": found[:limit],
                "pagination": {"hasMore": len(found) > limit, "totalResults": len(found)},
            }
        )

    async def gamma_events(self, request: web.Request) -> web.Response:
        """Events with their markets: neg-risk baskets, and one event per other market."""
        q = request.query
        events: list[dict[str, Any]] = []
        seen: set[str] = set()
        for m in self.ex.markets:
            ref = event_ref(self.ex, m)
            if ref["id"] in seen:
                continue
            seen.add(ref["id"])
            members = self.ex.events[ref["id"]][2] if ref["negRisk"] else [m]
            closed = all(x.info.closed for x in members)
            events.append(
                {
                    **ref,
                    "enableNegRisk": ref["negRisk"],
                    # The emulator's events are closed sets (their fair values sum to 1).
                    "negRiskAugmented": False,
                    "active": True,
                    "closed": closed,
                    "archived": False,
                    "volume24hr": float(sum(x.info.volume_24h for x in members)),
                    "markets": [gamma_market_json(x, ref) for x in members],
                }
            )
        ids = set(q.getall("id", []))
        if ids:
            events = [e for e in events if e["id"] in ids]
        if q.get("closed") is not None:
            want = q["closed"].lower() == "true"
            events = [e for e in events if e["closed"] == want]
        if q.get("neg_risk") is not None or q.get("negRisk") is not None:
            want = (q.get("neg_risk") or q.get("negRisk") or "").lower() == "true"
            events = [e for e in events if e["negRisk"] == want]
        offset = int(q.get("offset", "0") or 0)
        limit = int(q.get("limit", "100") or 100)
        return _json(events[offset : offset + limit])

    # -- news ---------------------------------------------------------------------
    async def news_index(self, request: web.Request) -> web.Response:
        """``GET /news``: the base of the NewsAPI-shaped feed says what lives under it."""
        return _json(
            {
                "status": "ok",
                "name": "polyterm emulator news (NewsAPI-shaped)",
                "endpoints": list(NEWS_ENDPOINTS),
                "headlines": len(self.ex.headlines),
            }
        )

    async def news(self, request: web.Request) -> web.Response:
        q = request.query.get("q", "").lower()
        size = int(request.query.get("pageSize", "20") or 20)
        articles = [a for a in reversed(self.ex.headlines) if not q or q in a["title"].lower()]
        return _json({"status": "ok", "totalResults": len(articles), "articles": articles[:size]})

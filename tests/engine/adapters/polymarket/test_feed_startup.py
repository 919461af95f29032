"""Feed start-up against a scripted venue: markets it cannot trade are skipped with a
counted reason, and progress is reported while details and books load (the headless
status line shows it: tests/polyterm/faces/test_status_line.py)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from engine.adapters.polymarket.feed import NO_FEE_DATA, NO_METADATA, NO_TOKEN_IDS, PolymarketFeed
from engine.config import FeedConfig, HotAssetConfig
from engine.market.health import FeedHealth
from engine.market.markets import MarketInfo
from tests.kit.clock import FakeClock

BASE = "http://127.0.0.1:9"


def gamma(cid: str, tokens: list[str] | None, volume: float) -> dict[str, Any]:
    market: dict[str, Any] = {
        "conditionId": cid,
        "question": f"Will {cid} happen?",
        "slug": cid,
        "volume24hr": volume,
        "active": True,
        "closed": False,
        "acceptingOrders": True,
        "outcomes": '["Yes", "No"]',
    }
    if tokens is not None:
        market["clobTokenIds"] = json.dumps(tokens)
    return market


class Venue:
    """Gamma, /clob-markets and POST /books, noting what the feed said while it asked."""

    def __init__(self, feed_health: list[FeedHealth]) -> None:
        self.health = feed_health
        self.seen: list[tuple[str, str | None]] = []
        self.markets = [
            gamma("0xa", ["a1", "a2"], 500.0),
            gamma("0xb", [], 400.0),  # no token ids at all
            gamma("0xc", ["", ""], 300.0),  # empty token ids (a recorded market has these)
            gamma("0xd", ["d1", "d2"], 200.0),
            gamma("0xe", ["e1", "e2"], 100.0),  # /clob-markets has no record
            {"question": "no condition id", "clobTokenIds": '["x1", "x2"]'},
        ]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.seen.append((path, self.health[0].startup))
        if path == "/gamma/markets":
            offset = int(request.url.params.get("offset", "0"))
            return httpx.Response(200, json=self.markets[offset:] if offset == 0 else [])
        if path.startswith("/clob-markets/"):
            cid = path.rsplit("/", 1)[1]
            if cid == "0xe":
                return httpx.Response(404, json={"error": "market not found"})
            return httpx.Response(200, json={"mts": 0.01, "nr": False, "fd": {"r": 0, "e": 0}})
        if path == "/books":
            wanted = [item["token_id"] for item in json.loads(request.content)]
            books = [
                {"asset_id": t, "market": "0x", "bids": [], "asks": [], "timestamp": "1"}
                for t in wanted
            ]
            return httpx.Response(200, json=books)
        return httpx.Response(404, json={"error": path})


class Sink:
    def __init__(self) -> None:
        self.frames: list[bytes | str] = []
        self.markets: list[MarketInfo] = []

    def on_markets(self, markets: list[MarketInfo]) -> None:
        self.markets = list(markets)

    def on_frame(self, raw: bytes | str, recv_ts: float, source: str) -> None:
        self.frames.append(raw)


def feed_for(fake_clock: FakeClock) -> tuple[PolymarketFeed, Venue]:
    holder: list[FeedHealth] = []
    venue = Venue(holder)
    config = FeedConfig(
        clob_rest_url=BASE,
        market_ws_url="ws://127.0.0.1:9/ws/market",
        gamma_url=f"{BASE}/gamma",
        offline=True,
        max_markets=10,
    )
    feed = PolymarketFeed(
        config, HotAssetConfig(), fake_clock, transport=httpx.MockTransport(venue)
    )
    holder.append(feed.health)
    return feed, venue


async def test_markets_it_cannot_trade_are_skipped_and_counted(fake_clock: FakeClock) -> None:
    feed, venue = feed_for(fake_clock)
    markets = await feed.discover()
    await feed.http.aclose()
    assert [m.condition_id for m in markets] == ["0xa", "0xd"]
    assert feed.health.skipped_markets == {NO_TOKEN_IDS: 2, NO_METADATA: 1, NO_FEE_DATA: 1}
    snap = feed.health.snapshot(0.0)
    assert dict(snap.skipped_markets) == feed.health.skipped_markets
    # Nobody ever asked for a book of a token-less market.
    assert not any(p.startswith("/clob-markets/0xb") or "0xc" in p for p, _ in venue.seen)


async def test_progress_is_reported_while_details_and_books_load(fake_clock: FakeClock) -> None:
    feed, venue = feed_for(fake_clock)
    sink = Sink()
    feed._sink = sink
    markets = await feed.discover()
    tokens = [t for m in markets for t in m.token_ids] * 30  # 120 books: three requests
    await feed._load_books(tokens)
    await feed.http.aclose()
    said = [s for _, s in venue.seen]
    assert said[0] == "listing markets"
    assert "market details 0/3" in said
    assert said.count("loading books 0/120") >= 1
    loading = [s for p, s in venue.seen if p == "/books"]
    assert loading[0] == "loading books 0/120"
    assert feed.health.startup is None  # done: the status line shows books again
    assert (feed.health.books_loaded, feed.health.books_expected) == (120, 120)
    assert len(sink.frames) == 3

"""Where market data comes from and how hard the feed may pull on it."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, HttpUrl, field_validator

from engine.config.base import Bool, Frozen, Int, Real
from engine.limits import MAX_MARKETS

POLYMARKET_CLOB = "https://clob.polymarket.com"
POLYMARKET_MARKET_WS = "wss://ws-subscriptions-clob.polymarket.com/ws/market"
POLYMARKET_USER_WS = "wss://ws-subscriptions-clob.polymarket.com/ws/user"
POLYMARKET_GAMMA = "https://gamma-api.polymarket.com"
NEWSAPI = "https://newsapi.org"

# Polymarket's published request limits, requests per 10 s (../shared/polymarket/API.md).
# "CLOB" and "GAMMA" are whole hosts; "METHOD /path" one CLOB endpoint (its sub-paths
# included: "GET /data/order" covers /data/order/<id>); "GAMMA METHOD /path" one Gamma
# endpoint. The emulator enforces the same table.
VENUE_RATE_LIMITS: dict[str, Int] = {
    "CLOB": 9000,
    "GET /book": 1500,
    "GET /price": 1500,
    "GET /midpoint": 1500,
    "POST /books": 500,
    "GET /prices-history": 1000,
    "GET /data/orders": 900,
    "GET /data/order": 900,
    "GET /data/trades": 900,
    "POST /auth/api-key": 100,
    "GET /auth/derive-api-key": 100,
    "POST /order": 3500,
    "DELETE /order": 3000,
    "POST /orders": 1000,
    "GAMMA": 4000,
    "GAMMA GET /events": 500,
    "GAMMA GET /markets": 300,
}
_LIMIT_KEY = re.compile(r"^(CLOB|GAMMA|(GAMMA )?(GET|POST|PUT|DELETE|PATCH) /\S*)$")


class FeedConfig(Frozen):
    clob_rest_url: str = POLYMARKET_CLOB
    market_ws_url: str = POLYMARKET_MARKET_WS
    user_ws_url: str = POLYMARKET_USER_WS
    gamma_url: str = POLYMARKET_GAMMA
    news_url: str = NEWSAPI
    offline: Bool = False
    max_markets: Int = Field(8, ge=1, le=MAX_MARKETS)
    rank_by: Literal["volume", "liquidity"] = "volume"
    # A neg-risk event the selection reaches is loaded whole (its other outcome markets
    # join, past max_markets), so its basket is complete, when it has at most this many
    # open outcomes; a bigger one stays partial, and is never priced as a basket.
    max_event_markets: Int = Field(40, ge=2, le=500)
    rest_max_concurrency: Int = Field(8, ge=1, le=64)
    # Requests per 10 s by endpoint: the venue's table, with the keys given here set over
    # it (0 lifts one limit).
    rate_limits: dict[str, Int] = Field(default_factory=lambda: dict(VENUE_RATE_LIMITS))
    # An overall cap of our own on top of the table (None: the table alone).
    rest_rate_per_s: Real | None = Field(None, gt=0)
    rest_burst: Int = Field(8, ge=1)
    rest_timeout_s: Real = Field(10.0, gt=0)
    rest_max_retries: Int = Field(4, ge=0, le=20)
    backoff_base_s: Real = Field(0.5, gt=0)
    backoff_cap_s: Real = Field(30.0, gt=0)
    ws_ping_interval_s: Real = Field(10.0, gt=0)  # the venue's cadence (at most)
    # A connection silent this long (not even a PONG: it is pinged twice as often) is
    # ws_stale, and reconnected.
    ws_stale_after_s: Real = Field(5.0, gt=0)
    ws_reconnect_base_s: Real = Field(1.0, gt=0)
    ws_reconnect_cap_s: Real = Field(30.0, gt=0)
    # The venue stops updating past about 500 tokens on one connection: the subscription
    # is sharded over connections of at most this many tokens.
    ws_shard_size: Int = Field(400, ge=1)
    # permessage-deflate: "off" (the default; never used on loopback) or "deflate" for a
    # metered link to the venue, at a CPU cost per message (README, Benchmarks).
    ws_compression: Literal["off", "deflate"] = "off"
    # A frame longer than this is applied in slices of whole events, one per loop turn.
    ws_slice_bytes: Int = Field(1 << 16, ge=1024)
    # Markets the venue lists while we run (new_market) are added and streamed.
    follow_new_markets: Bool = True
    rest_poll_interval_s: Real = Field(2.0, gt=0)
    resnapshot_interval_s: Real = Field(0.5, gt=0)

    @field_validator("market_ws_url", "user_ws_url")
    @classmethod
    def _ws_url(cls, value: str) -> str:
        # An http:// value here was once retried for ever: a WebSocket URL is ws(s)://.
        if not value.startswith(("ws://", "wss://")):
            raise ValueError(f"{value!r} is not a ws:// or wss:// URL (a WebSocket)")
        return value

    @field_validator("clob_rest_url", "market_ws_url", "user_ws_url", "gamma_url", "news_url")
    @classmethod
    def _url(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in ("http", "https", "ws", "wss"):
            raise ValueError(f"{value!r} is not an http(s):// or ws(s):// URL")
        HttpUrl(value.replace("ws://", "http://", 1).replace("wss://", "https://", 1))
        return value.rstrip("/")

    @field_validator("ws_shard_size")
    @classmethod
    def _shard_size(cls, value: int) -> int:
        if value > 500:
            raise ValueError(
                f"{value} is more than 500 tokens: the venue silently stops updating past "
                "about 500 on one connection (400 leaves room)"
            )
        return value

    @field_validator("rate_limits", mode="before")
    @classmethod
    def _limits(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value  # pydantic names the type error
        for key, limit in value.items():
            if not isinstance(key, str) or not _LIMIT_KEY.match(key):
                raise ValueError(
                    f"{key!r} is not a limit key: use CLOB, GAMMA, 'METHOD /path' "
                    "(e.g. 'GET /book') or 'GAMMA METHOD /path'"
                )
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise ValueError(f"{key!r}: a limit is a whole number of requests per 10 s >= 0")
        return {**VENUE_RATE_LIMITS, **value}


class HotAssetConfig(Frozen):
    # Tokens streamed at most. Every token of the selected markets streams while they
    # fit; past this the registry ranks them (volume rank, pins, hits) and takes the top.
    asset_limit: Int = Field(2000, ge=1)
    static_assets: tuple[str, ...] = ()
    min_score: Real = 0.0
    sticky_s: Real = Field(60.0, ge=0)
    ttl_s: Real = Field(300.0, gt=0)
    hit_boost: Real = Field(1.0, ge=0)
    refresh_s: Real = Field(5.0, gt=0)

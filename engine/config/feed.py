"""Where market data comes from and how hard the feed may pull on it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, HttpUrl, field_validator

from engine.config.base import Frozen

POLYMARKET_CLOB = "https://clob.polymarket.com"
POLYMARKET_MARKET_WS = "wss://ws-subscriptions-clob.polymarket.com/ws/market"
POLYMARKET_USER_WS = "wss://ws-subscriptions-clob.polymarket.com/ws/user"
POLYMARKET_GAMMA = "https://gamma-api.polymarket.com"
NEWSAPI = "https://newsapi.org"


class FeedConfig(Frozen):
    clob_rest_url: str = POLYMARKET_CLOB
    market_ws_url: str = POLYMARKET_MARKET_WS
    user_ws_url: str = POLYMARKET_USER_WS
    gamma_url: str = POLYMARKET_GAMMA
    news_url: str = NEWSAPI
    offline: bool = False
    max_markets: int = Field(8, ge=1, le=1000)
    rank_by: Literal["volume", "liquidity"] = "volume"
    rest_max_concurrency: int = Field(4, ge=1, le=64)
    rest_rate_per_s: float = Field(8.0, gt=0)
    rest_burst: int = Field(8, ge=1)
    rest_timeout_s: float = Field(10.0, gt=0)
    rest_max_retries: int = Field(4, ge=0, le=20)
    backoff_base_s: float = Field(0.5, gt=0)
    backoff_cap_s: float = Field(30.0, gt=0)
    ws_ping_interval_s: float = Field(10.0, gt=0)
    ws_stale_after_s: float = Field(20.0, gt=0)
    ws_reconnect_base_s: float = Field(1.0, gt=0)
    ws_reconnect_cap_s: float = Field(30.0, gt=0)
    rest_poll_interval_s: float = Field(2.0, gt=0)
    resnapshot_interval_s: float = Field(0.5, gt=0)

    @field_validator("clob_rest_url", "market_ws_url", "user_ws_url", "gamma_url", "news_url")
    @classmethod
    def _url(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in ("http", "https", "ws", "wss"):
            raise ValueError(f"{value!r} is not an http(s):// or ws(s):// URL")
        HttpUrl(value.replace("ws://", "http://", 1).replace("wss://", "https://", 1))
        return value.rstrip("/")


class HotAssetConfig(Frozen):
    asset_limit: int = Field(50, ge=1)
    static_assets: tuple[str, ...] = ()
    min_score: float = 0.0
    sticky_s: float = Field(60.0, ge=0)
    ttl_s: float = Field(300.0, gt=0)
    hit_boost: float = Field(1.0, ge=0)
    refresh_s: float = Field(5.0, gt=0)

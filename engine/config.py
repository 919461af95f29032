"""Engine settings, validated by pydantic. Defaults are safe: paper, modest limits.

The shell (``polyterm.config``) fills these from config.toml and environment variables;
the engine never reads files or the environment itself.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

POLYMARKET_CLOB = "https://clob.polymarket.com"
POLYMARKET_MARKET_WS = "wss://ws-subscriptions-clob.polymarket.com/ws/market"
POLYMARKET_USER_WS = "wss://ws-subscriptions-clob.polymarket.com/ws/user"
POLYMARKET_GAMMA = "https://gamma-api.polymarket.com"
NEWSAPI = "https://newsapi.org"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FeedConfig(_Frozen):
    clob_rest_url: str = POLYMARKET_CLOB
    market_ws_url: str = POLYMARKET_MARKET_WS
    user_ws_url: str = POLYMARKET_USER_WS
    gamma_url: str = POLYMARKET_GAMMA
    news_url: str = NEWSAPI
    offline: bool = False
    max_markets: int = Field(8, ge=1, le=500)
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


class HotAssetConfig(_Frozen):
    asset_limit: int = Field(50, ge=1)
    static_assets: tuple[str, ...] = ()
    min_score: float = 0.0
    sticky_s: float = Field(60.0, ge=0)
    ttl_s: float = Field(300.0, gt=0)
    hit_boost: float = Field(1.0, ge=0)
    refresh_s: float = Field(5.0, gt=0)


class MeanReversionConfig(_Frozen):
    weight: float = Field(1.0, ge=0)
    window: int = Field(40, ge=5)
    entry_z: float = Field(1.6, gt=0)
    exit_z: float = Field(0.2, ge=0)
    max_spread_ticks: int = Field(6, ge=1)
    sample_interval_s: float = Field(0.25, gt=0)  # at most one mid sample per this long


class StrategyConfig(_Frozen):
    mean_reversion: MeanReversionConfig = MeanReversionConfig()
    threshold: float = Field(0.5, gt=0, le=1)
    order_size: Decimal = Field(Decimal(10), gt=0)
    max_slippage_ticks: int = Field(1, ge=0)
    entry_cooldown_s: float = Field(5.0, ge=0)
    # "take": entries cross the spread (FAK); "rest": entries rest post-only at the best
    # price of their side for `rest_ttl_s` (GTD), queued behind the size shown there.
    order_style: Literal["take", "rest"] = "take"
    rest_ttl_s: float = Field(30.0, gt=0)


class RiskConfig(_Frozen):
    max_position_shares: Decimal = Field(Decimal(50), gt=0)
    max_order_shares: Decimal = Field(Decimal(25), gt=0)


class PaperConfig(_Frozen):
    starting_cash: Decimal = Field(Decimal(1000), gt=0)
    latency_ms: int = Field(0, ge=0)
    latency_jitter_ms: int = Field(0, ge=0)  # uniform extra delay, seeded (--seed)


class EngineConfig(_Frozen):
    feed: FeedConfig = FeedConfig()
    hot_assets: HotAssetConfig = HotAssetConfig()
    strategy: StrategyConfig = StrategyConfig()
    risk: RiskConfig = RiskConfig()
    paper: PaperConfig = PaperConfig()
    snapshot_interval_s: float = Field(0.1, gt=0)
    housekeeping_interval_s: float = Field(0.1, gt=0)  # re-snapshots, expiries, feed checks
    resnapshot_backoff_base_s: float = Field(0.5, gt=0)
    resnapshot_backoff_cap_s: float = Field(15.0, gt=0)
    dry_run: bool = True

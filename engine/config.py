"""Engine settings, validated by pydantic. Defaults are safe: paper, modest limits.

The shell (``polyterm.config``) fills these from config.toml and environment variables;
the engine never reads files or the environment itself.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

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
    # Feed policy: what entries do while the feed is not ws_live (ws_stale, rest_only,
    # ws_initialising). Halt them all, skip the listed strategies, or scale their sizes.
    halt_on_fallback: bool = False
    skip_on_fallback: tuple[str, ...] = ()
    size_scales_on_fallback: dict[str, float] = Field(default_factory=dict)
    # No order is priced off a book that has not changed or been confirmed for this long.
    max_book_age_s: float = Field(5.0, gt=0)
    # Exits on such a book: "hold" waits for a fresh book, "allow" exits anyway.
    stale_book_exits: Literal["hold", "allow"] = "hold"

    @field_validator("size_scales_on_fallback")
    @classmethod
    def _scales(cls, value: dict[str, float]) -> dict[str, float]:
        for name, scale in value.items():
            if not 0 <= scale <= 1:
                raise ValueError(f"scale for {name!r} is {scale}: allowed range is 0 to 1")
        return value


class RiskConfig(_Frozen):
    max_position_shares: Decimal = Field(Decimal(50), gt=0)
    max_order_shares: Decimal = Field(Decimal(25), gt=0)
    # Sizing: an entry's cost is at most this fraction of equity...
    bankroll_fraction: Decimal = Field(Decimal("0.05"), gt=0, le=1)
    # ...and exposure (cost of what is held plus open buys, YES and NO of one market
    # netted as a hedge) stays within these, in USDC: per market, per event (a neg-risk
    # basket), and in total.
    max_market_exposure: Decimal = Field(Decimal(100), gt=0)
    max_event_exposure: Decimal = Field(Decimal(200), gt=0)
    max_total_exposure: Decimal = Field(Decimal(500), gt=0)
    # Per-strategy base size in shares (default: strategy.order_size).
    strategy_sizes: dict[str, Decimal] = Field(default_factory=dict)


class Window(_Frozen):
    max_orders: int = Field(ge=1)
    interval_seconds: float = Field(gt=0)


class OrderFrequencyConfig(_Frozen):
    """The global rolling cap on orders."""

    enabled: bool = True
    max_orders: int = Field(30, ge=1)
    interval_seconds: float = Field(60.0, gt=0)


class StrategyOrderFrequencyConfig(_Frozen):
    """One strategy's rolling cap, and optionally the same (true) or other limits per
    market, per side and per market x side."""

    enabled: bool = True
    max_orders: int = Field(ge=1)
    interval_seconds: float = Field(gt=0)
    per_market: bool | Window = False
    per_side: bool | Window = False
    per_market_side: bool | Window = False

    def window(self, scope: str) -> Window | None:
        """The limits for "strategy", "market", "side" or "market_side" (None: off)."""
        if scope == "strategy":
            return Window(max_orders=self.max_orders, interval_seconds=self.interval_seconds)
        value = {"market": self.per_market, "side": self.per_side}.get(scope, self.per_market_side)
        if value is True:
            return Window(max_orders=self.max_orders, interval_seconds=self.interval_seconds)
        return value or None


class TradingConfig(_Frozen):
    daily_loss_enabled: bool = True
    daily_loss_limit_pct: float = Field(5.0, gt=0, le=100)
    daily_loss_cooldown_minutes: float = Field(60.0, ge=0)
    daily_loss_reset_hour: int = Field(0, ge=0, le=23)
    daily_loss_recovery_ratio: float = Field(0.5, gt=0, le=1)
    flatten_on_trip: bool = False
    order_frequency: OrderFrequencyConfig = OrderFrequencyConfig()
    strategy_order_frequency: dict[str, StrategyOrderFrequencyConfig] = Field(default_factory=dict)


class ExitConfig(_Frozen):
    """Exits every position gets, whatever the strategy says (0 turns one off)."""

    take_profit: Decimal = Field(Decimal("0.05"), ge=0, lt=1)  # price rise from entry
    stop_loss: Decimal = Field(Decimal("0.05"), ge=0, lt=1)  # price fall from entry
    max_holding_s: float = Field(3600.0, ge=0)


class ExecutionConfig(_Frozen):
    # Orders the ledger shows open after a restart: "cancel" them, or "replace" the
    # remainder with a new order at the same price (paper queues do not survive).
    on_restart: Literal["cancel", "replace"] = "cancel"
    # Flatten closes at best price at most this many ticks worse (a worst-price cap).
    flatten_max_slippage_ticks: int = Field(5, ge=0)


class PaperConfig(_Frozen):
    starting_cash: Decimal = Field(Decimal(1000), gt=0)
    latency_ms: int = Field(0, ge=0)
    latency_jitter_ms: int = Field(0, ge=0)  # uniform extra delay, seeded (--seed)


class EngineConfig(_Frozen):
    feed: FeedConfig = FeedConfig()
    hot_assets: HotAssetConfig = HotAssetConfig()
    strategy: StrategyConfig = StrategyConfig()
    risk: RiskConfig = RiskConfig()
    trading: TradingConfig = TradingConfig()
    exits: ExitConfig = ExitConfig()
    execution: ExecutionConfig = ExecutionConfig()
    paper: PaperConfig = PaperConfig()
    snapshot_interval_s: float = Field(0.1, gt=0)
    housekeeping_interval_s: float = Field(0.1, gt=0)  # re-snapshots, expiries, feed checks
    resnapshot_backoff_base_s: float = Field(0.5, gt=0)
    resnapshot_backoff_cap_s: float = Field(15.0, gt=0)
    dry_run: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> EngineConfig:
        """Settings that contradict each other are refused, not silently clamped."""
        risk = self.risk
        sizes = {"strategy.order_size": self.strategy.order_size} | {
            f"risk.strategy_sizes.{k}": v for k, v in risk.strategy_sizes.items()
        }
        for key, size in sizes.items():
            if size > risk.max_order_shares:
                raise ValueError(
                    f"{key} = {size} is above risk.max_order_shares = "
                    f"{risk.max_order_shares}: lower it or raise the cap"
                )
        if risk.max_order_shares > risk.max_position_shares:
            raise ValueError(
                f"risk.max_order_shares = {risk.max_order_shares} is above "
                f"risk.max_position_shares = {risk.max_position_shares}"
            )
        return self

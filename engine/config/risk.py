"""Limits: sizing and exposure, the daily-loss kill switch and order-rate caps."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from engine.config.base import Bool, Fraction, Frozen, Int, Real, Shares, Usdc


class RiskConfig(Frozen):
    max_position_shares: Shares = Field(Decimal(50), gt=0)
    max_order_shares: Shares = Field(Decimal(25), gt=0)
    # Sizing: an entry's cost is at most this fraction of equity...
    bankroll_fraction: Fraction = Field(Decimal("0.05"), gt=0, le=1)
    # ...and exposure (cost of what is held plus open buys, YES and NO of one market
    # netted as a hedge) stays within these, in USDC: per market, per event (a neg-risk
    # basket), and in total.
    max_market_exposure: Usdc = Field(Decimal(100), gt=0)
    max_event_exposure: Usdc = Field(Decimal(200), gt=0)
    max_total_exposure: Usdc = Field(Decimal(500), gt=0)
    # Per-strategy base size in shares (default: strategy.order_size).
    strategy_sizes: dict[str, Shares] = Field(default_factory=dict)


class Window(Frozen):
    max_orders: Int = Field(ge=1)
    interval_seconds: Real = Field(gt=0)


class OrderFrequencyConfig(Frozen):
    """The global rolling cap on orders."""

    enabled: Bool = True
    max_orders: Int = Field(30, ge=1)
    interval_seconds: Real = Field(60.0, gt=0)


class StrategyOrderFrequencyConfig(Frozen):
    """One strategy's rolling cap, and optionally the same (true) or other limits per
    market, per side and per market x side."""

    enabled: Bool = True
    max_orders: Int = Field(ge=1)
    interval_seconds: Real = Field(gt=0)
    per_market: Bool | Window = False
    per_side: Bool | Window = False
    per_market_side: Bool | Window = False

    def window(self, scope: str) -> Window | None:
        """The limits for "strategy", "market", "side" or "market_side" (None: off)."""
        if scope == "strategy":
            return Window(max_orders=self.max_orders, interval_seconds=self.interval_seconds)
        value = {"market": self.per_market, "side": self.per_side}.get(scope, self.per_market_side)
        if value is True:
            return Window(max_orders=self.max_orders, interval_seconds=self.interval_seconds)
        return value or None


class TradingConfig(Frozen):
    daily_loss_enabled: Bool = True
    daily_loss_limit_pct: Real = Field(5.0, gt=0, le=100)
    daily_loss_cooldown_minutes: Real = Field(60.0, ge=0)
    daily_loss_reset_hour: Int = Field(0, ge=0, le=23)
    daily_loss_recovery_ratio: Real = Field(0.5, gt=0, le=1)
    flatten_on_trip: Bool = False
    order_frequency: OrderFrequencyConfig = OrderFrequencyConfig()
    strategy_order_frequency: dict[str, StrategyOrderFrequencyConfig] = Field(default_factory=dict)

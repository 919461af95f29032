"""Engine settings, validated by pydantic. Defaults are safe: paper, modest limits.

The shell (``polyterm.settings.config``) fills these from config.toml and environment variables;
the engine never reads files or the environment itself.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from engine.config.base import Bool, Frozen, Real
from engine.config.execution import ExecutionConfig, ExitConfig, PaperConfig
from engine.config.feed import (
    NEWSAPI,
    POLYMARKET_CLOB,
    POLYMARKET_GAMMA,
    POLYMARKET_MARKET_WS,
    POLYMARKET_USER_WS,
    FeedConfig,
    HotAssetConfig,
)
from engine.config.live import LiveConfig
from engine.config.risk import (
    OrderFrequencyConfig,
    RiskConfig,
    StrategyOrderFrequencyConfig,
    TradingConfig,
    Window,
)
from engine.config.sentiment import SentimentConfig
from engine.config.strategy import MeanReversionConfig, StrategiesConfig, StrategyConfig

__all__ = [
    "NEWSAPI",
    "POLYMARKET_CLOB",
    "POLYMARKET_GAMMA",
    "POLYMARKET_MARKET_WS",
    "POLYMARKET_USER_WS",
    "EngineConfig",
    "ExecutionConfig",
    "ExitConfig",
    "FeedConfig",
    "Frozen",
    "HotAssetConfig",
    "LiveConfig",
    "MeanReversionConfig",
    "OrderFrequencyConfig",
    "PaperConfig",
    "RiskConfig",
    "SentimentConfig",
    "StrategiesConfig",
    "StrategyConfig",
    "StrategyOrderFrequencyConfig",
    "TradingConfig",
    "Window",
]


class EngineConfig(Frozen):
    feed: FeedConfig = FeedConfig()
    hot_assets: HotAssetConfig = HotAssetConfig()
    strategy: StrategyConfig = StrategyConfig()  # global keys: threshold, size, style, policy
    strategies: StrategiesConfig = StrategiesConfig()  # [strategies.<name>] slots
    sentiment: SentimentConfig = SentimentConfig()
    risk: RiskConfig = RiskConfig()
    trading: TradingConfig = TradingConfig()
    exits: ExitConfig = ExitConfig()
    execution: ExecutionConfig = ExecutionConfig()
    paper: PaperConfig = PaperConfig()
    live: LiveConfig = LiveConfig()  # [live]: live trading's own caps and canary mode
    snapshot_interval_s: Real = Field(0.1, gt=0)
    housekeeping_interval_s: Real = Field(0.1, gt=0)  # re-snapshots, expiries, feed checks
    resnapshot_backoff_base_s: Real = Field(0.5, gt=0)
    resnapshot_backoff_cap_s: Real = Field(15.0, gt=0)
    dry_run: Bool = True

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

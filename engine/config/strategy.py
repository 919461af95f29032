"""What the strategies do and how their votes become orders.

``[strategy]`` (StrategyConfig) holds the global keys: threshold, order size, order style,
feed policy. ``[strategies.<name>]`` (StrategiesConfig) holds one slot per strategy, the
seed's layout: ``enabled``, ``weight`` (0: detected and recorded, never voted or executed)
and ``params``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator

from engine.config.base import Bool, Frozen, Int, Real, Shares

RiskLevel = Literal["low", "medium", "high"]


class SpreadVolumeTier(Frozen):
    """Markets with at least this 24h volume (USDC) may not be entered wider than
    `max_spread_bps` (spread over mid, in basis points)."""

    min_volume_24h: Real = Field(ge=0)
    max_spread_bps: Real = Field(gt=0)


DEFAULT_SPREAD_TIERS = (
    SpreadVolumeTier(min_volume_24h=0, max_spread_bps=1000),
    SpreadVolumeTier(min_volume_24h=20_000, max_spread_bps=600),
    SpreadVolumeTier(min_volume_24h=100_000, max_spread_bps=400),
)


def check_strategy_names(names: Iterable[str], what: str) -> None:
    """Keys that name strategies must name one: a typo would silently apply to none."""
    known = StrategiesConfig.model_fields
    for name in names:
        if name not in known:
            raise ValueError(
                f"{what}: {name!r} is not a strategy (one of: {', '.join(sorted(known))})"
            )


def check_spread_tiers(value: tuple[SpreadVolumeTier, ...]) -> tuple[SpreadVolumeTier, ...]:
    for lower, upper in zip(value, value[1:], strict=False):
        if upper.min_volume_24h <= lower.min_volume_24h:
            raise ValueError("tiers must be listed by rising min_volume_24h")
        if upper.max_spread_bps > lower.max_spread_bps:
            raise ValueError(
                f"tier at min_volume_24h={upper.min_volume_24h} allows a wider spread "
                f"than the tier below it: higher volume must mean a tighter max_spread_bps"
            )
    return value


class MeanReversionParams(Frozen):
    window: Int = Field(40, ge=5)
    entry_z: Real = Field(1.6, gt=0)
    exit_z: Real = Field(0.2, ge=0)
    max_spread_ticks: Int = Field(6, ge=1)
    sample_interval_s: Real = Field(0.25, gt=0)  # at most one mid sample per this long
    # This strategy's own spread gate by 24h volume; None: `[strategy] spread_volume_tiers`.
    spread_volume_tiers: tuple[SpreadVolumeTier, ...] | None = None
    # Share of the gap to the exit level expected to close: the edge a signal states is
    # this share of the gap, less the spread it pays and the taker fees.
    reversion_share: Real = Field(0.5, gt=0, le=1)
    min_edge_bps: Real = Field(0.0, ge=0)  # below this net edge, no entry

    @field_validator("spread_volume_tiers")
    @classmethod
    def _tiers(
        cls, value: tuple[SpreadVolumeTier, ...] | None
    ) -> tuple[SpreadVolumeTier, ...] | None:
        return None if value is None else check_spread_tiers(value)


class MeanReversionConfig(MeanReversionParams):
    """The legacy ``[strategy.mean_reversion]`` table: the params plus its weight. Kept
    until the loader reads ``[strategies.mean_reversion]``; the params model is
    MeanReversionParams."""

    weight: Real = Field(1.0, ge=0)


class MomentumScalpingParams(Frozen):
    sample_interval_s: Real = Field(0.5, gt=0)  # mids are sampled over time, not per message
    lookback: Int = Field(10, ge=2)  # samples: the trend is the move over lookback x interval
    min_move_bps: Real = Field(150.0, gt=0)  # of the mid, over the lookback
    depth_levels: Int = Field(5, ge=1)  # top-N levels of each side for the imbalance
    min_imbalance: Real = Field(0.2, ge=0, lt=1)  # (bid depth - ask depth) / total
    max_spread_ticks: Int = Field(2, ge=1)
    take_profit_ticks: Int = Field(2, ge=1)
    stop_loss_ticks: Int = Field(2, ge=1)
    max_holding_s: Real = Field(60.0, gt=0)
    # Share of the lookback's move expected to continue while held: the stated edge is
    # that, capped at the take-profit, less the spread and the taker fees.
    continuation_share: Real = Field(0.5, gt=0, le=1)
    min_edge_bps: Real = Field(0.0, ge=0)


class EventDrivenParams(Frozen):
    # Only news outlets count; otherwise non-news readings are scaled and need more volume.
    require_true_source: Bool = False
    non_news_conf_scale: Real = Field(0.5, ge=0, le=1)
    # Flow spike (short over long printed-volume rate) a news reading needs; 0: none.
    volume_threshold: Real = Field(1.0, ge=0)
    volume_spike_multiplier_non_news: Real = Field(2.0, ge=1)
    # Confidence = reading confidence x (sentiment_weight x |score| + rest x spike share).
    sentiment_weight: Real = Field(0.7, ge=0, le=1)
    sentiment_floor: Real = Field(0.2, gt=0, lt=1)  # |decayed score| needed to act
    max_age_seconds: Real = Field(900.0, gt=0)
    decay_half_life_seconds: Real = Field(300.0, gt=0)
    allowed_risk_levels: tuple[RiskLevel, ...] = ("low", "medium")
    # Risk level of a market: low when tight and busy, high when wide or quiet.
    low_risk_max_spread_bps: Real = Field(400.0, gt=0)
    low_risk_min_volume_24h: Real = Field(50_000.0, ge=0)
    high_risk_min_spread_bps: Real = Field(1000.0, gt=0)
    high_risk_max_volume_24h: Real = Field(2_000.0, ge=0)
    # The move (bps of price) a full-score, full-confidence headline is expected to cause;
    # the stated edge is its share less spread and fees.
    expected_move_bps: Real = Field(1000.0, gt=0)
    max_holding_s: Real = Field(900.0, gt=0)

    @field_validator("allowed_risk_levels")
    @classmethod
    def _levels(cls, value: tuple[RiskLevel, ...]) -> tuple[RiskLevel, ...]:
        if not value:
            raise ValueError('empty: list at least one of "low", "medium", "high"')
        return value

    @model_validator(mode="after")
    def _risk_bands(self) -> EventDrivenParams:
        if self.high_risk_min_spread_bps < self.low_risk_max_spread_bps:
            raise ValueError(
                f"high_risk_min_spread_bps = {self.high_risk_min_spread_bps} is below "
                f"low_risk_max_spread_bps = {self.low_risk_max_spread_bps}: raise it"
            )
        return self


class MicroArbitrageParams(Frozen):
    margin_bps: Real = Field(20.0, ge=0)  # asks + fees must be below 1 by this much
    max_shares: Shares = Field(Decimal(25), gt=0)  # per basket, before risk sizing
    repeat_after_s: Real = Field(2.0, ge=0)  # the same opportunity is not re-sent sooner


class CrossMarketArbitrageParams(Frozen):
    margin_bps: Real = Field(20.0, ge=0)
    max_shares: Shares = Field(Decimal(25), gt=0)
    include_no_side: Bool = True  # also buy every NO (pays N - 1) when that is cheaper
    repeat_after_s: Real = Field(2.0, ge=0)


class MeanReversionSlot(Frozen):
    enabled: Bool = True
    weight: Real = Field(1.0, ge=0)
    params: MeanReversionParams = MeanReversionParams()


class MomentumScalpingSlot(Frozen):
    enabled: Bool = True
    weight: Real = Field(1.0, ge=0)
    params: MomentumScalpingParams = MomentumScalpingParams()


class EventDrivenSlot(Frozen):
    enabled: Bool = True
    weight: Real = Field(1.0, ge=0)
    params: EventDrivenParams = EventDrivenParams()


class MicroArbitrageSlot(Frozen):
    enabled: Bool = True
    weight: Real = Field(1.0, ge=0)
    params: MicroArbitrageParams = MicroArbitrageParams()


class CrossMarketArbitrageSlot(Frozen):
    enabled: Bool = True
    weight: Real = Field(0.0, ge=0)  # as in the seed: detected and shown, never executed
    params: CrossMarketArbitrageParams = CrossMarketArbitrageParams()


class StrategiesConfig(Frozen):
    """``[strategies.<name>]``: one slot per strategy."""

    mean_reversion: MeanReversionSlot = MeanReversionSlot()
    momentum_scalping: MomentumScalpingSlot = MomentumScalpingSlot()
    event_driven: EventDrivenSlot = EventDrivenSlot()
    micro_arbitrage: MicroArbitrageSlot = MicroArbitrageSlot()
    cross_market_arbitrage: CrossMarketArbitrageSlot = CrossMarketArbitrageSlot()


class StrategyConfig(Frozen):
    mean_reversion: MeanReversionConfig = MeanReversionConfig()
    threshold: Real = Field(0.5, gt=0, le=1)
    order_size: Shares = Field(Decimal(10), gt=0)
    max_slippage_ticks: Int = Field(1, ge=0)
    entry_cooldown_s: Real = Field(5.0, ge=0)
    # "take": entries cross the spread (FAK); "rest": entries rest post-only at the best
    # price of their side for `rest_ttl_s` (GTD), queued behind the size shown there.
    order_style: Literal["take", "rest"] = "take"
    rest_ttl_s: Real = Field(30.0, gt=0)
    # Feed policy: what entries do while the feed is not ws_live (ws_stale, rest_only,
    # ws_initialising). Halt them all, skip the listed strategies, or scale their sizes.
    halt_on_fallback: Bool = False
    skip_on_fallback: tuple[str, ...] = ()
    size_scales_on_fallback: dict[str, Real] = Field(default_factory=dict)
    # No order is priced off a book that has not changed or been confirmed for this long.
    max_book_age_s: Real = Field(5.0, gt=0)
    # Exits on such a book: "hold" waits for a fresh book, "allow" exits anyway.
    stale_book_exits: Literal["hold", "allow"] = "hold"
    # The spread gate by 24h volume (the seed's key; mean reversion applies it): the tier
    # with the highest min_volume_24h at or below a market's volume sets the widest spread
    # it may be entered at, so busy markets enforce a tighter max_spread_bps. A strategy's
    # own `params.spread_volume_tiers` overrides it.
    spread_volume_tiers: tuple[SpreadVolumeTier, ...] = DEFAULT_SPREAD_TIERS

    @field_validator("spread_volume_tiers")
    @classmethod
    def _spread_tiers(cls, value: tuple[SpreadVolumeTier, ...]) -> tuple[SpreadVolumeTier, ...]:
        return check_spread_tiers(value)

    @field_validator("size_scales_on_fallback")
    @classmethod
    def _scales(cls, value: dict[str, Real]) -> dict[str, Real]:
        for name, scale in value.items():
            if not 0 <= scale <= 1:
                raise ValueError(f"scale for {name!r} is {scale}: allowed range is 0 to 1")
        return value

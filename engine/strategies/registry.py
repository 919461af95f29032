"""Build the enabled strategies from ``[strategies.<name>]``.

A weight-0 strategy is built too: it evaluates and its signals and baskets are recorded as
detections, but it never votes and is never executed. Order is fixed (the config's), so
a run's signals are evaluated, and recorded, in the same order every time.
"""

from __future__ import annotations

from engine.config.strategy import DEFAULT_SPREAD_TIERS, SpreadVolumeTier, StrategiesConfig
from engine.strategies.base import Strategy
from engine.strategies.cross_market_arbitrage import CrossMarketArbitrage
from engine.strategies.event_driven import EventDriven
from engine.strategies.mean_reversion import MeanReversion
from engine.strategies.micro_arbitrage import MicroArbitrage
from engine.strategies.momentum_scalping import MomentumScalping

NAMES = (
    MeanReversion.name,
    MomentumScalping.name,
    EventDriven.name,
    MicroArbitrage.name,
    CrossMarketArbitrage.name,
)


def build_strategies(
    config: StrategiesConfig,
    spread_volume_tiers: tuple[SpreadVolumeTier, ...] = DEFAULT_SPREAD_TIERS,
) -> list[Strategy]:
    """`spread_volume_tiers`: `[strategy] spread_volume_tiers`, the spread gate by volume."""
    built: list[Strategy] = []
    if (mr := config.mean_reversion).enabled:
        built.append(MeanReversion(mr.params, mr.weight, spread_volume_tiers))
    if (ms := config.momentum_scalping).enabled:
        built.append(MomentumScalping(ms.params, ms.weight))
    if (ed := config.event_driven).enabled:
        built.append(EventDriven(ed.params, ed.weight))
    if (ma := config.micro_arbitrage).enabled:
        built.append(MicroArbitrage(ma.params, ma.weight))
    if (ca := config.cross_market_arbitrage).enabled:
        built.append(CrossMarketArbitrage(ca.params, ca.weight))
    return built

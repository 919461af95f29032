"""[strategies.<name>] config: defaults, the seed's names, and one-line errors."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from engine.config.strategy import (
    EventDrivenParams,
    MeanReversionConfig,
    MeanReversionParams,
    StrategiesConfig,
    StrategyConfig,
)
from engine.strategies.registry import NAMES, build_strategies

SEED_EVENT_KEYS = {
    "require_true_source",
    "non_news_conf_scale",
    "volume_threshold",
    "sentiment_weight",
    "sentiment_floor",
    "max_age_seconds",
    "decay_half_life_seconds",
    "volume_spike_multiplier_non_news",
    "allowed_risk_levels",
}


def test_every_strategy_has_a_slot_with_enabled_weight_and_params() -> None:
    config = StrategiesConfig()
    assert tuple(StrategiesConfig.model_fields) == NAMES
    for name in NAMES:
        slot = getattr(config, name)
        assert set(type(slot).model_fields) == {"enabled", "weight", "params"}
        assert slot.enabled
    # As in the seed: cross-market arbitrage is detected and shown, never executed.
    assert config.cross_market_arbitrage.weight == 0
    assert all(getattr(config, n).weight == 1 for n in NAMES if n != "cross_market_arbitrage")


def test_event_driven_uses_the_seeds_names() -> None:
    assert set(EventDrivenParams.model_fields) >= SEED_EVENT_KEYS
    params = EventDrivenParams()
    assert params.allowed_risk_levels == ("low", "medium")
    assert params.max_age_seconds > params.decay_half_life_seconds > 0


def test_mean_reversion_params_and_the_legacy_table() -> None:
    # The gate is `[strategy] spread_volume_tiers` (the seed's key); mean reversion's own
    # params leave it alone unless they name tiers of their own.
    assert MeanReversionParams().spread_volume_tiers is None
    tiers = StrategyConfig().spread_volume_tiers
    assert [t.min_volume_24h for t in tiers] == sorted(t.min_volume_24h for t in tiers)
    assert [t.max_spread_bps for t in tiers] == sorted(
        (t.max_spread_bps for t in tiers), reverse=True
    )
    assert MeanReversionConfig(window=12).weight == 1.0  # the old [strategy.mean_reversion]
    assert "weight" not in MeanReversionParams.model_fields


def test_a_toml_shaped_tree_loads() -> None:
    config = StrategiesConfig.model_validate(
        {
            "mean_reversion": {
                "weight": 0.5,
                "params": {
                    "window": 20,
                    "spread_volume_tiers": [
                        {"min_volume_24h": 0, "max_spread_bps": 800},
                        {"min_volume_24h": 1e6, "max_spread_bps": 150},
                    ],
                },
            },
            "event_driven": {"params": {"require_true_source": True}},
            "cross_market_arbitrage": {"weight": 1},
            "momentum_scalping": {"enabled": False},
        }
    )
    built = {s.name: s.weight for s in build_strategies(config)}
    assert built == {
        "mean_reversion": 0.5,
        "event_driven": 1.0,
        "micro_arbitrage": 1.0,
        "cross_market_arbitrage": 1.0,
    }
    assert config.mean_reversion.params.spread_volume_tiers[1].max_spread_bps == 150


def test_weight_zero_strategies_are_built_disabled_ones_are_not() -> None:
    names = [s.name for s in build_strategies(StrategiesConfig())]
    assert names == list(NAMES)
    off = StrategiesConfig.model_validate({n: {"enabled": False} for n in NAMES})
    assert build_strategies(off) == []


def one_line(tree: dict[str, Any]) -> str:
    """The error as the config loader shows it: the first error's path and message."""
    with pytest.raises(ValidationError) as caught:
        StrategiesConfig.model_validate(tree)
    err = caught.value.errors()[0]
    text = ".".join(str(p) for p in err["loc"]) + ": " + str(err["msg"])
    assert "\n" not in text
    return text


@pytest.mark.parametrize(
    ("tree", "names"),
    [
        (
            {"mean_reversion": {"weight": -1}},
            ["mean_reversion.weight", "greater than or equal to 0"],
        ),
        ({"event_driven": {"params": {"non_news_conf_scale": 1.5}}}, ["non_news_conf_scale", "1"]),
        (
            {"event_driven": {"params": {"sentiment_floor": 0}}},
            ["sentiment_floor", "greater than 0"],
        ),
        (
            {"event_driven": {"params": {"allowed_risk_levels": ["extreme"]}}},
            ["allowed_risk_levels", "'low'"],
        ),
        (
            {"event_driven": {"params": {"allowed_risk_levels": []}}},
            ["allowed_risk_levels", "at least one"],
        ),
        (
            {"event_driven": {"params": {"volume_spike_multiplier_non_news": 0.5}}},
            ["multiplier", "1"],
        ),
        (
            {"event_driven": {"params": {"high_risk_min_spread_bps": 100}}},
            ["high_risk_min_spread_bps", "raise it"],
        ),
        (
            {"micro_arbitrage": {"params": {"max_shares": "0"}}},
            ["micro_arbitrage.params.max_shares"],
        ),
        ({"momentum_scalping": {"params": {"lookback": 1}}}, ["lookback", "2"]),
        (
            {
                "mean_reversion": {
                    "params": {
                        "spread_volume_tiers": [
                            {"min_volume_24h": 10, "max_spread_bps": 100},
                            {"min_volume_24h": 5, "max_spread_bps": 50},
                        ]
                    }
                }
            },
            ["spread_volume_tiers", "rising min_volume_24h"],
        ),
        (
            {
                "mean_reversion": {
                    "params": {
                        "spread_volume_tiers": [
                            {"min_volume_24h": 0, "max_spread_bps": 100},
                            {"min_volume_24h": 5, "max_spread_bps": 500},
                        ]
                    }
                }
            },
            ["spread_volume_tiers", "tighter max_spread_bps"],
        ),
        (
            {"mean_reversion": {"params": {"spread_volume_tiers": [{"min_volume_24h": 0}]}}},
            ["max_spread_bps", "required"],
        ),
        (
            {"event_driven": {"params": {"sentiment_flor": 0.3}}},
            ["sentiment_flor", "not permitted"],
        ),
        ({"arbitrage": {}}, ["arbitrage", "not permitted"]),
    ],
)
def test_bad_values_are_one_line_errors_naming_the_field(
    tree: dict[str, Any], names: list[str]
) -> None:
    text = one_line(tree)
    for part in names:
        assert part in text, text

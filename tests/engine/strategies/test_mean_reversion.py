"""Mean reversion on constructed books: the entry states its edge, rests when the gap does
not pay the spread, honours the spread gate by 24h volume, and exits only its own lots."""

from __future__ import annotations

import math

import pytest

from engine.config.strategy import MeanReversionConfig, MeanReversionParams, SpreadVolumeTier
from engine.orders import Side
from engine.strategies.base import Execution, Signal
from engine.strategies.mean_reversion import MeanReversion
from tests.kit.strategies import context, fees, lot, make_market, px, quote

BASE = {"window": 5, "entry_z": 1.5, "exit_z": 0.2, "sample_interval_s": 0.25}
PARAMS = MeanReversionParams(**BASE)


def params(**changes: object) -> MeanReversionParams:
    return MeanReversionParams.model_validate(BASE | changes)


# Four samples at 0.505 then one at `mid`: z of the last is exactly -2 for any drop.
FLAT = (0.50, 0.51)


def run(
    strategy: MeanReversion,
    last: tuple[float, float],
    volume: float = 50_000,
    market_fees: str = "0",
    **kw: object,
) -> Signal | None:
    market = make_market(volume=volume, fees=fees(market_fees))
    out = None
    for i in range(4):
        out = strategy.on_tick(context(quote("Y", *FLAT), market, now=i * 0.25))
        assert out is None
    book = quote("Y", *last)
    out = strategy.on_tick(context(book, market, now=1.0, **kw))  # type: ignore[arg-type]
    assert out is None or isinstance(out, Signal)
    return out


def expected_gap(last_mid: float) -> float:
    """The gain the strategy should expect, price units: half the gap to the exit level."""
    values = [0.505] * 4 + [last_mid]
    mean = sum(values) / 5
    sd = math.sqrt(sum(v * v for v in values) / 5 - mean * mean)
    return 0.5 * ((mean - 0.2 * sd) - last_mid) * 10_000


def test_a_gap_wider_than_the_spread_takes_and_states_its_net_edge() -> None:
    signal = run(MeanReversion(PARAMS), (0.39, 0.41))
    assert signal is not None
    assert signal.side is Side.BUY
    assert not signal.is_exit
    assert signal.execution is Execution.TAKE
    net = expected_gap(0.40) - px(0.02)  # pays the 2-tick spread, no fees here
    assert signal.edge_bps == pytest.approx(net * 10_000 / px(0.41))
    assert signal.inputs["z"] == pytest.approx(-2.0)
    assert 0 < signal.strength <= 1


def test_a_gap_smaller_than_the_spread_rests_instead_of_taking() -> None:
    """The old strategy took every entry (execution None under order_style = "take"), paying
    the spread in and out on noise; a gap that does not cover the spread must rest."""
    signal = run(MeanReversion(params(max_spread_ticks=8, spread_volume_tiers=())), (0.37, 0.43))
    assert signal is not None
    assert signal.execution is Execution.REST
    assert expected_gap(0.40) < px(0.06)  # the setup: the gap is below the spread
    assert signal.edge_bps == pytest.approx(expected_gap(0.40) * 10_000 / px(0.37))
    assert signal.inputs["take_edge_bps"] < 0 < signal.inputs["rest_edge_bps"]


def test_taker_fees_that_eat_the_edge_mean_no_entry() -> None:
    # A flat fee of 0.2 per share dwarfs a gap of ~0.04.
    assert run(MeanReversion(PARAMS), (0.39, 0.41), market_fees="0.2") is None
    assert run(MeanReversion(PARAMS), (0.39, 0.41), market_fees="0") is not None


def test_fees_are_part_of_the_stated_edge() -> None:
    free = run(MeanReversion(PARAMS), (0.39, 0.41))
    paid = run(MeanReversion(PARAMS), (0.39, 0.41), market_fees="0.02")
    assert free is not None
    assert paid is not None
    assert paid.edge_bps is not None
    assert free.edge_bps is not None
    assert paid.edge_bps < free.edge_bps


def test_busy_markets_enforce_a_tighter_spread() -> None:
    # A 2-tick spread at 0.40 is 500 bps: inside the 20k tier (600), outside the 100k (400).
    assert run(MeanReversion(PARAMS), (0.39, 0.41), volume=50_000) is not None
    assert run(MeanReversion(PARAMS), (0.39, 0.41), volume=150_000) is None


def test_custom_tiers_and_markets_below_every_tier() -> None:
    tiers = (
        SpreadVolumeTier(min_volume_24h=1_000, max_spread_bps=600),
        SpreadVolumeTier(min_volume_24h=10_000, max_spread_bps=100),
    )
    strategy = MeanReversion(params(spread_volume_tiers=tiers))
    assert strategy.max_spread_bps(500) is None
    assert strategy.max_spread_bps(1_000) == 600
    assert strategy.max_spread_bps(9_999) == 600
    assert strategy.max_spread_bps(10_000) == 100
    tiered = params(spread_volume_tiers=tiers)
    assert run(MeanReversion(tiered), (0.39, 0.41), volume=500) is not None
    assert run(MeanReversion(tiered), (0.39, 0.41), volume=5_000) is not None
    assert run(MeanReversion(tiered), (0.39, 0.41), volume=20_000) is None


def test_a_book_that_needs_a_snapshot_or_is_crossed_gives_nothing() -> None:
    strategy = MeanReversion(PARAMS)
    market = make_market()
    for i in range(4):
        strategy.on_tick(context(quote("Y", *FLAT), market, now=i * 0.25))
    stale = quote("Y", 0.39, 0.41)
    stale.needs_snapshot = True
    assert strategy.on_tick(context(stale, market, now=1.0)) is None
    crossed = quote("Y", 0.42, 0.41)
    assert strategy.on_tick(context(crossed, market, now=1.25)) is None
    # Neither was sampled: the next good book still sees the drop after four flat samples.
    assert strategy.zscore("Y") is None
    assert strategy.on_tick(context(quote("Y", 0.39, 0.41), market, now=1.5)) is not None


def test_mids_are_sampled_over_time_not_per_message() -> None:
    strategy = MeanReversion(PARAMS)
    market = make_market()
    for _ in range(10):  # ten messages in the same instant are one sample
        strategy.on_tick(context(quote("Y", *FLAT), market, now=0.0))
    assert strategy.samples("Y") == 1


def test_exits_only_its_own_lots_once_reverted() -> None:
    strategy = MeanReversion(PARAMS)
    market = make_market()
    for i in range(5):
        strategy.on_tick(context(quote("Y", *FLAT), market, now=i * 0.25))
    # Flat window has no variance; one move up makes z positive (reverted, above the mean).
    mine = {"mean_reversion": (lot(0.40, 4), lot(0.41, 6))}
    theirs = {"momentum_scalping": (lot(0.40, 4),)}
    up = quote("Y", 0.52, 0.53)
    assert strategy.on_tick(context(up, market, now=2.0, lots=theirs)) is None
    signal = strategy.on_tick(context(quote("Y", 0.52, 0.53), market, now=2.25, lots=mine))
    assert signal is not None
    assert signal.is_exit
    assert signal.side is Side.SELL
    assert signal.size_hint == 10_000_000
    # A stable name, so exit analytics group every reversion together; z is an input.
    assert signal.reason == "reverted to mean"
    assert signal.inputs["z"] > 0


def test_legacy_config_keeps_its_weight() -> None:
    assert MeanReversion(MeanReversionConfig(weight=0.4)).weight == 0.4
    assert MeanReversion(PARAMS, 0.7).weight == 0.7
    assert MeanReversion(PARAMS).weight == 1.0

"""Momentum scalping on constructed books: a sampled rising mid with more size bid than
offered is bought with tight exits; its exits come with their reasons."""

from __future__ import annotations

import pytest

from engine.config.strategy import MomentumScalpingParams
from engine.market.book import OrderBook
from engine.orders import Side
from engine.strategies.base import Execution, MarketContext, Signal
from engine.strategies.momentum_scalping import MomentumScalping
from tests.kit.strategies import WALL0, context, fees, lot, make_book, make_market, px

PARAMS = MomentumScalpingParams(lookback=3, sample_interval_s=0.5, min_move_bps=150)
RISING = (0.40, 0.41, 0.42, 0.43)  # bids; asks one tick above


def leaning(bid: float, bid_size: float = 300, ask_size: float = 100) -> OrderBook:
    """Best bid `bid`, ask a tick above, with the given depth on each side (two levels)."""
    return make_book(
        "Y",
        [(bid, bid_size / 2), (bid - 0.01, bid_size / 2)],
        [(bid + 0.01, ask_size / 2), (bid + 0.02, ask_size / 2)],
    )


def feed(
    strategy: MomentumScalping,
    bids: tuple[float, ...] = RISING,
    market_fees: str = "0",
    step: float = 0.5,
    **kw: float,
) -> Signal | None:
    market = make_market(fees=fees(market_fees))
    out = None
    for i, bid in enumerate(bids):
        out = strategy.on_tick(context(leaning(bid, **kw), market, now=i * step))
    return out


def test_a_rising_mid_with_bids_heavier_is_bought_with_tight_exits() -> None:
    signal = feed(MomentumScalping(PARAMS))
    assert signal is not None
    assert signal.side is Side.BUY
    assert not signal.is_exit
    move = (0.435 - 0.405) / 0.405 * 10_000
    assert signal.inputs["move_bps"] == pytest.approx(move)
    assert signal.inputs["imbalance"] == pytest.approx(0.5)
    assert signal.exits is not None
    assert (signal.exits.take_profit, signal.exits.stop_loss) == (px(0.02), px(0.02))
    assert signal.exits.max_holding_s == 60.0
    # Half the move continues (capped at the 2-tick take-profit), less the 1-tick spread.
    expected = min(0.5 * move / 10_000 * 0.435 * 10_000, px(0.02))
    assert signal.execution is Execution.TAKE
    assert signal.edge_bps == pytest.approx((expected - px(0.01)) * 10_000 / px(0.44))
    assert 0 < signal.strength <= 1


def test_no_entry_when_the_book_leans_against_the_trend() -> None:
    assert feed(MomentumScalping(PARAMS), bid_size=100, ask_size=300) is None


def test_no_entry_on_a_flat_or_falling_mid() -> None:
    assert feed(MomentumScalping(PARAMS), bids=(0.40, 0.40, 0.40, 0.40)) is None
    assert feed(MomentumScalping(PARAMS), bids=(0.43, 0.42, 0.41, 0.40)) is None


def test_the_trend_is_sampled_over_time_not_per_message() -> None:
    # The same four books arriving within one sampling interval are one sample: no trend.
    assert feed(MomentumScalping(PARAMS), step=0.1) is None
    assert feed(MomentumScalping(PARAMS), step=0.5) is not None


def test_fees_that_eat_the_edge_mean_no_entry() -> None:
    assert (
        feed(
            MomentumScalping(PARAMS),
            market_fees="0.1",
        )
        is None
    )


def test_a_book_that_needs_a_snapshot_gives_nothing() -> None:
    strategy = MomentumScalping(PARAMS)
    market = make_market()
    for i, bid in enumerate(RISING[:3]):
        strategy.on_tick(context(leaning(bid), market, now=i * 0.5))
    stale = leaning(0.43)
    stale.needs_snapshot = True
    assert strategy.on_tick(context(stale, market, now=1.5)) is None
    assert strategy.on_tick(context(leaning(0.43), market, now=2.0)) is not None


def held(strategy: MomentumScalping, ctx: MarketContext) -> Signal | None:
    out = strategy.on_tick(ctx)
    assert out is None or isinstance(out, Signal)
    return out


@pytest.mark.parametrize(
    ("entry", "opened_ago", "reason"),
    [
        (0.40, 5.0, "momentum take-profit"),  # bid 0.43 is 3 ticks above
        (0.46, 5.0, "momentum stop-loss"),  # 3 ticks below
        (0.43, 61.0, "momentum max holding"),
    ],
)
def test_exits_name_their_reason(entry: float, opened_ago: float, reason: str) -> None:
    strategy = MomentumScalping(PARAMS)
    market = make_market()
    lots = {"momentum_scalping": (lot(entry, 7, WALL0 - opened_ago),)}
    ctx = context(leaning(0.43), market, now=0.0, lots=lots)
    signal = held(strategy, ctx)
    assert signal is not None
    assert signal.is_exit
    assert signal.side is Side.SELL
    # A stable name for exit analytics; the numbers behind it are in the inputs.
    assert signal.reason == reason
    assert {"gain_ticks", "held_s", "imbalance"} <= set(signal.inputs)
    assert signal.size_hint == 7_000_000


def test_a_reversal_closes_the_position_and_a_held_trend_does_not() -> None:
    market = make_market()
    lots = {"momentum_scalping": (lot(0.43, 5),)}
    strategy = MomentumScalping(PARAMS)
    falling = (0.445, 0.44, 0.435, 0.43)
    out = None
    for i, bid in enumerate(falling):
        out = held(strategy, context(leaning(bid), market, now=i * 0.5, lots=lots))
    assert out is not None
    assert out.reason == "momentum reversed"
    steady = MomentumScalping(PARAMS)
    for i in range(4):
        out = held(steady, context(leaning(0.43), market, now=i * 0.5, lots=lots))
    assert out is None  # no level hit, trend flat, bids heavier: hold
    # Asks piling up against the position close it.
    out = held(steady, context(leaning(0.43, 100, 300), market, now=2.0, lots=lots))
    assert out is not None
    assert out.reason == "momentum book turned"

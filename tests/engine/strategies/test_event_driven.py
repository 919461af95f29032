"""Event-driven on constructed books and readings: news with a volume spike buys the
token it favours; stale, weak, non-news-without-spike, risky or fee-eaten readings give
nothing; held positions exit when the reading reverses or decays."""

from __future__ import annotations

import math

import pytest

from engine.config.strategy import EventDrivenParams
from engine.market.flow import TradeFlow
from engine.market.sentiment import SentimentReading
from engine.orders import Side
from engine.strategies.base import Execution, Signal
from engine.strategies.event_driven import DECAYED, REVERSED, EventDriven, risk_level
from tests.kit.strategies import (
    context,
    fees,
    flow_with_spike,
    lot,
    make_market,
    px,
    quote,
    reading,
)

PARAMS = EventDrivenParams()


def evaluate(
    strategy: EventDriven,
    sentiment: SentimentReading | None,
    token: str = "Y",
    flow: TradeFlow | None = None,
    volume: float = 100_000,
    bid: float = 0.49,
    ask: float = 0.50,
    market_fees: str = "0",
    lots: tuple[object, ...] = (),
) -> Signal | None:
    market = make_market(volume=volume, fees=fees(market_fees))
    ctx = context(
        quote(token, bid, ask),
        market,
        sentiment=sentiment,
        flow=flow_with_spike(20.0) if flow is None else flow,
        lots={"event_driven": lots} if lots else None,  # type: ignore[dict-item]
    )
    out = strategy.on_tick(ctx)
    assert out is None or isinstance(out, Signal)
    return out


def test_good_news_with_a_volume_spike_buys_yes_with_a_stated_edge() -> None:
    signal = evaluate(EventDriven(PARAMS), reading(0.8, age=10.0))
    assert signal is not None
    assert signal.side is Side.BUY
    assert signal.asset_id == "Y"
    decayed = 0.8 * math.exp(-math.log(2) * 10 / 300)
    assert signal.inputs["sentiment"] == pytest.approx(decayed)
    assert signal.strength == pytest.approx(0.9 * (0.7 * decayed + 0.3 * 1.0))
    cost = px(0.01) * 10_000 / px(0.50)
    assert signal.edge_bps == pytest.approx(1000 * decayed * 0.9 - cost)
    assert signal.execution is Execution.TAKE
    assert signal.sentiment_source == "reuters"


def test_bad_news_buys_no_and_never_yes() -> None:
    assert evaluate(EventDriven(PARAMS), reading(-0.8), token="Y") is None
    signal = evaluate(EventDriven(PARAMS), reading(-0.8), token="N")
    assert signal is not None
    assert signal.asset_id == "N"
    assert signal.side is Side.BUY
    assert evaluate(EventDriven(PARAMS), reading(0.8), token="N") is None


def test_stale_or_weak_or_missing_sentiment_gives_nothing() -> None:
    assert evaluate(EventDriven(PARAMS), reading(0.8, age=901.0)) is None  # past max age
    # Within max age but decayed under the floor: 0.8 after three half-lives is 0.1.
    assert evaluate(EventDriven(PARAMS), reading(0.8, age=900.0)) is None
    assert evaluate(EventDriven(PARAMS), reading(0.15)) is None
    assert evaluate(EventDriven(PARAMS), None) is None


def test_no_spike_no_trade_and_non_news_needs_a_bigger_one() -> None:
    assert evaluate(EventDriven(PARAMS), reading(0.8), flow=TradeFlow()) is None
    assert evaluate(EventDriven(PARAMS), reading(0.8), flow=flow_with_spike(0.5)) is None
    assert evaluate(EventDriven(PARAMS), reading(0.8), flow=flow_with_spike(1.5)) is not None
    chatter = reading(0.8, is_news=False, source="twitter")
    assert evaluate(EventDriven(PARAMS), chatter, flow=flow_with_spike(1.5)) is None
    signal = evaluate(EventDriven(PARAMS), chatter, flow=flow_with_spike(3.0))
    assert signal is not None
    news = evaluate(EventDriven(PARAMS), reading(0.8), flow=flow_with_spike(3.0))
    assert news is not None
    assert signal.inputs["confidence"] == pytest.approx(0.45)  # 0.9 x non_news_conf_scale
    assert signal.strength < news.strength
    strict = EventDriven(EventDrivenParams(require_true_source=True))
    assert evaluate(strict, chatter, flow=flow_with_spike(20.0)) is None
    assert evaluate(strict, reading(0.8)) is not None


def test_volume_threshold_zero_needs_no_flow() -> None:
    strategy = EventDriven(EventDrivenParams(volume_threshold=0))
    assert evaluate(strategy, reading(0.8), flow=TradeFlow()) is not None


def test_risk_levels_from_spread_and_volume() -> None:
    assert risk_level(200, 100_000, PARAMS) == "low"
    assert risk_level(600, 100_000, PARAMS) == "medium"
    assert risk_level(200, 10_000, PARAMS) == "medium"
    assert risk_level(1000, 100_000, PARAMS) == "high"
    assert risk_level(200, 2_000, PARAMS) == "high"
    # A quiet market is high risk: not allowed by default, allowed when listed.
    assert evaluate(EventDriven(PARAMS), reading(0.8), volume=1_000) is None
    anything = EventDriven(EventDrivenParams(allowed_risk_levels=("low", "medium", "high")))
    assert evaluate(anything, reading(0.8), volume=1_000) is not None
    only_low = EventDriven(EventDrivenParams(allowed_risk_levels=("low",)))
    assert evaluate(only_low, reading(0.8), volume=10_000) is None


def test_spread_and_fees_that_eat_the_expected_move_mean_no_trade() -> None:
    assert evaluate(EventDriven(PARAMS), reading(0.8), market_fees="0.5") is None
    assert evaluate(EventDriven(PARAMS), reading(0.8), market_fees="0.05") is not None


def test_unusable_books_give_nothing() -> None:
    strategy = EventDriven(PARAMS)
    assert evaluate(strategy, reading(0.8), bid=0.51, ask=0.50) is None  # crossed
    book = quote("Y", 0.49, 0.50)
    book.needs_snapshot = True
    ctx = context(
        book, make_market(volume=100_000), sentiment=reading(0.8), flow=flow_with_spike(5)
    )
    assert strategy.on_tick(ctx) is None


def test_one_entry_per_headline() -> None:
    strategy = EventDriven(PARAMS)
    first = reading(0.8, age=10.0)
    assert evaluate(strategy, first) is not None
    assert evaluate(strategy, first) is None
    assert evaluate(strategy, reading(0.7, age=5.0)) is not None  # a new headline


def test_held_positions_exit_when_sentiment_reverses_or_decays() -> None:
    held = (lot(0.50, 6),)
    strategy = EventDriven(PARAMS)
    assert evaluate(strategy, reading(0.8), lots=held) is None  # still good news: hold
    reversed_ = evaluate(strategy, reading(-0.6), lots=held)
    assert reversed_ is not None
    assert reversed_.is_exit
    assert reversed_.side is Side.SELL
    assert reversed_.reason == REVERSED
    assert reversed_.size_hint == 6_000_000
    decayed = evaluate(strategy, reading(0.8, age=700.0), lots=held)
    assert decayed is not None
    assert decayed.reason == DECAYED
    gone = evaluate(strategy, None, lots=held)
    assert gone is not None
    assert gone.reason == DECAYED
    # Held NO: good news for YES is bad news for the position.
    no_side = evaluate(strategy, reading(0.8), token="N", lots=held)
    assert no_side is not None
    assert no_side.reason == REVERSED

"""Properties over random books, walks and readings, for all five strategies:
- every signal is bounded (0 < strength <= 1, sizes positive, finite edge), every basket
  consistent (legs at the current asks, equal positive sizes, cost = asks + fees, the
  kind's payout, a positive edge that matches cost and payout);
- a book that needs a snapshot gives no signal and no basket, whatever came before."""

from __future__ import annotations

import math
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config.strategy import (
    CrossMarketArbitrageParams,
    EventDrivenParams,
    MeanReversionParams,
    MicroArbitrageParams,
    MomentumScalpingParams,
)
from engine.fixed import PRICE_SCALE
from engine.market.book import OrderBook
from engine.market.event_groups import EventGroup
from engine.market.fees import FeeSchedule
from engine.market.markets import MarketInfo
from engine.market.sentiment import SentimentReading
from engine.strategies.base import Basket, MarketContext, OwnLot, Signal, Strategy
from engine.strategies.cross_market_arbitrage import CrossMarketArbitrage
from engine.strategies.edge import fee_per_share
from engine.strategies.event_driven import EventDriven
from engine.strategies.mean_reversion import MeanReversion
from engine.strategies.micro_arbitrage import MicroArbitrage
from engine.strategies.momentum_scalping import MomentumScalping
from tests.kit.hypothesis import examples
from tests.kit.strategies import WALL0, context, fees, flow_with_spike, make_market

OUTCOMES = 3


def strategies() -> list[Strategy]:
    """All five, tuned to act often on small random walks."""
    return [
        MeanReversion(
            MeanReversionParams(
                window=5, entry_z=0.5, sample_interval_s=0.1, spread_volume_tiers=()
            )
        ),
        MomentumScalping(
            MomentumScalpingParams(
                lookback=2, sample_interval_s=0.1, min_move_bps=1, min_imbalance=0.0
            )
        ),
        EventDriven(
            EventDrivenParams(
                volume_threshold=0,
                allowed_risk_levels=("low", "medium", "high"),
                expected_move_bps=5_000,
            )
        ),
        MicroArbitrage(MicroArbitrageParams(margin_bps=0, repeat_after_s=0)),
        CrossMarketArbitrage(CrossMarketArbitrageParams(margin_bps=0, repeat_after_s=0)),
    ]


@dataclass
class World:
    markets: list[MarketInfo]
    books: dict[str, OrderBook]
    event: EventGroup


levels = st.lists(st.tuples(st.integers(1, 99), st.integers(1, 5_000)), min_size=0, max_size=4)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    rate = draw(st.sampled_from(["0", "0.02", "0.1"]))
    schedule: FeeSchedule = fees(rate)
    volume = draw(st.sampled_from([500.0, 20_000.0, 500_000.0]))
    markets = [
        make_market(
            f"0xm{i}",
            f"Y{i}",
            f"N{i}",
            schedule,
            volume,
            "ev",
            neg_risk=True,
            event_markets=OUTCOMES,
        )
        for i in range(OUTCOMES)
    ]
    books: dict[str, OrderBook] = {}
    for m in markets:
        for token in m.token_ids:
            book = OrderBook(token, m.condition_id)
            book.set_tick(100)
            bids = draw(levels)
            asks = draw(levels)
            book.replace(
                [(p * 100, s * 10**6) for p, s in bids], [(p * 100, s * 10**6) for p, s in asks]
            )
            books[token] = book
    return World(markets, books, EventGroup("ev", True, tuple(markets)))


steps = st.lists(
    st.tuples(
        # Which book moves: mostly the first, so its strategies see a long walk.
        st.sampled_from([0, 0, 0, 0, *range(2 * OUTCOMES)]),
        st.integers(1, 98),  # its new best bid (cents)
        st.integers(1, 5),  # spread (ticks)
        st.integers(1, 400),  # size at the touch
    ),
    min_size=1,
    max_size=60,
)
readings = st.one_of(
    st.none(),
    st.builds(
        lambda score, conf, news, age: SentimentReading(
            "0xm0", score, conf, "x", news, WALL0 - age
        ),
        st.floats(-1, 1),
        st.floats(0.3, 1),
        st.booleans(),
        st.floats(0, 1_200),
    ),
)
lot_sizes = st.one_of(st.none(), st.integers(1, 50))


def tokens(world: World) -> list[str]:
    return [t for m in world.markets for t in m.token_ids]


def evaluate(
    world: World,
    strategy: Strategy,
    token: str,
    now: float,
    sentiment: SentimentReading | None,
    held: int | None,
) -> Signal | Basket | None:
    market = next(m for m in world.markets if token in m.token_ids)
    other = market.complement_of(token)
    lots: dict[str, tuple[OwnLot, ...]] = {}
    if held is not None:
        lots[strategy.name] = (OwnLot(5_000, held * 10**6, WALL0 - 30),)
    ctx = context(
        world.books[token],
        market,
        now,
        complement=world.books[other] if other else None,
        event=world.event,
        sentiment=sentiment,
        flow=flow_with_spike(3.0, now),
        lots=lots,
        books=world.books,
    )
    assert isinstance(ctx, MarketContext)
    return strategy.on_tick(ctx)


def check(out: Signal | Basket | None, world: World) -> None:
    if isinstance(out, Signal):
        assert 0 < out.strength <= 1
        assert out.size_hint is None or out.size_hint > 0
        assert out.edge_bps is None or math.isfinite(out.edge_bps)
        assert all(math.isfinite(v) for v in out.inputs.values())
        assert out.reason
        if not out.is_exit:
            assert out.edge_bps is not None
            assert out.edge_bps > 0
    elif isinstance(out, Basket):
        assert out.legs
        assert len({leg.size for leg in out.legs}) == 1
        assert out.legs[0].size > 0
        assert len({leg.asset_id for leg in out.legs}) == len(out.legs)
        cost = 0
        for leg in out.legs:
            book = world.books[leg.asset_id]
            assert leg.price == book.best_ask
            assert leg.size <= book.best_ask_size()
            market = next(m for m in world.markets if leg.asset_id in m.token_ids)
            assert leg.market == market.condition_id
            cost += leg.price + fee_per_share(market.fees, leg.price)
        assert out.cost == cost
        if out.kind == "yes_no":
            assert len(out.legs) == 2
            assert out.payout == PRICE_SCALE
        else:
            assert out.kind == "neg_risk"
            assert len(out.legs) == OUTCOMES
            assert out.payout in (PRICE_SCALE, (OUTCOMES - 1) * PRICE_SCALE)
        assert out.cost < out.payout
        assert out.edge_bps > 0
        assert math.isclose(out.edge_bps, (out.payout - out.cost) * 10_000 / out.cost)
    else:
        assert out is None


def move(world: World, step: tuple[int, int, int, int]) -> str:
    index, bid, spread, size = step
    token = tokens(world)[index]
    ask = min(99, bid + spread)
    world.books[token].replace([(bid * 100, size * 10**6)], [(ask * 100, size * 10**6)])
    return token


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(), steps, readings, lot_sizes)
def test_signals_and_baskets_are_bounded_and_consistent(
    world: World,
    walk: list[tuple[int, int, int, int]],
    sentiment: SentimentReading | None,
    held: int | None,
) -> None:
    active = strategies()
    for i, step in enumerate(walk):
        token = move(world, step)
        for strategy in active:
            # Every other step without lots, so entries and exits are both exercised.
            lots = held if i % 2 else None
            check(evaluate(world, strategy, token, i * 0.1, sentiment, lots), world)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(), steps, readings, lot_sizes, st.integers(0, 2 * OUTCOMES - 1))
def test_no_signal_from_a_book_that_needs_a_snapshot(
    world: World,
    walk: list[tuple[int, int, int, int]],
    sentiment: SentimentReading | None,
    held: int | None,
    stale_index: int,
) -> None:
    active = strategies()
    for i, step in enumerate(walk):
        token = move(world, step)
        for strategy in active:
            evaluate(world, strategy, token, i * 0.1, sentiment, held)
    stale = tokens(world)[stale_index]
    world.books[stale].needs_snapshot = True
    now = len(walk) * 0.1 + 10.0
    for strategy in active:
        # The stale token itself, and (for baskets) any token whose basket would need it.
        assert evaluate(world, strategy, stale, now, sentiment, held) is None
        for token in tokens(world):
            out = evaluate(world, strategy, token, now + 1.0, sentiment, held)
            if isinstance(out, Basket):
                assert stale not in {leg.asset_id for leg in out.legs}
            if token == stale:
                assert out is None

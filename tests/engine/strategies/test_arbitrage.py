"""Micro-arbitrage (YES + NO of one market) and cross-market arbitrage (every outcome of a
neg-risk event) on constructed books: baskets priced off the touches, sized by the
thinnest touch, refused when fees eat the gap or a book is not trusted."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.config.strategy import CrossMarketArbitrageParams, MicroArbitrageParams
from engine.market.book import OrderBook
from engine.market.event_groups import EventGroup
from engine.market.fees import FREE, FeeSchedule
from engine.market.markets import MarketInfo
from engine.orders import Side
from engine.strategies.base import Basket, OwnLot, Signal
from engine.strategies.cross_market_arbitrage import CrossMarketArbitrage
from engine.strategies.edge import fee_per_share
from engine.strategies.micro_arbitrage import EXIT_REASON, MicroArbitrage
from tests.kit.strategies import context, fees, lot, make_market, px, quote, sh

MICRO = MicroArbitrageParams()


def pair(
    yes: tuple[float, float, float],
    no: tuple[float, float, float],
    schedule: FeeSchedule = FREE,
) -> tuple[MarketInfo, OrderBook, OrderBook]:
    """(market, YES book, NO book) from (bid, ask, size) per token."""
    market = make_market(fees=schedule)
    return market, quote("Y", *yes), quote("N", *no)


def micro(
    strategy: MicroArbitrage,
    market: MarketInfo,
    yes: OrderBook,
    no: OrderBook,
    now: float = 0.0,
    from_no: bool = False,
    lots: tuple[OwnLot, ...] = (),
    no_lots: tuple[OwnLot, ...] | None = None,
) -> Signal | Basket | None:
    """The strategy on the YES tick (or the NO one); `lots` held on YES, `no_lots` on NO
    (the same as `lots` unless given: a pair)."""
    held = {"Y": lots, "N": lots if no_lots is None else no_lots}
    own = {asset: {"micro_arbitrage": ls} for asset, ls in held.items() if ls}
    if from_no:
        ctx = context(no, market, now, complement=yes, lots=own.get("N"), lots_of=own)
    else:
        ctx = context(yes, market, now, complement=no, lots=own.get("Y"), lots_of=own)
    return strategy.on_tick(ctx)


def test_yes_and_no_below_one_make_a_basket_sized_by_the_thinner_touch() -> None:
    market, yes, no = pair((0.44, 0.45, 30), (0.49, 0.50, 20))
    basket = micro(MicroArbitrage(MICRO), market, yes, no)
    assert isinstance(basket, Basket)
    assert basket.kind == "yes_no"
    assert basket.event_id == "0xm"
    assert [(leg.asset_id, leg.side, leg.price, leg.size) for leg in basket.legs] == [
        ("Y", Side.BUY, px(0.45), sh(20)),
        ("N", Side.BUY, px(0.50), sh(20)),
    ]
    assert (basket.cost, basket.payout) == (px(0.95), px(1))
    assert basket.edge_bps == pytest.approx(500 * 10_000 / 9_500)


def test_the_depth_cap_and_either_token_find_the_same_basket() -> None:
    market, yes, no = pair((0.44, 0.45, 300), (0.49, 0.50, 200))
    from_yes = micro(MicroArbitrage(MICRO), market, yes, no)
    from_no = micro(MicroArbitrage(MICRO), market, yes, no, from_no=True)
    assert isinstance(from_yes, Basket)
    assert from_yes == from_no
    assert {leg.size for leg in from_yes.legs} == {sh(25)}  # max_shares


def test_the_same_opportunity_is_not_resent_within_the_repeat_interval() -> None:
    strategy = MicroArbitrage(MICRO)
    market, yes, no = pair((0.44, 0.45, 30), (0.49, 0.50, 20))
    assert isinstance(micro(strategy, market, yes, no, now=0.0), Basket)
    assert micro(strategy, market, yes, no, now=1.0, from_no=True) is None
    assert isinstance(micro(strategy, market, yes, no, now=2.5), Basket)
    moved = quote("Y", 0.43, 0.44, 30)  # a new price is a new opportunity
    assert isinstance(micro(strategy, market, moved, no, now=2.6), Basket)


def test_fees_and_margin_that_eat_the_gap_mean_no_basket() -> None:
    schedule = fees("0.1")  # 0.1 x p(1-p): ~0.025 a share per leg here
    market, yes, no = pair((0.44, 0.45, 30), (0.49, 0.50, 20), schedule)
    assert fee_per_share(schedule, px(0.45)) + fee_per_share(schedule, px(0.50)) == 498
    assert micro(MicroArbitrage(MICRO), market, yes, no) is None  # 0.9998 is within margin
    market, yes, no = pair((0.44, 0.45, 30), (0.48, 0.49, 20), schedule)
    basket = micro(MicroArbitrage(MICRO), market, yes, no)
    assert isinstance(basket, Basket)
    assert basket.cost == px(0.94) + 248 + 250  # fees are part of the cost


def test_no_basket_at_or_above_one_or_from_untrusted_books() -> None:
    market, yes, no = pair((0.49, 0.50, 30), (0.49, 0.50, 30))
    assert micro(MicroArbitrage(MICRO), market, yes, no) is None
    market, yes, no = pair((0.44, 0.45, 30), (0.49, 0.50, 20))
    no.needs_snapshot = True
    assert micro(MicroArbitrage(MICRO), market, yes, no) is None
    assert MicroArbitrage(MICRO).on_tick(context(yes, market)) is None  # no complement
    crossed = quote("N", 0.51, 0.50, 20)
    assert micro(MicroArbitrage(MICRO), market, yes, crossed) is None


def test_touches_thinner_than_a_minimum_order_mean_no_basket() -> None:
    market, yes, no = pair((0.44, 0.45, 30), (0.49, 0.50, 4))  # minimum order is 5
    assert micro(MicroArbitrage(MICRO), market, yes, no) is None


def test_exit_when_the_external_edge_is_at_or_below_taker_cost() -> None:
    strategy = MicroArbitrage(MICRO)
    market, yes, no = pair((0.44, 0.45, 30), (0.49, 0.50, 20))
    assert isinstance(micro(strategy, market, yes, no), Basket)  # priced at 0.95
    bought = (lot(0.45, 20),), (lot(0.50, 20),)  # the pair it holds: 0.45 + 0.50
    # Still mispriced: hold.
    assert micro(strategy, market, yes, no, 5.0, False, *bought) is None
    # Closed, and the bids (0.50 + 0.49) return more than the 0.95 paid: sell both legs at
    # once, all or none (a selling basket), never one leg on its own tick.
    market, yes, no = pair((0.50, 0.51, 30), (0.49, 0.50, 30))
    for from_no in (False, True):
        out = micro(strategy, market, yes, no, 6.0, from_no, *bought)
        assert isinstance(out, Basket)
        assert out.reason == EXIT_REASON == "micro_arbitrage_external_edge_cost"
        assert [(leg.asset_id, leg.side, leg.price, leg.size) for leg in out.legs] == [
            ("Y", Side.SELL, px(0.50), sh(20)),
            ("N", Side.SELL, px(0.49), sh(20)),
        ]
        assert (out.cost, out.payout) == (px(0.95), px(0.99))  # paid, and what selling returns
    # Closed but the bids would not return the cost: hold to resolution (pays 1).
    market, yes, no = pair((0.45, 0.51, 30), (0.45, 0.50, 30))
    assert micro(strategy, market, yes, no, 7.0, False, *bought) is None
    # What was paid is read from the lots held, whoever priced what before (a restart):
    # a fresh strategy sells the same pair at the same bids.
    market, yes, no = pair((0.50, 0.51, 30), (0.49, 0.50, 30))
    assert isinstance(micro(MicroArbitrage(MICRO), market, yes, no, 0.0, False, *bought), Basket)
    # A lone leg is not a pair: nothing to exit as one (protection balances the legs).
    assert micro(strategy, market, yes, no, 8.0, False, bought[0], ()) is None


def test_the_exit_never_sells_a_pair_below_what_was_paid_for_it() -> None:
    """Reproduced: the exit compared the bids with the last basket the strategy priced,
    not the pair it held. A basket priced at 0.90 and never traded (dropped while the
    event was busy, or refused by risk) made a pair bought at 0.95 look profitable at
    bids of 0.92, locking in a loss on a pair that pays 1 at resolution."""
    strategy = MicroArbitrage(MICRO)
    market = make_market()
    held = micro(strategy, market, quote("Y", 0.44, 0.45), quote("N", 0.49, 0.50))
    assert isinstance(held, Basket)  # traded: 0.45 + 0.50
    dropped = micro(strategy, market, quote("Y", 0.39, 0.40), quote("N", 0.49, 0.50), 0.1)
    assert isinstance(dropped, Basket)  # priced at 0.90, never traded
    yes, no = quote("Y", 0.46, 0.47), quote("N", 0.46, 0.54)  # bids 0.92, the gap closed
    out = micro(strategy, market, yes, no, 5.0, False, (lot(0.45, 25),), (lot(0.50, 25),))
    assert out is None, f"sells the pair at 0.92 after paying 0.95: {out}"


# -- cross-market (neg-risk) ------------------------------------------------------------

CROSS = CrossMarketArbitrageParams()


def event(
    yes_asks: list[float],
    no_asks: list[float],
    size: float = 40,
    neg_risk: bool = True,
    schedule: FeeSchedule = FREE,
) -> tuple[EventGroup, dict[str, OrderBook]]:
    markets = tuple(
        make_market(
            f"0xm{i}",
            f"Y{i}",
            f"N{i}",
            schedule,
            event_id="ev",
            neg_risk=neg_risk,
            event_markets=len(yes_asks),
        )
        for i in range(len(yes_asks))
    )
    books: dict[str, OrderBook] = {}
    for i, (ya, na) in enumerate(zip(yes_asks, no_asks, strict=True)):
        books[f"Y{i}"] = quote(f"Y{i}", ya - 0.01, ya, size, f"0xm{i}")
        books[f"N{i}"] = quote(f"N{i}", na - 0.01, na, size, f"0xm{i}")
    return EventGroup("ev", neg_risk, markets), books


def cross(
    strategy: CrossMarketArbitrage,
    group: EventGroup,
    books: dict[str, OrderBook],
    token: str = "Y0",
    now: float = 0.0,
) -> Basket | None:
    market = next(m for m in group.markets if token in m.token_ids)
    return strategy.on_tick(context(books[token], market, now, event=group, books=books))


def test_yes_asks_summing_below_one_make_a_neg_risk_basket_of_every_outcome() -> None:
    group, books = event([0.30, 0.30, 0.35], [0.71, 0.71, 0.66], size=40)
    books["Y2"] = quote("Y2", 0.34, 0.35, 12, "0xm2")
    basket = cross(CrossMarketArbitrage(CROSS), group, books, token="Y1")
    assert basket is not None
    assert basket.kind == "neg_risk"
    assert basket.event_id == "ev"
    assert [(leg.asset_id, leg.market, leg.price) for leg in basket.legs] == [
        ("Y0", "0xm0", px(0.30)),
        ("Y1", "0xm1", px(0.30)),
        ("Y2", "0xm2", px(0.35)),
    ]
    assert {leg.size for leg in basket.legs} == {sh(12)}  # the thinnest touch
    assert (basket.cost, basket.payout) == (px(0.95), px(1))
    assert basket.edge_bps == pytest.approx(500 * 10_000 / 9_500)


def test_the_no_side_pays_n_minus_one() -> None:
    group, books = event([0.35, 0.35, 0.40], [0.60, 0.60, 0.70])
    basket = cross(CrossMarketArbitrage(CROSS), group, books, token="N2")
    assert basket is not None
    assert [leg.asset_id for leg in basket.legs] == ["N0", "N1", "N2"]
    assert (basket.cost, basket.payout) == (px(1.90), px(2))
    # A YES book's tick prices the YES basket only (here, none): each side on its own ticks.
    assert cross(CrossMarketArbitrage(CROSS), group, books, token="Y2") is None
    no_side_off = CrossMarketArbitrageParams(include_no_side=False)
    assert cross(CrossMarketArbitrage(no_side_off), group, books, token="N2") is None


def test_detected_at_weight_zero_by_default() -> None:
    strategy = CrossMarketArbitrage(CROSS)
    assert strategy.weight == 0.0
    group, books = event([0.30, 0.30, 0.35], [0.71, 0.71, 0.66])
    assert cross(strategy, group, books) is not None
    assert cross(strategy, group, books, token="Y1", now=1.0) is None  # already sent
    assert cross(strategy, group, books, token="Y1", now=2.5) is not None


def test_fees_that_eat_the_basket_gap_mean_no_basket() -> None:
    group, books = event([0.30, 0.30, 0.38], [0.71, 0.71, 0.63], schedule=fees("0.1"))
    assert cross(CrossMarketArbitrage(CROSS), group, books) is None  # 0.98 + ~0.062 fees
    group, books = event([0.30, 0.30, 0.38], [0.71, 0.71, 0.63])
    assert cross(CrossMarketArbitrage(CROSS), group, books) is not None


def test_a_missing_or_untrusted_outcome_book_means_no_basket() -> None:
    group, books = event([0.30, 0.30, 0.35], [0.71, 0.71, 0.66])
    books["Y2"].needs_snapshot = True
    assert cross(CrossMarketArbitrage(CROSS), group, books) is None
    group, books = event([0.30, 0.30, 0.35], [0.71, 0.71, 0.66])
    del books["Y1"]
    assert cross(CrossMarketArbitrage(CROSS), group, books) is None


def test_events_that_are_not_neg_risk_are_not_baskets() -> None:
    group, books = event([0.30, 0.30, 0.35], [0.71, 0.71, 0.66], neg_risk=False)
    assert cross(CrossMarketArbitrage(CROSS), group, books) is None
    single, books = event([0.30], [0.60])
    assert cross(CrossMarketArbitrage(CROSS), single, books) is None


def test_nothing_is_decided_on_the_tick_of_an_untrusted_book() -> None:
    # The NO basket does not need Y0, but Y0's own tick is not trusted: no basket from it.
    group, books = event([0.35, 0.35, 0.40], [0.60, 0.60, 0.70])
    books["Y0"].needs_snapshot = True
    assert cross(CrossMarketArbitrage(CROSS), group, books, token="Y0") is None
    basket = cross(CrossMarketArbitrage(CROSS), group, books, token="N0")
    assert basket is not None
    assert [leg.asset_id for leg in basket.legs] == ["N0", "N1", "N2"]


def test_a_partial_or_augmented_event_is_never_a_basket() -> None:
    """An event whose markets are not all loaded (or that can gain outcomes later) pays
    nothing when a missing outcome wins: no basket, however cheap its YES asks."""
    whole, books = event([0.30, 0.30, 0.30], [0.71, 0.71, 0.71])
    group = whole
    assert whole.is_basket
    first = whole.markets[0]
    ctx = context(books[first.token_ids[0]], first, event=whole, books=books)
    assert isinstance(CrossMarketArbitrage(CROSS, weight=1.0).on_tick(ctx), Basket)
    for markets in (
        tuple(replace(m, event_markets=4) for m in group.markets),  # one of 4 missing
        tuple(replace(m, event_markets=3, event_augmented=True) for m in group.markets),
        tuple(replace(m, event_markets=0) for m in group.markets),  # never described
    ):
        partial = EventGroup(group.event_id, True, markets)
        assert not partial.is_basket
        ctx = context(books[first.token_ids[0]], markets[0], event=partial, books=books)
        assert CrossMarketArbitrage(CROSS, weight=1.0).on_tick(ctx) is None

"""The arbitrage strategies name the same changed books to a pass however they find them.

A pass with fewer changed books than markets (or basket sides) with a gap looks each
changed book's market up; a bigger one walks the gaps. For random asks, baskets already
sent, times and changed books, both must name exactly the books the walk over every gap
(the reference, written here as the strategies first had it) names.
"""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config.strategy import CrossMarketArbitrageParams, MicroArbitrageParams
from engine.market.event_groups import EventGroup, group_events
from engine.market.markets import MarketInfo
from engine.market.sentiment import SentimentReading
from engine.strategies.base import Inputs
from engine.strategies.cross_market_arbitrage import CrossMarketArbitrage
from engine.strategies.micro_arbitrage import MicroArbitrage
from tests.kit.hypothesis import examples
from tests.kit.strategies import make_market

# Two complete neg-risk events of three outcomes each, and two markets of their own.
MARKETS = [
    make_market(f"0x{e}{i}", f"Y{e}{i}", f"N{e}{i}", event_id=e, neg_risk=True, event_markets=3)
    for e in ("a", "b")
    for i in range(3)
] + [make_market(f"0xs{i}", f"Ys{i}", f"Ns{i}") for i in range(2)]
EVENTS: dict[str, EventGroup] = group_events(MARKETS)
TOKENS = [t for m in MARKETS for t in m.token_ids]
REPEAT_S = 0.3


class _Board:
    """What select reads: the asks (a test's own, not the quote board's)."""

    def __init__(self, asks: Mapping[str, int]) -> None:
        self.asks = asks
        self.readings: Mapping[str, SentimentReading] = {}

    def market_of(self, asset_id: str) -> MarketInfo | None:
        return None


# Asks low enough that most markets and sides leave a gap; now and then a book not
# tradeable (no ask).
asks_st = st.fixed_dictionaries(
    {t: st.sampled_from([None, 2_000, 3_000, 3_100, 4_500, 4_900, 6_000]) for t in TOKENS}
).map(lambda drawn: {t: ask for t, ask in drawn.items() if ask is not None})


def _walk_micro(
    strategy: MicroArbitrage, pending: Mapping[str, None], now: float, asks: Mapping[str, int]
) -> set[str]:
    chosen: set[str] = set()
    for cid, market in strategy._gaps.items():
        yes, no = market.token_ids
        last = strategy._sent.get(cid)
        if last is not None and now - last[1] < REPEAT_S and last[0] == (asks[yes], asks[no]):
            continue
        chosen.update(t for t in (yes, no) if t in pending)
    return chosen


def _walk_cross(
    strategy: CrossMarketArbitrage,
    pending: Mapping[str, None],
    now: float,
    asks: Mapping[str, int],
) -> set[str]:
    chosen: set[str] = set()
    for side in strategy._gaps:
        last = strategy._sent.get(side.key)
        if (
            last is not None
            and now - last[1] < REPEAT_S
            and last[0] == tuple((token, asks[token]) for token, _ in side.legs)
        ):
            continue
        chosen.update(token for token, _ in side.legs if token in pending)
    return chosen


@settings(max_examples=examples(300))
@given(
    asks=asks_st,
    pending=st.lists(st.sampled_from(TOKENS), unique=True),
    sent_at=st.lists(st.sampled_from([0.0, 0.5, 0.9]), min_size=8, max_size=8),
    same_prices=st.lists(st.booleans(), min_size=8, max_size=8),
    now=st.sampled_from([0.6, 1.0]),
)
def test_both_arbitrages_name_the_books_the_walk_over_every_gap_names(
    asks: dict[str, int],
    pending: list[str],
    sent_at: list[float],
    same_prices: list[bool],
    now: float,
) -> None:
    inputs: Inputs = _Board(asks)
    changed = dict.fromkeys(pending)

    micro = MicroArbitrage(MicroArbitrageParams(margin_bps=150, repeat_after_s=REPEAT_S))
    micro.on_markets(MARKETS, EVENTS)
    micro.on_quotes(TOKENS, asks)
    for (cid, market), at, same in zip(micro._gaps.items(), sent_at, same_prices, strict=False):
        yes, no = market.token_ids
        micro._sent[cid] = ((asks[yes], asks[no] + (0 if same else 1)), at)
    named = list(micro.select(changed, now, inputs))
    assert len(named) == len(set(named))
    assert set(named) == _walk_micro(micro, changed, now, asks)

    cross = CrossMarketArbitrage(
        CrossMarketArbitrageParams(margin_bps=150, repeat_after_s=REPEAT_S, include_no_side=True),
        weight=1.0,
    )
    cross.on_markets(MARKETS, EVENTS)
    cross.on_quotes(TOKENS, asks)
    for side, at, same in zip(cross._gaps, sent_at, same_prices, strict=False):
        legs = tuple((token, asks[token] + (0 if same else 1)) for token, _ in side.legs)
        cross._sent[side.key] = (legs, at)
    named = list(cross.select(changed, now, inputs))
    assert len(named) == len(set(named))
    assert set(named) == _walk_cross(cross, changed, now, asks)


CHEAP = dict.fromkeys(TOKENS, 2_000)  # every market and every side leaves a gap


def test_a_frames_one_book_is_not_named_for_a_pair_just_sent_at_these_asks() -> None:
    micro = MicroArbitrage(MicroArbitrageParams(margin_bps=150, repeat_after_s=REPEAT_S))
    micro.on_markets(MARKETS, EVENTS)
    micro.on_quotes(TOKENS, CHEAP)
    micro._sent["0xa0"] = ((2_000, 2_000), 0.5)
    inputs: Inputs = _Board(CHEAP)
    assert list(micro.select({"Ya0": None}, 0.6, inputs)) == []
    assert list(micro.select({"Ya0": None}, 0.9, inputs)) == ["Ya0"]  # the interval passed
    assert list(micro.select({"Ya1": None}, 0.6, inputs)) == ["Ya1"]


def test_a_frames_one_book_is_not_named_for_a_basket_just_sent_at_these_asks() -> None:
    cross = CrossMarketArbitrage(
        CrossMarketArbitrageParams(margin_bps=150, repeat_after_s=REPEAT_S), weight=1.0
    )
    cross.on_markets(MARKETS, EVENTS)
    cross.on_quotes(TOKENS, CHEAP)
    cross._sent[("a", 0)] = (tuple((f"Ya{i}", 2_000) for i in range(3)), 0.5)
    inputs: Inputs = _Board(CHEAP)
    assert list(cross.select({"Ya2": None}, 0.6, inputs)) == []
    assert list(cross.select({"Ya2": None}, 0.9, inputs)) == ["Ya2"]
    assert list(cross.select({"Yb2": None}, 0.6, inputs)) == ["Yb2"]

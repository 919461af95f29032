"""Each incremental strategy says exactly what its from-scratch form says.

The from-scratch forms (tests/kit/scratch_strategies.py) are the strategies as they were
before they kept their own state: plain strategies the core asks about every changed book,
reading everything from the books each time. For random books, frame sequences, trade
prints, headlines and time steps, the kernel's engine runs once with the incremental form
and once with the from-scratch one, and every row the decisions leave in the ledger
(signals, baskets, orders, fills, exits) must be the same, in the same order: the same
signals from the same books at the same moments, and the same trading that follows.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import tempfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from engine.config.strategy import (
    CrossMarketArbitrageParams,
    EventDrivenParams,
    MeanReversionParams,
    MicroArbitrageParams,
    MomentumScalpingParams,
)
from engine.market.event_groups import EventGroup
from engine.market.fees import FREE, FeeSchedule
from engine.market.markets import MarketInfo, Outcome
from engine.market.sentiment import Headline
from engine.strategies.base import Basket, Incremental, Inputs, MarketContext, Signal, Strategy
from engine.strategies.cross_market_arbitrage import CrossMarketArbitrage
from engine.strategies.event_driven import EventDriven
from engine.strategies.mean_reversion import MeanReversion
from engine.strategies.micro_arbitrage import MicroArbitrage
from engine.strategies.momentum_scalping import MomentumScalping
from tests.kit.engine import open_rig
from tests.kit.hypothesis import examples
from tests.kit.scratch_strategies import (
    ScratchCrossMarketArbitrage,
    ScratchEventDriven,
    ScratchMeanReversion,
    ScratchMicroArbitrage,
    ScratchMomentumScalping,
)

TABLES = ("signals", "baskets", "orders", "order_events", "fills", "exits")


def market(cid: str, yes: str, no: str, fees: FeeSchedule, event: str = "") -> MarketInfo:
    return MarketInfo(
        cid,
        f"Will {cid} happen?",
        cid,
        (Outcome(yes, "Yes"), Outcome(no, "No")),
        fees=fees,
        min_order_size=10**6,
        volume_24h=Decimal(60_000),
        neg_risk=bool(event),
        event_id=event,
        event_markets=2 if event else 0,
    )


def markets(fees: FeeSchedule) -> list[MarketInfo]:
    """Two outcome markets of a complete neg-risk event, and a market of its own."""
    return [
        market("0xa", "A1", "A2", fees, "ev"),
        market("0xb", "B1", "B2", fees, "ev"),
        market("0xc", "C1", "C2", fees),
    ]


TOKENS = ("A1", "A2", "B1", "B2", "C1", "C2")
MARKET_OF = {"A1": "0xa", "A2": "0xa", "B1": "0xb", "B2": "0xb", "C1": "0xc", "C2": "0xc"}


# Tuned to act often on small random books, as tests/engine/strategies/test_properties.py.
def mean_reversion_params() -> MeanReversionParams:
    return MeanReversionParams(window=5, entry_z=0.5, sample_interval_s=0.1, spread_volume_tiers=())


def momentum_params() -> MomentumScalpingParams:
    return MomentumScalpingParams(
        lookback=2, sample_interval_s=0.1, min_move_bps=1, min_imbalance=0.0
    )


def event_params() -> EventDrivenParams:
    return EventDrivenParams(
        volume_threshold=0, allowed_risk_levels=("low", "medium", "high"), expected_move_bps=5_000
    )


def micro_params() -> MicroArbitrageParams:
    return MicroArbitrageParams(margin_bps=150, repeat_after_s=0.3)


def cross_params() -> CrossMarketArbitrageParams:
    return CrossMarketArbitrageParams(margin_bps=150, repeat_after_s=0.3)


def incremental(name: str) -> Strategy:
    return {
        "mean_reversion": lambda: MeanReversion(mean_reversion_params()),
        "momentum_scalping": lambda: MomentumScalping(momentum_params()),
        "event_driven": lambda: EventDriven(event_params()),
        "micro_arbitrage": lambda: MicroArbitrage(micro_params()),
        "cross_market_arbitrage": lambda: CrossMarketArbitrage(cross_params(), weight=1.0),
    }[name]()


def scratch(name: str) -> Strategy:
    return {
        "mean_reversion": lambda: ScratchMeanReversion(mean_reversion_params()),
        "momentum_scalping": lambda: ScratchMomentumScalping(momentum_params()),
        "event_driven": lambda: ScratchEventDriven(event_params()),
        "micro_arbitrage": lambda: ScratchMicroArbitrage(micro_params()),
        "cross_market_arbitrage": lambda: ScratchCrossMarketArbitrage(cross_params(), weight=1.0),
    }[name]()


NAMES = (
    "mean_reversion",
    "momentum_scalping",
    "event_driven",
    "micro_arbitrage",
    "cross_market_arbitrage",
)


# -- random scripts --------------------------------------------------------------------------
def cents(n: int) -> str:
    return f"{n / 100:.2f}"


COMPLEMENT = {"A1": "A2", "A2": "A1", "B1": "B2", "B2": "B1", "C1": "C2", "C2": "C1"}


@st.composite
def book_message(draw: st.DrawFn, token: str, mid: int, ts: int) -> dict[str, Any]:
    """A snapshot around `mid` (cents); sometimes one-sided, sometimes locked/crossed."""
    half = draw(st.sampled_from([0, 1, 1, 1, 2, 3]))
    bids = [
        (mid - max(half, 1) - i, draw(st.integers(1, 200))) for i in range(draw(st.integers(1, 3)))
    ]
    asks = [(mid + half + i, draw(st.integers(1, 200))) for i in range(draw(st.integers(1, 3)))]
    if draw(st.integers(0, 12)) == 0:
        bids = []
    return {
        "event_type": "book",
        "asset_id": token,
        "market": MARKET_OF[token],
        "bids": [{"price": cents(p), "size": str(s)} for p, s in bids if 0 < p < 100],
        "asks": [{"price": cents(p), "size": str(s)} for p, s in asks if 0 < p < 100],
        "timestamp": str(ts),
    }


@st.composite
def change_message(draw: st.DrawFn, token: str, mid: int, ts: int) -> dict[str, Any]:
    """Level changes near `mid` on a token (and sometimes its complement's mirror)."""
    entries = []
    for _ in range(draw(st.integers(1, 4))):
        on = draw(st.sampled_from([token, token, COMPLEMENT[token]]))
        centre = mid if on == token else 100 - mid
        price = min(98, max(2, centre + draw(st.integers(-4, 4))))
        side = (
            "BUY"
            if price < centre
            else "SELL"
            if price > centre
            else draw(st.sampled_from(["BUY", "SELL"]))
        )
        entries.append(
            {
                "asset_id": on,
                "price": cents(price),
                "size": str(draw(st.sampled_from([0, 0, 1, 5, 20, 75, 150]))),
                "side": side,
            }
        )
    return {
        "event_type": "price_change",
        "market": MARKET_OF[token],
        "timestamp": str(ts),
        "price_changes": entries,
    }


@st.composite
def trade_message(draw: st.DrawFn, token: str, mid: int, ts: int) -> dict[str, Any]:
    return {
        "event_type": "last_trade_price",
        "asset_id": token,
        "market": MARKET_OF[token],
        "price": cents(min(98, max(2, mid + draw(st.integers(-2, 2))))),
        "size": str(draw(st.integers(1, 400))),
        "side": draw(st.sampled_from(["BUY", "SELL"])),
        "timestamp": str(ts),
    }


@dataclass(frozen=True)
class Step:
    dt: float
    messages: tuple[dict[str, Any], ...]
    headline: tuple[str, float, bool] | None  # (market, tone, is news)


@st.composite
def scripts(draw: st.DrawFn) -> list[Step]:
    """Each market's YES walks around a fair price and its NO around the rest of 1, so
    the pairs' and the event's ask sums keep crossing the arbitrages' margins."""
    fair = {"A1": draw(st.integers(20, 60)), "B1": 0, "C1": draw(st.integers(10, 90))}
    fair["B1"] = min(90, max(10, 100 - fair["A1"] + draw(st.integers(-6, 6))))

    def mid(token: str) -> int:
        yes = token[0] + "1"
        return fair[yes] if token == yes else 100 - fair[yes] + draw(st.integers(-3, 3))

    opening = tuple(draw(book_message(t, mid(t), 1)) for t in TOKENS)
    steps = [Step(0.0, opening, None)]
    for i in range(draw(st.integers(5, 40))):
        ts = 2 + i
        for yes in fair:
            fair[yes] = min(90, max(10, fair[yes] + draw(st.integers(-3, 3))))
        messages = []
        for _ in range(draw(st.integers(1, 4))):
            token = draw(st.sampled_from(TOKENS))
            kind = draw(
                st.sampled_from([change_message, change_message, book_message, trade_message])
            )
            messages.append(draw(kind(token, mid(token), ts)))
        headline = None
        if draw(st.integers(0, 6)) == 0:
            headline = (
                draw(st.sampled_from(["0xa", "0xc"])),
                draw(st.sampled_from([1.0, -1.0])),
                draw(st.booleans()),
            )
        dt = draw(st.sampled_from([0.0, 0.05, 0.1, 0.1, 0.2, 0.5, 2.0]))
        steps.append(Step(dt, tuple(messages), headline))
    return steps


GOOD = "Stocks rally as the company wins a great, wonderful victory"
BAD = "Disaster: the company fails, losses mount in a terrible collapse"


def headline(cid: str, tone: float, is_news: bool, at: float) -> Headline:
    return Headline(
        "test",
        "reuters" if is_news else "someone",
        GOOD if tone > 0 else BAD,
        "",
        f"https://example.test/{at}",
        at,
        is_news=is_news,
        markets=(cid,),
    )


# -- running both forms -------------------------------------------------------------------------
Said = list[tuple[str, float, Signal | Basket]]  # (token, clock, what the strategy returned)


class Told:
    """A plain strategy that keeps what the strategy it wraps returns (never None)."""

    def __init__(self, inner: Strategy, said: Said) -> None:
        self.inner = inner
        self.name = inner.name
        self.weight = inner.weight
        self.said = said

    def on_tick(self, ctx: MarketContext) -> Signal | Basket | None:
        out = self.inner.on_tick(ctx)
        if out is not None:
            self.said.append((ctx.asset_id, ctx.now, out))
        return out


class ToldIncremental(Told):
    """The same for an incremental strategy: asked only where it says."""

    def __init__(self, inner: Incremental, said: Said) -> None:
        super().__init__(inner, said)
        self.incremental = inner
        self.lots_matter = inner.lots_matter

    def on_markets(self, markets: Sequence[MarketInfo], events: Mapping[str, EventGroup]) -> None:
        self.incremental.on_markets(markets, events)

    def on_quotes(self, moved: Sequence[str], asks: Mapping[str, int]) -> None:
        self.incremental.on_quotes(moved, asks)

    def select(self, pending: Mapping[str, None], now: float, inputs: Inputs) -> Collection[str]:
        return self.incremental.select(pending, now, inputs)


def told(strategies: list[Strategy], said: Said) -> list[Strategy]:
    return [
        ToldIncremental(s, said) if isinstance(s, Incremental) else Told(s, said)
        for s in strategies
    ]


RISK = {"risk": {"max_order_shares": "40", "max_position_shares": "80"}}


async def replay(
    path: Path,
    strategies: list[Strategy],
    script: list[Step],
    fees: FeeSchedule,
    paused: bool = False,
) -> None:
    rig = await open_rig(
        path,
        strategies,
        RISK,
        sentiment=True,
        markets=markets(fees),
    )
    rig.core.intake.stop_measuring_latency()  # real time would differ between the two runs
    if paused:
        rig.core.pause()  # strategies go on deciding; nothing is entered
    try:
        for step in script:
            if step.dt:
                rig.tick(step.dt)
            if step.headline is not None:
                cid, tone, is_news = step.headline
                rig.core.on_headlines([headline(cid, tone, is_news, rig.clock.time())])
            rig.core.on_frame(json.dumps(list(step.messages)), rig.clock.time())
            rig.core.decide()
        await rig.ledger.flush()
    finally:
        await rig.close()


def rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in TABLES}
    finally:
        conn.close()


Rows = dict[str, list[tuple[Any, ...]]]


def both(
    make_incremental: list[Strategy],
    make_scratch: list[Strategy],
    script: list[Step],
    fees: FeeSchedule,
    paused: bool = False,
) -> tuple[Rows, Rows]:
    """Both forms over `script`: the ledger rows of each, with what the strategies
    returned under the key "said" (every signal and basket, with its token and time)."""
    assert all(isinstance(s, Incremental) for s in make_incremental)
    assert not any(isinstance(s, Incremental) for s in make_scratch)
    ours: Said = []
    theirs: Said = []
    with tempfile.TemporaryDirectory() as d:
        a, b = Path(d) / "incremental.sqlite", Path(d) / "scratch.sqlite"
        asyncio.run(replay(a, told(make_incremental, ours), script, fees, paused))
        asyncio.run(replay(b, told(make_scratch, theirs), script, fees, paused))
        return {**rows(a), "said": list(ours)}, {**rows(b), "said": list(theirs)}


FEES = st.sampled_from([FREE, FeeSchedule(Decimal("0.25"), Decimal("2"))])
# No shrinking: each example runs two engines on SQLite ledgers, and a shrink of a failing
# script would take minutes; the falsifying script is printed as found.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=examples(120), deadline=None, phases=PHASES)
@given(script=scripts(), fees=FEES)
def test_an_incremental_strategy_decides_as_its_from_scratch_form(
    name: str, script: list[Step], fees: FeeSchedule
) -> None:
    ours, reference = both([incremental(name)], [scratch(name)], script, fees)
    assert ours["said"] == reference["said"]
    for table in TABLES:
        assert ours[table] == reference[table], table


@settings(max_examples=examples(120), deadline=None, phases=PHASES)
@given(script=scripts(), fees=FEES)
def test_the_five_together_decide_as_their_from_scratch_forms(
    script: list[Step], fees: FeeSchedule
) -> None:
    """Together they also meet through the lots each other's orders open."""
    ours, reference = both(
        [incremental(n) for n in NAMES], [scratch(n) for n in NAMES], script, fees
    )
    assert ours["said"] == reference["said"]
    for table in TABLES:
        assert ours[table] == reference[table], table


def quotes(ts: int, **asks: int) -> tuple[dict[str, Any], ...]:
    """Snapshots: each token's ask (cents) over a bid two cents under it."""
    return tuple(
        {
            "event_type": "book",
            "asset_id": token,
            "market": MARKET_OF[token],
            "bids": [{"price": cents(ask - 2), "size": "50"}],
            "asks": [{"price": cents(ask), "size": "50"}],
            "timestamp": str(ts),
        }
        for token, ask in asks.items()
    )


@pytest.mark.parametrize("name", ["micro_arbitrage", "cross_market_arbitrage"])
def test_an_arbitrage_sent_is_sent_again_at_new_prices_however_soon(name: str) -> None:
    """The repeat rule holds back the same basket at the same prices only: a gap that
    moves is a new basket at once (the engine is paused here, so no basket trades and
    no lots change what the strategy says)."""
    script = [
        Step(0.0, quotes(1, A1=40, A2=50, B1=40, B2=50, C1=40, C2=50), None),
        Step(0.1, quotes(2, A1=41, B1=41, C1=41), None),  # still a gap, new prices
        Step(0.1, quotes(3, A2=51, B2=51, C2=51), None),
        Step(0.1, quotes(4, A1=41, B1=41, C1=41), None),  # the same again: held
    ]
    ours, reference = both([incremental(name)], [scratch(name)], script, FREE, paused=True)
    assert len(reference["said"]) >= 2  # the first asks, and again at moved ones
    assert ours["said"] == reference["said"]
    assert ours["baskets"] == reference["baskets"]

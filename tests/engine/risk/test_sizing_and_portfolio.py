"""Portfolio accounting, sizing (caps, exposure, cash with fees) and aggregation."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from engine.execution.portfolio import Portfolio
from engine.fixed import ONE
from engine.market.fees import FREE, FeeSchedule
from engine.orders import Fill, Liquidity, Side
from engine.risk.sizing import (
    Holding,
    SizingInputs,
    SizingLimits,
    affordable_size,
    exposure,
    size_entry,
)
from engine.strategies.aggregator import Aggregator
from engine.strategies.base import Signal

S = 1_000_000
START = 1_000 * 10**10  # 1000 USDC in cash units
FEE_MARKET = FeeSchedule(Decimal("0.25"), Decimal("2"))


def fill(side: Side, price: int, size: int, fee: int = 0, asset: str = "A") -> Fill:
    return Fill("o#1", "o", asset, "M", side, price, size, fee, Liquidity.TAKER, 0.0)


def test_round_trip_realises_exact_pnl() -> None:
    p = Portfolio(START)
    p.apply(fill(Side.BUY, 4000, 3 * S, fee=10))
    p.apply(fill(Side.SELL, 5000, 1 * S))
    p.apply(fill(Side.SELL, 4500, 2 * S, fee=5))
    assert p.position("A") == 0
    # bought 3 @ 0.40, sold 1 @ 0.50 and 2 @ 0.45, fees 15 cash units
    assert p.realized == (5000 * S + 4500 * 2 * S) - 4000 * 3 * S - 15
    assert p.cash == START + p.realized


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B"]),
            st.booleans(),
            st.integers(1, 9999),
            st.integers(1, 10**9),
            st.integers(0, 10**8),
        ),
        max_size=60,
    )
)
def test_cash_is_conserved(ops: list[tuple[str, bool, int, int, int]]) -> None:
    """cash + cost of holdings == starting cash + realised PnL, after every fill."""
    p = Portfolio(START)
    for asset, buy, price, size, fee in ops:
        if not buy:
            size = min(size, p.position(asset))
            if size == 0:
                continue
        p.apply(fill(Side.BUY if buy else Side.SELL, price, size, fee, asset))
        cost = sum(pos.cost for pos in p.positions.values())
        assert p.cash + cost == START + p.realized
        assert all(pos.shares >= 0 and pos.cost >= 0 for pos in p.positions.values())
        assert all(pos.cost == 0 for pos in p.positions.values() if pos.shares == 0)


def limits(**changes: int) -> SizingLimits:
    values = {
        "max_order": 25 * S,
        "max_position": 50 * S,
        "bankroll_fraction_bps": 10_000,
        "max_market_exposure": 10**6 * 10**10,
        "max_event_exposure": 10**6 * 10**10,
        "max_total_exposure": 10**6 * 10**10,
    }
    values.update(changes)
    return SizingLimits(**values)


def inputs(**changes: object) -> SizingInputs:
    values: dict[str, object] = {
        "strategy": "s",
        "token": "YES",
        "price": 5000,
        "confidence": 1.0,
        "base": 40 * S,
        "recovery_scale": 1.0,
        "fallback_scale": 1.0,
        "position": 0,
        "equity": START,
        "cash": START,
        "market": Holding({}, 0),
        "event_exposure": 0,
        "total_exposure": 0,
        "min_size": 5 * S,
        "fees": FREE,
    }
    values.update(changes)
    return SizingInputs(**values)  # type: ignore[arg-type]


def test_sizing_caps_name_the_rule_that_cut() -> None:
    r = size_entry(inputs(), limits())
    assert (r.size, r.rule) == (25 * S, "max order")
    r = size_entry(inputs(base=20 * S, position=40 * S), limits())
    assert (r.size, r.rule) == (10 * S, "max position")
    assert size_entry(inputs(base=20 * S, position=48 * S), limits()).size == 0
    poor = size_entry(inputs(base=10 * S, cash=3 * 10**10), limits())  # 3 USDC buys 6
    assert (poor.size, poor.rule) == (6 * S, "cash (fee included)")
    half = size_entry(inputs(base=10 * S, recovery_scale=0.5), limits())
    assert (half.size, half.rule) == (5 * S, "kill switch recovery")
    conf = size_entry(inputs(base=10 * S, confidence=0.847), limits())
    assert (conf.size, conf.rule) == (847 * S // 100, "confidence")
    # 5% of 1000 USDC = 50 USDC at 0.50 buys 100 shares; the cap of 25 binds first.
    frac = size_entry(inputs(base=20 * S), limits(bankroll_fraction_bps=10))  # 1 USDC
    assert (frac.size, frac.rule) == (0, "market minimum size")


def test_yes_and_no_net_as_a_hedge_in_exposure() -> None:
    """Holding 10 YES bought at 0.60 (6 USDC at risk) with the market cap at 6: NO at
    0.30 hedges, so buying it is allowed up to where the worst case is 6 again:
    6 + 0.30 s - min(10, s) <= 6, i.e. s <= 33.33."""
    held = Holding({"YES": 10 * S, "NO": 0}, 10 * S * 6000)
    assert exposure(held) == 10 * S * 6000
    r = size_entry(
        inputs(token="NO", base=50 * S, price=3000, market=held),
        limits(max_order=50 * S, max_position=100 * S, max_market_exposure=10 * S * 6000),
    )
    assert (r.size, r.rule) == (3333 * S // 100, "market exposure")
    after = Holding({"YES": 10 * S, "NO": r.size}, 10 * S * 6000 + r.size * 3000)
    assert exposure(after) <= 10 * S * 6000
    yes_more = size_entry(
        inputs(base=10 * S, market=held), limits(max_market_exposure=10 * S * 6000)
    )
    assert (yes_more.size, yes_more.rule) == (0, "market exposure")  # adds risk: no room
    both = Holding({"YES": 10 * S, "NO": 10 * S}, 10 * S * 9000)
    assert exposure(both) == 0  # 10 pairs pay exactly 10: nothing at risk beyond cost 9


@given(
    st.integers(1, 10**10),
    st.integers(1, 9999),
    st.integers(0, 10**10),
    st.integers(0, 10**14),
    st.booleans(),
    st.integers(0, 10**13),
)
def test_sizing_never_exceeds_caps(
    size: int, price: int, position: int, cash: int, charged: bool, room: int
) -> None:
    fees = FEE_MARKET if charged else FREE
    lim = limits(max_market_exposure=room, max_total_exposure=room, max_event_exposure=room)
    r = size_entry(inputs(base=size, price=price, position=position, cash=cash, fees=fees), lim)
    if r.size:
        assert r.size <= 25 * S
        assert position + r.size <= 50 * S
        assert r.size * price + fees.taker_fee(price, r.size) <= cash
        assert r.size * price <= room  # exposure (nothing held: the cost is at risk)
        assert r.size >= 5 * S
        assert r.size % (S // 100) == 0


def test_cash_check_includes_the_taker_fee() -> None:
    """Reproduced: a $10 account bought $10 of shares and then paid the fee (-$1.25)."""
    cash = 10 * 10**10
    size = affordable_size(cash, 5000, FEE_MARKET)
    assert size * 5000 + FEE_MARKET.taker_fee(5000, size) <= cash
    # and not a share-step short of what fits
    bigger = size + S // 100
    assert bigger * 5000 + FEE_MARKET.taker_fee(5000, bigger) > cash
    r = size_entry(
        inputs(base=100 * S, cash=cash, min_size=0, fees=FEE_MARKET),
        limits(max_order=10**6 * S, max_position=10**6 * S),
    )
    assert r.size == size < 20 * S


@given(
    st.integers(1, 9999),
    st.integers(1, 10**9),
    st.integers(1, 9999),
    st.integers(1, 10**9),
    st.booleans(),
)
def test_yes_and_no_settle_to_exactly_one(
    yes_price: int, yes_size: int, no_price: int, no_size: int, yes_wins: bool
) -> None:
    """Holding equal YES and NO pays exactly 1 per pair, whichever side wins; cash is
    conserved through settlement (cash + cost == start + realised)."""
    pairs = min(yes_size, no_size)
    p = Portfolio(START)
    p.apply(fill(Side.BUY, yes_price, pairs, asset="YES"))
    p.apply(fill(Side.BUY, no_price, pairs, asset="NO"))
    cash_before = p.cash
    p.settle("YES", ONE if yes_wins else 0)
    p.settle("NO", 0 if yes_wins else ONE)
    assert p.cash - cash_before == ONE * pairs  # one USDC per pair, exactly
    assert p.position("YES") == p.position("NO") == 0
    assert p.cash == START + p.realized


def sig(name: str, side: Side, strength: float, exit_: bool = False) -> Signal:
    return Signal(name, "A", side, strength, f"{name} says", exit_)


def test_aggregation_by_weight() -> None:
    agg = Aggregator({"mr": 1.0, "mom": 1.0, "xarb": 0.0}, threshold=0.5)
    # Normalized over the voters: a lone signal stands on its own strength.
    assert agg.combine("A", [sig("mr", Side.BUY, 0.4)]) is None  # 0.4 < 0.5
    lone = agg.combine("A", [sig("mr", Side.BUY, 0.8)])
    assert lone is not None
    assert abs(lone.score - 0.8) < 1e-9
    intent = agg.combine("A", [sig("mr", Side.BUY, 0.8), sig("mom", Side.BUY, 0.6)])
    assert intent is not None
    assert intent.side is Side.BUY
    assert abs(intent.score - 0.7) < 1e-9
    assert agg.combine("A", [sig("mr", Side.BUY, 1.0), sig("mom", Side.SELL, 1.0)]) is None
    assert agg.combine("A", [sig("xarb", Side.BUY, 1.0)]) is None  # weight 0 never trades
    out = agg.combine("A", [sig("mr", Side.BUY, 1.0), sig("mom", Side.SELL, 1.0, exit_=True)])
    assert out is not None
    assert out.is_exit
    assert out.side is Side.SELL

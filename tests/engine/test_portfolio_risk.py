"""Portfolio accounting, the risk gate and aggregation."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from engine.execution.portfolio import Portfolio
from engine.fixed import ONE
from engine.market.fees import FREE, FeeSchedule
from engine.market.health import FeedSource
from engine.orders import Fill, Liquidity, Side
from engine.risk.gate import RiskGate, affordable_size
from engine.strategies.aggregator import Aggregator
from engine.strategies.base import Signal

S = 1_000_000
START = 1_000 * 10**10  # 1000 USDC in cash units


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


def test_risk_caps_and_refusals() -> None:
    gate = RiskGate(max_order=25 * S, max_position=50 * S)
    live = FeedSource.WS_LIVE
    assert gate.check_buy(40 * S, 5000, 0, START, 5 * S, live, FREE).size == 25 * S
    assert gate.check_buy(20 * S, 5000, 40 * S, START, 5 * S, live, FREE).size == 10 * S
    assert not gate.check_buy(20 * S, 5000, 48 * S, START, 5 * S, live, FREE).approved
    assert not gate.check_buy(10 * S, 5000, 0, START, 5 * S, FeedSource.WS_STALE, FREE).approved
    poor = gate.check_buy(10 * S, 5000, 0, 3 * 10**10, 5 * S, live, FREE)  # 3 USDC buys 6
    assert poor.size == 6 * S
    assert poor.reason == "capped by available cash (fee included)"
    assert gate.check_sell(10 * S, 0, 5 * S).reason == "no position to sell (or already being sold)"
    assert gate.check_sell(10 * S, 7 * S, 5 * S).size == 7 * S
    assert not gate.check_sell(3 * S, 3 * S, 5 * S).approved


FEE_MARKET = FeeSchedule(Decimal("0.25"), Decimal("2"))


def test_cash_check_includes_the_taker_fee() -> None:
    """Reproduced: a $10 account bought $10 of shares and then paid the fee (-$1.25)."""
    cash = 10 * 10**10
    size = affordable_size(cash, 5000, FEE_MARKET)
    assert size * 5000 + FEE_MARKET.taker_fee(5000, size) <= cash
    # and not a share-step short of what fits
    bigger = size + S // 100
    assert bigger * 5000 + FEE_MARKET.taker_fee(5000, bigger) > cash
    gate = RiskGate(max_order=10**6 * S, max_position=10**6 * S)
    d = gate.check_buy(100 * S, 5000, 0, cash, 0, FeedSource.WS_LIVE, FEE_MARKET)
    assert d.size == size < 20 * S


@given(
    st.integers(1, 10**10),
    st.integers(1, 9999),
    st.integers(0, 10**10),
    st.integers(0, 10**14),
    st.booleans(),
)
def test_risk_never_exceeds_caps(
    size: int, price: int, position: int, cash: int, charged: bool
) -> None:
    gate = RiskGate(max_order=25 * S, max_position=50 * S)
    fees = FEE_MARKET if charged else FREE
    d = gate.check_buy(size, price, position, cash, 5 * S, FeedSource.WS_LIVE, fees)
    if d.approved:
        assert d.size <= 25 * S
        assert position + d.size <= 50 * S
        assert d.size * price + fees.taker_fee(price, d.size) <= cash
        assert d.size >= 5 * S


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
    assert agg.combine("A", [sig("mr", Side.BUY, 0.8)]) is None  # 0.4 < 0.5
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

"""Portfolio accounting, the risk gate and aggregation."""

from hypothesis import given
from hypothesis import strategies as st

from engine.execution.portfolio import Portfolio
from engine.market.health import FeedSource
from engine.orders import Fill, Side
from engine.risk.gate import RiskGate
from engine.strategies.aggregator import Aggregator
from engine.strategies.base import Signal

S = 1_000_000
START = 1_000 * 10**10  # 1000 USDC in cash units


def fill(side: Side, price: int, size: int, fee: int = 0, asset: str = "A") -> Fill:
    return Fill("o", asset, "M", side, price, size, fee, "taker", 0.0)


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
    assert gate.check_buy(40 * S, 5000, 0, START, 5 * S, live).size == 25 * S
    assert gate.check_buy(20 * S, 5000, 40 * S, START, 5 * S, live).size == 10 * S
    assert not gate.check_buy(20 * S, 5000, 48 * S, START, 5 * S, live).approved
    assert not gate.check_buy(10 * S, 5000, 0, START, 5 * S, FeedSource.WS_STALE).approved
    poor = gate.check_buy(10 * S, 5000, 0, 3 * 10**10, 5 * S, live)  # 3 USDC buys 6 shares
    assert poor.size == 6 * S
    assert poor.reason == "capped by available cash"
    assert gate.check_sell(10 * S, 0, 5 * S).reason == "no position to sell"
    assert gate.check_sell(10 * S, 7 * S, 5 * S).size == 7 * S
    assert not gate.check_sell(3 * S, 3 * S, 5 * S).approved


@given(st.integers(1, 10**10), st.integers(1, 9999), st.integers(0, 10**10), st.integers(0, 10**14))
def test_risk_never_exceeds_caps(size: int, price: int, position: int, cash: int) -> None:
    gate = RiskGate(max_order=25 * S, max_position=50 * S)
    d = gate.check_buy(size, price, position, cash, 5 * S, FeedSource.WS_LIVE)
    if d.approved:
        assert d.size <= 25 * S
        assert position + d.size <= 50 * S
        assert d.size * price <= cash
        assert d.size >= 5 * S


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

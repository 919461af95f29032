"""The matching core: walking the book, limits, FOK, fees, queue position."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from engine.execution.matching import RestingOrder, check_order, match_taker
from engine.market.book import OrderBook
from engine.market.fees import FREE, FeeSchedule
from engine.orders import Side

S = 1_000_000  # one share


def book() -> OrderBook:
    b = OrderBook("t")
    b.replace([(5000, 10 * S), (4900, 20 * S)], [(5100, 5 * S), (5200, 10 * S), (5400, 50 * S)])
    return b


def test_buy_walks_asks_up_to_the_limit() -> None:
    r = match_taker(book(), Side.BUY, 5200, 12 * S, FREE)
    assert r.fills == ((5100, 5 * S), (5200, 7 * S))
    assert (r.filled, r.remaining) == (12 * S, 0)
    assert r.notional == 5100 * 5 * S + 5200 * 7 * S
    assert r.avg_price == (Decimal("0.51") * 5 + Decimal("0.52") * 7) / 12


def test_sell_walks_bids_down_and_stops_at_limit() -> None:
    r = match_taker(book(), Side.SELL, 4950, 25 * S, FREE)
    assert r.fills == ((5000, 10 * S),)
    assert r.remaining == 15 * S


def test_fill_or_kill_fills_nothing_when_short() -> None:
    r = match_taker(book(), Side.BUY, 5200, 100 * S, FREE, fill_or_kill=True)
    assert r.filled == 0
    assert r.fills == ()
    assert r.reject


def test_consumed_liquidity_is_not_taken_twice() -> None:
    r = match_taker(book(), Side.BUY, 5100, 5 * S, FREE, consumed={5100: 5 * S})
    assert r.filled == 0


def test_fees_follow_the_market_formula() -> None:
    fees = FeeSchedule(Decimal("0.25"), Decimal("2"))
    r = match_taker(book(), Side.BUY, 5100, 5 * S, fees)
    # 5 * 0.25 * (0.51 * 0.49)^2 = 0.0780800... -> rounded up to 1e-6 USDC
    expected = Decimal(5) * Decimal("0.25") * (Decimal("0.51") * Decimal("0.49")) ** 2
    assert r.fee == int(expected.quantize(Decimal("0.000001"), rounding="ROUND_CEILING") * 10**10)
    assert FREE.taker_fee(5000, 10 * S) == 0


def test_check_order() -> None:
    assert check_order(5000, 5 * S, 100, 5 * S) is None
    assert "tick" in (check_order(5050, 5 * S, 100, 5 * S) or "")
    assert "minimum" in (check_order(5000, 4 * S, 100, 5 * S) or "")
    assert "outside" in (check_order(10000, 5 * S, 100, 0) or "")


def test_resting_order_waits_for_the_queue_ahead() -> None:
    order = RestingOrder("o", Side.BUY, 5000, 10 * S, queue_ahead=30 * S)
    assert order.on_trade(5000, 20 * S) == 0
    order.on_level_size(5 * S)  # cancels ahead of us
    assert order.queue_ahead == 5 * S
    assert order.on_trade(5000, 8 * S) == 3 * S
    assert order.on_trade(4900, 100 * S) == 0  # another price
    assert order.on_trade(5000, 100 * S) == 7 * S
    assert order.remaining == 0
    assert order.filled == 10 * S
    assert RestingOrder("s", Side.SELL, 5200, 1, 0).crossed_by(5300)


levels = st.dictionaries(st.integers(1, 9999), st.integers(1, 10**9), max_size=15)


@given(
    levels,
    levels,
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 9999),
    st.integers(1, 10**10),
)
def test_matching_invariants(
    bids: dict[int, int], asks: dict[int, int], side: Side, limit: int, size: int
) -> None:
    b = OrderBook("t")
    b.replace(bids.items(), asks.items())
    r = match_taker(b, side, limit, size, FeeSchedule(Decimal("0.1"), Decimal("1")))
    assert r.filled + r.remaining == size
    assert 0 <= r.filled <= size
    assert sum(s for _, s in r.fills) == r.filled
    assert r.notional == sum(p * s for p, s in r.fills)
    source = asks if side is Side.BUY else bids
    for price, taken in r.fills:
        assert taken <= source[price]
        assert price <= limit if side is Side.BUY else price >= limit
    prices = [p for p, _ in r.fills]
    assert prices == sorted(prices, reverse=side is Side.SELL)  # best first
    assert r.fee >= 0

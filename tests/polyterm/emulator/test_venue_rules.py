"""The venue's bookkeeping without a server: reserved funds, self-trade prevention,
trade statuses, heartbeats, per-signer buckets, fault switches."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.clock import SimClock
from engine.fixed import ONE, SIZE_SCALE
from engine.orders import OrderType, Side
from polyterm.emulator.control import Control
from polyterm.emulator.faults import Faults
from polyterm.emulator.heartbeats import Heartbeats
from polyterm.emulator.pacing import Pacing
from polyterm.emulator.server import EmulatorOptions, build_exchange
from polyterm.emulator.signer_limits import SignerLimits
from polyterm.emulator.trading import OrderError

WALLET = "0x" + "ab" * 20


def _control(balance: str = "10") -> tuple[Control, SimClock]:
    clock = SimClock(1_700_000_000.0)
    exchange, _ = build_exchange(EmulatorOptions(seed=5, markets=2), clock)
    return Control(exchange, clock, Pacing({}, clock), starting_balance=Decimal(balance)), clock


def _bid(control: Control, n: int, below: int = 500) -> tuple[str, int, int]:
    book = control.exchange.markets[0].yes
    assert book.best_bid is not None
    price = book.best_bid - below
    size = 9_60 * ONE * SIZE_SCALE // 100 // price  # $9.60 of shares
    size -= size % (SIZE_SCALE // 100)
    return book.asset_id, price, size


def test_three_960_bids_on_ten_dollars_rest_only_one_and_cash_never_goes_negative() -> None:
    control, _ = _control("10")
    wallet = control.wallets.get(WALLET)
    token, price, size = _bid(control, 0)
    trading = control.trading
    trading.place("k", wallet, "0x01", token, Side.BUY, price, size, OrderType.GTC)
    for oid in ("0x02", "0x03"):
        with pytest.raises(OrderError, match="the balance is not enough"):
            trading.place("k", wallet, oid, token, Side.BUY, price, size, OrderType.GTC)
    # The one resting bid fills entirely as the flow trades through it.
    market = control.exchange.markets[0]
    order = trading.orders["0x01"]
    assert order.resting is not None
    trading.fill_resting(market, True, price, order.resting.queue_ahead + size)
    assert wallet.collateral >= 0
    assert wallet.tokens[token] == size


def test_a_taker_cancels_its_own_resting_orders_it_would_cross() -> None:
    control, _ = _control("1000")
    wallet = control.wallets.get(WALLET)
    market = control.exchange.markets[0]
    book = market.yes
    assert book.best_ask is not None
    assert book.best_bid is not None
    wallet.tokens[book.asset_id] = 100 * SIZE_SCALE
    ask = book.best_bid + 100
    trading = control.trading
    trading.place("k", wallet, "0xa", book.asset_id, Side.SELL, ask, 10 * SIZE_SCALE, OrderType.GTC)
    trading.place(
        "k",
        wallet,
        "0xb",
        book.asset_id,
        Side.BUY,
        ask,
        10 * SIZE_SCALE,
        OrderType.FAK,
        budget=ask * 10 * SIZE_SCALE,
    )
    assert trading.orders["0xa"].status == "CANCELED"
    assert all(
        leg.wallet != WALLET or t.side is Side.BUY
        for t in trading.trades.values()
        for leg in t.legs
    )


def test_trades_move_matched_mined_confirmed_on_the_clock() -> None:
    control, clock = _control("1000")
    wallet = control.wallets.get(WALLET)
    book = control.exchange.markets[0].yes
    assert book.best_ask is not None
    control.trading.place(
        "k",
        wallet,
        "0xc",
        book.asset_id,
        Side.BUY,
        book.best_ask,
        5 * SIZE_SCALE,
        OrderType.FAK,
        budget=book.best_ask * 5 * SIZE_SCALE,
    )
    (trade,) = control.trading.trades.values()
    seen = [trade.status]
    for _ in range(30):
        clock.advance_to(clock.time() + 0.1)
        control.tick()
        if trade.status != seen[-1]:
            seen.append(trade.status)
    assert seen == ["MATCHED", "MINED", "CONFIRMED"]
    assert trade.transaction_hash


def test_heartbeats_chain_and_lapse_once() -> None:
    clock = SimClock(0.0)
    beats = Heartbeats(clock)
    ok, first = beats.beat("k", "")
    assert ok
    assert beats.beat("k", "stale") == (False, first)
    clock.advance_to(9.9)
    assert beats.lapsed() == []
    clock.advance_to(10.0)
    assert beats.lapsed() == ["k"]
    assert beats.lapsed() == []
    assert beats.beat("k", "")[0]  # re-arms from scratch


def test_signer_buckets_report_headers_and_refuse_when_empty() -> None:
    clock = SimClock(100.0)
    limits = SignerLimits(clock)
    limits.configure("order", capacity=3, refill_per_s=1)
    first = limits.charge("order", "0xA", 2)
    assert first.allowed
    assert first.headers["Poly-RateLimit-Remaining"] == "1"
    assert first.headers["Poly-RateLimit-Tier"] == "default"
    refused = limits.charge("order", "0xa", 2)  # signers are case-insensitive
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(1.0)
    assert limits.charge("order", "0xB", 3).allowed  # per signer
    limits.enforce = False
    warned = limits.charge("order", "0xA", 5)
    assert warned.allowed
    assert warned.headers["Poly-RateLimit-Warning"] == "true"


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ({"order_late_s": "soon"}, "order_late_s must be a number of seconds"),
        ({"drop_heartbeats": "yes"}, "drop_heartbeats must be true or false"),
        ({"fail_trades": None}, "fail_trades must be a whole number"),
        ({"explode": 1}, "unknown fault 'explode'"),
    ],
)
def test_bad_fault_switches_are_one_line(spec: dict[str, object], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        Faults().apply(spec)


@given(
    orders=st.lists(
        st.tuples(
            st.sampled_from([Side.BUY, Side.SELL]),
            st.integers(min_value=-6, max_value=6),  # ticks from the touch
            st.integers(min_value=5, max_value=400),  # shares
            st.sampled_from([OrderType.GTC, OrderType.FAK, OrderType.FOK]),
            st.integers(min_value=0, max_value=8),  # flow steps afterwards
        ),
        max_size=25,
    ),
    balance=st.sampled_from(["10", "50", "500"]),
)
@settings(deadline=None, max_examples=40)
def test_a_wallet_never_spends_or_sells_what_it_does_not_have(
    orders: list[tuple[Side, int, int, OrderType, int]], balance: str
) -> None:
    clock = SimClock(1_700_000_000.0)
    exchange, flow = build_exchange(EmulatorOptions(seed=9, markets=1), clock)
    control = Control(exchange, clock, Pacing({}, clock), starting_balance=Decimal(balance))
    wallet = control.wallets.get(WALLET)
    book = exchange.markets[0].yes
    wallet.tokens[book.asset_id] = 50 * SIZE_SCALE
    for n, (side, offset, shares, kind, steps) in enumerate(orders):
        touch = book.best_ask if side is Side.BUY else book.best_bid
        if touch is None:
            continue
        price = touch + offset * book.tick
        if not book.tick <= price <= ONE - book.tick:
            continue
        size = shares * SIZE_SCALE
        budget = price * size if side is Side.BUY and kind is not OrderType.GTC else None
        with contextlib.suppress(OrderError):
            control.trading.place(
                "k", wallet, f"0x{n:x}", book.asset_id, side, price, size, kind, budget=budget
            )
        for _ in range(steps):
            clock.advance_to(clock.time() + 0.1)
            flow.step(0.1)
            control.tick()
        assert wallet.collateral >= 0
        assert wallet.tokens.get(book.asset_id, 0) >= 0
        cash, held = control.trading.reserved(WALLET)
        assert cash <= wallet.collateral
        assert held.get(book.asset_id, 0) <= wallet.tokens.get(book.asset_id, 0)

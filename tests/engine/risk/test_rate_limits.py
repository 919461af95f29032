"""Order-rate caps over rolling windows (engine.risk.rate_limits)."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config import (
    OrderFrequencyConfig,
    StrategyOrderFrequencyConfig,
    TradingConfig,
    Window,
)
from engine.orders import OrderRequest, OrderType, Side
from engine.risk.rate_limits import OrderRateLimiter, RateDecision, WindowLevel
from tests.kit.hypothesis import examples

BUY, SELL = Side.BUY, Side.SELL
OFF = OrderFrequencyConfig(enabled=False)


def limiter(
    global_: OrderFrequencyConfig = OFF, **strategies: StrategyOrderFrequencyConfig
) -> OrderRateLimiter:
    return OrderRateLimiter(
        TradingConfig(order_frequency=global_, strategy_order_frequency=strategies)
    )


def per(
    max_orders: int,
    interval: float,
    *,
    market: bool | Window = False,
    side: bool | Window = False,
    market_side: bool | Window = False,
    enabled: bool = True,
) -> StrategyOrderFrequencyConfig:
    return StrategyOrderFrequencyConfig(
        enabled=enabled,
        max_orders=max_orders,
        interval_seconds=interval,
        per_market=market,
        per_side=side,
        per_market_side=market_side,
    )


def send(lim: OrderRateLimiter, strategy: str, market: str, side: Side, now: float) -> bool:
    """What the engine does: check, and record only what was allowed."""
    allowed = lim.check(strategy, market, side, now).allowed
    if allowed:
        lim.record(strategy, market, side, now)
    return allowed


# -- global ------------------------------------------------------------------------------


def test_global_cap_refuses_the_third_order_until_the_oldest_ages_out() -> None:
    lim = limiter(OrderFrequencyConfig(max_orders=2, interval_seconds=60))
    t0 = 1_700_000_000.0
    assert send(lim, "mr", "A", BUY, t0)
    assert send(lim, "other", "B", SELL, t0 + 10)
    refused = lim.check("anything", "C", BUY, t0 + 20)
    assert refused == RateDecision(False, "order_rate_limit", "global: 2/2 in 60s")
    assert not lim.check("mr", "A", BUY, t0 + 59.999).allowed
    # The order sent at t0 counts for exactly 60 s.
    assert lim.check("mr", "A", BUY, t0 + 60) == RateDecision(True, None, None)
    lim.record("mr", "A", BUY, t0 + 60)
    assert not lim.check("mr", "A", BUY, t0 + 69.5).allowed  # t0+10 and t0+60 count
    assert lim.check("mr", "A", BUY, t0 + 70).allowed


def test_global_cap_checks_but_never_records_on_check() -> None:
    lim = limiter(OrderFrequencyConfig(max_orders=1, interval_seconds=5))
    for _ in range(10):
        assert lim.check("mr", "A", BUY, 0.0).allowed
    lim.record("mr", "A", BUY, 0.0)
    assert not lim.check("mr", "A", BUY, 4.9).allowed


def test_disabled_global_cap_never_refuses() -> None:
    lim = limiter(OrderFrequencyConfig(enabled=False, max_orders=1, interval_seconds=60))
    assert all(send(lim, "mr", "A", BUY, float(t)) for t in range(20))
    assert lim.levels(20.0) == []


def test_the_default_global_cap_is_30_per_60s() -> None:
    lim = OrderRateLimiter(TradingConfig())
    assert all(send(lim, "mr", f"M{i}", BUY, i * 0.1) for i in range(30))
    decision = lim.check("mr", "M", BUY, 3.0)
    assert decision == RateDecision(False, "order_rate_limit", "global: 30/30 in 60s")


# -- per strategy ------------------------------------------------------------------------


def test_per_strategy_cap_binds_only_its_strategy() -> None:
    lim = limiter(mr=per(2, 30))
    assert send(lim, "mr", "A", BUY, 0.0)
    assert send(lim, "mr", "B", SELL, 5.0)
    assert lim.check("mr", "C", BUY, 6.0) == RateDecision(
        False, "strategy_rate_limit", "mr: 2/2 in 30s"
    )
    # A strategy with no entry has no per-strategy cap (and the global cap is off).
    assert all(send(lim, "momentum", "A", BUY, 6.0 + i) for i in range(10))
    assert not lim.check("mr", "C", BUY, 29.9).allowed
    assert lim.check("mr", "C", BUY, 30.0).allowed


def test_a_disabled_strategy_entry_is_no_cap() -> None:
    lim = limiter(mr=per(1, 30, market=True, enabled=False))
    assert all(send(lim, "mr", "A", BUY, float(t)) for t in range(5))


def test_global_refusal_comes_before_a_strategy_refusal() -> None:
    lim = limiter(OrderFrequencyConfig(max_orders=1, interval_seconds=10), mr=per(1, 10))
    lim.record("mr", "A", BUY, 0.0)
    assert lim.check("mr", "A", BUY, 1.0).reason == "order_rate_limit"


# -- per market, per side, per market x side -----------------------------------------------


def test_per_market_window_table_a_full_market_does_not_block_another() -> None:
    lim = limiter(mr=per(5, 60, market=Window(max_orders=1, interval_seconds=10)))
    market_a = "0xabcdef0123456789"
    assert send(lim, "mr", market_a, BUY, 0.0)
    assert lim.check("mr", market_a, SELL, 1.0) == RateDecision(
        False, "strategy_rate_limit", "mr per market 0xabcdef…: 1/1 in 10s"
    )
    assert send(lim, "mr", "B", BUY, 1.0)
    assert send(lim, "mr", "C", BUY, 2.0)
    assert not lim.check("mr", market_a, BUY, 9.99).allowed
    assert send(lim, "mr", market_a, BUY, 10.0)  # its own 10 s window, not the strategy's 60
    assert send(lim, "mr", "D", BUY, 11.0)  # 5th within 60 s
    decision = lim.check("mr", "E", BUY, 12.0)
    assert decision == RateDecision(False, "strategy_rate_limit", "mr: 5/5 in 60s")


def test_per_market_true_means_the_strategys_own_limits() -> None:
    lim = limiter(mr=per(2, 30, market=True))
    lim.record("mr", "A", BUY, 0.0)
    lim.record("mr", "B", BUY, 10.0)
    levels = {(x.scope, x.key): x for x in lim.levels(10.0)}
    assert levels[("market", "mr/A")] == WindowLevel("market", "mr/A", 1, 2, 30.0, 20.0)
    assert levels[("market", "mr/B")] == WindowLevel("market", "mr/B", 1, 2, 30.0, 30.0)
    assert levels[("strategy", "mr")] == WindowLevel("strategy", "mr", 2, 2, 30.0, 20.0)
    assert {x.scope for x in lim.levels(10.0)} == {"market", "strategy"}


def test_per_side_cap() -> None:
    lim = limiter(mr=per(10, 60, side=Window(max_orders=2, interval_seconds=60)))
    assert send(lim, "mr", "A", BUY, 0.0)
    assert send(lim, "mr", "B", BUY, 1.0)
    assert lim.check("mr", "C", BUY, 2.0) == RateDecision(
        False, "strategy_rate_limit", "mr per side BUY: 2/2 in 60s"
    )
    assert send(lim, "mr", "A", SELL, 2.0)
    assert send(lim, "mr", "C", SELL, 3.0)
    assert not lim.check("mr", "D", SELL, 4.0).allowed
    assert lim.check("mr", "C", BUY, 60.0).allowed


def test_per_market_side_cap() -> None:
    lim = limiter(mr=per(10, 60, market_side=Window(max_orders=1, interval_seconds=20)))
    assert send(lim, "mr", "A", BUY, 0.0)
    assert lim.check("mr", "A", BUY, 1.0) == RateDecision(
        False, "strategy_rate_limit", "mr per market×side A BUY: 1/1 in 20s"
    )
    assert send(lim, "mr", "A", SELL, 1.0)
    assert send(lim, "mr", "B", BUY, 1.0)
    assert not lim.check("mr", "B", BUY, 2.0).allowed
    assert not lim.check("mr", "A", SELL, 20.5).allowed
    assert send(lim, "mr", "A", BUY, 20.0)


def test_all_scopes_at_once_report_the_first_full_window() -> None:
    lim = limiter(
        OrderFrequencyConfig(max_orders=100, interval_seconds=60),
        mr=per(
            3, 60, market=True, side=True, market_side=Window(max_orders=1, interval_seconds=60)
        ),
    )
    assert send(lim, "mr", "A", BUY, 0.0)
    assert lim.check("mr", "A", BUY, 1.0).detail == "mr per market×side A BUY: 1/1 in 60s"
    assert send(lim, "mr", "A", SELL, 1.0)
    assert send(lim, "mr", "B", BUY, 2.0)
    # The strategy window (3/3) and market x side A BUY (1/1) are both full: the
    # strategy window, first in order, is reported.
    assert lim.check("mr", "A", BUY, 3.0).detail == "mr: 3/3 in 60s"


# -- combined orders -----------------------------------------------------------------------


def test_combined_orders_apply_each_named_strategys_caps() -> None:
    lim = limiter(a=per(1, 60), b=per(2, 60))
    assert send(lim, "a+b", "A", BUY, 0.0)  # counts once for a and once for b
    assert lim.check("a", "A", BUY, 1.0).detail == "a: 1/1 in 60s"
    assert send(lim, "b", "B", BUY, 1.0)
    assert lim.check("b", "C", BUY, 2.0).detail == "b: 2/2 in 60s"
    assert lim.check("a+b", "C", BUY, 2.0).detail == "a: 1/1 in 60s"
    assert lim.check("b+c", "C", BUY, 2.0).detail == "b: 2/2 in 60s"
    assert lim.check("c", "C", BUY, 2.0).allowed  # c has no entry
    assert lim.check("a+b", "C", BUY, 60.0).allowed


def test_a_combined_order_counts_once_per_named_strategy_and_once_globally() -> None:
    lim = limiter(OrderFrequencyConfig(max_orders=2, interval_seconds=60), a=per(2, 60))
    lim.record("a+a", "A", BUY, 0.0)
    levels = {x.scope: x.used for x in lim.levels(0.0)}
    assert levels == {"global": 1, "strategy": 1}
    assert send(lim, "a+b", "A", BUY, 1.0)
    assert lim.check("c", "A", BUY, 2.0).reason == "order_rate_limit"


# -- restore -------------------------------------------------------------------------------


def order(created_at: float, strategy: str, market: str, side: Side) -> OrderRequest:
    return OrderRequest(
        order_id=f"r1-{created_at}",
        asset_id="T",
        market=market,
        side=side,
        price=5000,
        size=1_000_000,
        order_type=OrderType.FAK,
        strategy=strategy,
        reason="test",
        created_at=created_at,
    )


def test_restore_counts_recent_ledger_orders_and_the_next_check_is_refused() -> None:
    now = 1_700_000_000.0
    ledger = [  # newest first, as a ledger query may hand them back
        order(now - 5, "mr", "B", SELL),
        order(now - 20, "mr", "A", BUY),
        order(now - 45, "mr", "A", BUY),  # still in the global 60 s window, not in mr's 30 s
        order(now - 100, "mr", "A", BUY),  # counts nowhere
        order(now - 61, "other", "C", BUY),  # counts nowhere
    ]
    lim = limiter(OrderFrequencyConfig(max_orders=3, interval_seconds=60), mr=per(2, 30))
    lim.record("mr", "Z", BUY, now - 1)  # restore replaces whatever was held
    restored = lim.restore(((o.created_at, o.strategy, o.market, o.side) for o in ledger), now)
    assert restored == 3
    assert lim.check("other", "C", BUY, now) == RateDecision(
        False, "order_rate_limit", "global: 3/3 in 60s"
    )
    # The order at now-45 leaves the global window at now+15; mr is still full until now+10.
    assert lim.check("mr", "C", BUY, now + 9.5).reason == "order_rate_limit"
    assert not lim.check("mr", "C", BUY, now + 14).allowed
    assert lim.check("other", "C", BUY, now + 15).allowed
    assert lim.check("mr", "C", BUY, now + 15) == RateDecision(True, None, None)


def test_restore_of_a_full_strategy_window() -> None:
    now = 500.0
    lim = limiter(mr=per(2, 30, market=True))
    orders = [(now - 29, "mr", "A", BUY), (now - 1, "a+mr", "A", SELL), (now - 31, "mr", "A", BUY)]
    assert lim.restore(orders, now) == 2
    assert WindowLevel("market", "mr/A", 2, 2, 30.0, 1.0) in lim.levels(now)
    assert lim.check("mr", "B", BUY, now).detail == "mr: 2/2 in 30s"
    assert lim.check("mr", "B", BUY, now + 1).allowed
    assert lim.check("mr", "A", BUY, now + 1).allowed
    assert lim.restore([], now) == 0
    assert lim.check("mr", "A", BUY, now).allowed


# -- levels --------------------------------------------------------------------------------


def test_levels_contents_and_ordering() -> None:
    lim = limiter(
        OrderFrequencyConfig(max_orders=10, interval_seconds=60),
        mr=per(4, 30, market=Window(max_orders=2, interval_seconds=20), side=True),
        idle=per(5, 60),
    )
    lim.record("mr", "A", BUY, 0.0)
    lim.record("mr", "A", BUY, 5.0)
    lim.record("mr", "B", SELL, 8.0)
    levels = lim.levels(10.0)
    assert levels == [
        WindowLevel("market", "mr/A", 2, 2, 20.0, 10.0),  # full
        WindowLevel("strategy", "mr", 3, 4, 30.0, 20.0),
        WindowLevel("side", "mr/BUY", 2, 4, 30.0, 20.0),
        WindowLevel("market", "mr/B", 1, 2, 20.0, 18.0),
        WindowLevel("global", "", 3, 10, 60.0, 50.0),
        WindowLevel("side", "mr/SELL", 1, 4, 30.0, 28.0),
        WindowLevel("strategy", "idle", 0, 5, 60.0, 0.0),
    ]
    assert [(x.scope, x.key) for x in lim.levels(10.0, near=0.5)] == [
        ("market", "mr/A"),
        ("strategy", "mr"),
        ("side", "mr/BUY"),
        ("market", "mr/B"),
    ]
    # At 22 the order at 0 has left market A (its window is 20 s), not the others.
    later = {(x.scope, x.key): x.used for x in lim.levels(22.0)}
    assert later == {
        ("market", "mr/A"): 1,
        ("market", "mr/B"): 1,
        ("strategy", "mr"): 3,
        ("side", "mr/BUY"): 2,
        ("side", "mr/SELL"): 1,
        ("global", ""): 3,
        ("strategy", "idle"): 0,
    }
    # Keyed windows disappear once nothing counts in them; the scope-wide ones stay.
    assert [(x.scope, x.key, x.used) for x in lim.levels(100.0)] == [
        ("global", "", 0),
        ("strategy", "idle", 0),
        ("strategy", "mr", 0),
    ]


def test_levels_near_excludes_empty_windows() -> None:
    lim = limiter(OrderFrequencyConfig(max_orders=10, interval_seconds=60), mr=per(2, 30))
    assert lim.levels(0.0, near=0.01) == []
    lim.record("mr", "A", BUY, 0.0)
    assert lim.levels(0.0, near=0.5) == [WindowLevel("strategy", "mr", 1, 2, 30.0, 30.0)]


def test_record_out_of_time_order_is_kept_in_order() -> None:
    lim = limiter(mr=per(2, 10))
    lim.record("mr", "A", BUY, 5.0)
    lim.record("mr", "A", BUY, 1.0)  # the clock went back
    assert lim.levels(5.0) == [WindowLevel("strategy", "mr", 2, 2, 10.0, 6.0)]
    assert not lim.check("mr", "A", BUY, 10.5).allowed  # both still count
    assert lim.check("mr", "A", BUY, 11.0).allowed


# -- property: an independent brute-force count agrees -------------------------------------

STRATEGY_NAMES = ["a", "b", "c"]
MARKETS = ["M1", "M2", "M3"]
INTERVALS = [1.0, 2.5, 5.0, 10.0]


@st.composite
def windows(draw: st.DrawFn) -> bool | Window:
    kind = draw(st.sampled_from(["off", "own", "table", "table"]))
    if kind == "off":
        return False
    if kind == "own":
        return True
    # Tighter than a strategy's own limits as a rule, so keyed windows fill first.
    return Window(
        max_orders=draw(st.integers(1, 3)), interval_seconds=draw(st.sampled_from(INTERVALS))
    )


@st.composite
def configs(draw: st.DrawFn) -> TradingConfig:
    strategies = {}
    for name in draw(st.lists(st.sampled_from(STRATEGY_NAMES), min_size=1, unique=True)):
        strategies[name] = StrategyOrderFrequencyConfig(
            enabled=draw(st.booleans()),
            max_orders=draw(st.integers(1, 8)),
            interval_seconds=draw(st.sampled_from(INTERVALS)),
            per_market=draw(windows()),
            per_side=draw(windows()),
            per_market_side=draw(windows()),
        )
    return TradingConfig(
        order_frequency=OrderFrequencyConfig(
            enabled=draw(st.booleans()),
            max_orders=draw(st.integers(2, 12)),
            interval_seconds=draw(st.sampled_from(INTERVALS)),
        ),
        strategy_order_frequency=strategies,
    )


intents = st.lists(
    st.tuples(
        st.sampled_from(["a", "a", "b", "c", "d", "a+b", "b+c", "a+c+d"]),
        st.sampled_from(MARKETS),
        st.sampled_from([BUY, SELL]),
        st.sampled_from([0.0, 0.0, 0.1, 0.25, 0.5, 1.0, 2.5, 6.0]),  # time steps
    ),
    min_size=5,
    max_size=80,
)

ModelWindow = tuple[tuple[str, ...], int, float]  # (window id, max orders, interval)


def model_windows(
    config: TradingConfig, strategy: str, market: str, side: Side
) -> list[ModelWindow]:
    """Every window an order falls in, worked out from the config alone."""
    out: list[ModelWindow] = []
    g = config.order_frequency
    if g.enabled:
        out.append((("global",), g.max_orders, g.interval_seconds))
    for name in dict.fromkeys(strategy.split("+")):
        s = config.strategy_order_frequency.get(name)
        if s is None or not s.enabled:
            continue
        keys = {
            "strategy": (),
            "market": (market,),
            "side": (str(side),),
            "market_side": (market, str(side)),
        }
        for scope, key in keys.items():
            w = s.window(scope)
            if w is not None:
                out.append(((name, scope, *key), w.max_orders, w.interval_seconds))
    return out


def brute_count(sent: list[tuple[float, set[ModelWindow]]], window: ModelWindow, now: float) -> int:
    """Recorded orders that fall in `window` and were sent less than its interval ago."""
    interval = window[2]
    return sum(1 for at, windows in sent if window in windows and at + interval > now)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs(), intents)
def test_property_limiter_agrees_with_a_brute_force_count(
    config: TradingConfig, stream: list[tuple[str, str, Side, float]]
) -> None:
    lim = OrderRateLimiter(config)
    sent: list[tuple[float, set[ModelWindow]]] = []
    ledger: list[tuple[float, str, str, Side]] = []
    now = 1000.0
    for strategy, market, side, step in stream:
        now += step
        applicable = model_windows(config, strategy, market, side)
        full = [w for w in applicable if brute_count(sent, w, now) >= w[1]]
        decision = lim.check(strategy, market, side, now)
        assert decision.allowed == (not full), (decision, full)
        if decision.allowed:
            lim.record(strategy, market, side, now)
            sent.append((now, set(applicable)))
            ledger.append((now, strategy, market, side))
        else:
            expected = "order_rate_limit" if full[0][0] == ("global",) else "strategy_rate_limit"
            assert decision.reason == expected
            assert decision.detail

    # Safety, counted independently: no window ever held more than max_orders recorded
    # orders within any interval (an interval's worst case starts at one of its orders).
    groups: dict[ModelWindow, list[float]] = defaultdict(list)
    for at, windows in sent:
        for window in windows:
            groups[window].append(at)
    for (wid, max_orders, interval), times in groups.items():
        for start in times:
            inside = sum(1 for t in times if start <= t < start + interval)
            assert inside <= max_orders, (wid, start, times)

    # The snapshot agrees with the count, and a restart resumes the same windows.
    used = {(x.scope, x.key): x.used for x in lim.levels(now)}
    for window in groups:
        count = brute_count(sent, window, now)
        wid = window[0]
        scope = "global" if wid == ("global",) else wid[1]
        key = "" if scope == "global" else "/".join((wid[0], *wid[2:]))
        assert used.get((scope, key), 0) == count
    restored = OrderRateLimiter(config)
    assert restored.restore(reversed(ledger), now) == sum(
        1 for at, windows in sent if any(at + w[2] > now for w in windows)
    )
    assert restored.levels(now) == lim.levels(now)
    for strategy, market, side, step in stream[:10]:
        assert restored.check(strategy, market, side, now + step) == lim.check(
            strategy, market, side, now + step
        )


@pytest.mark.parametrize("strategy", ["mr", "mr+x"])
def test_check_allocates_no_decision_when_allowed(strategy: str) -> None:
    lim = limiter(
        OrderFrequencyConfig(max_orders=10, interval_seconds=60),
        mr=per(10, 60, market=True, side=True, market_side=True),
    )
    first = lim.check(strategy, "A", BUY, 0.0)
    assert lim.check(strategy, "B", SELL, 1.0) is first


# -- a person's own orders ---------------------------------------------------------------


def test_a_full_global_window_never_refuses_a_persons_order_but_counts_it() -> None:
    lim = limiter(OrderFrequencyConfig(enabled=True, max_orders=2, interval_seconds=60))
    assert send(lim, "momentum_scalping", "m1", BUY, 0.0)
    assert send(lim, "mean_reversion", "m2", BUY, 1.0)
    assert not lim.check("mean_reversion", "m3", BUY, 2.0).allowed
    assert send(lim, "manual", "m3", BUY, 2.0)  # the owner is not locked out by the bot
    # ...and the person's order counted: the bot waits for two slots to free, not one.
    assert not lim.check("momentum_scalping", "m1", BUY, 60.5).allowed
    assert lim.check("momentum_scalping", "m1", BUY, 61.5).allowed


def test_a_configured_manual_window_caps_a_persons_orders() -> None:
    lim = limiter(
        OrderFrequencyConfig(enabled=True, max_orders=100, interval_seconds=60),
        manual=per(2, 60),
    )
    assert send(lim, "manual", "m1", BUY, 0.0)
    assert send(lim, "manual", "m1", BUY, 1.0)
    decision = lim.check("manual", "m1", BUY, 2.0)
    assert not decision.allowed
    assert decision.reason == "strategy_rate_limit"

"""Live trading's own limits: the canary allowlists (a person's orders exempt from the
strategies one), no entries near a market's end, notional per order and per trading day
(counted again after a restart), and the size scale."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from engine.config import LiveConfig
from engine.market.markets import MarketInfo, Outcome
from engine.orders import MANUAL, OrderRequest, OrderType, Side
from engine.risk.live_limits import LiveLimits, day_start

SHARES = 10**6
USDC = 10**10
NOON = datetime(2026, 3, 12, 12, tzinfo=UTC).timestamp()
MARKET = MarketInfo(
    "0xm",
    "Will it?",
    "will-it",
    (Outcome("Y", "Yes"), Outcome("N", "No")),
    end_date="2026-03-12T18:00:00Z",
)


def limits(**config: object) -> LiveLimits:
    return LiveLimits(
        LiveConfig.model_validate(config),
        0,
        lambda cid: MARKET if cid == MARKET.condition_id else None,
    )


def entry(at: float, price: int, size: int, *, exit_: bool = False) -> OrderRequest:
    return OrderRequest(
        "r1-1", "Y", "0xm", Side.BUY, price, size, OrderType.FAK, "s", "r", at, is_exit=exit_
    )


def test_the_canary_lets_only_its_strategies_enter_its_markets() -> None:
    canary = limits(strategies=["mean_reversion"], markets=["will-it"])
    assert canary.screen("mean_reversion", "0xm", NOON) is None
    assert canary.screen("momentum_scalping", "0xm", NOON)[0] == "live_strategy"  # type: ignore[index]
    refused = canary.screen("mean_reversion+momentum_scalping", "0xm", NOON)
    assert refused is not None
    assert refused[0] == "live_strategy"
    assert canary.screen(MANUAL, "0xm", NOON) is None  # a person's own order
    assert canary.screen("mean_reversion", "0xother", NOON)[0] == "live_market"  # type: ignore[index]
    assert limits(markets=["0xm"]).screen("s", "0xm", NOON) is None  # by condition id too


def test_no_entry_within_the_configured_time_of_a_markets_end() -> None:
    six_hours = 6 * 3600
    assert limits(no_entries_before_end_s=six_hours - 1).screen("s", "0xm", NOON) is None
    refused = limits(no_entries_before_end_s=six_hours + 1).screen("s", "0xm", NOON)
    assert refused is not None
    assert refused[0] == "market_ending"
    assert limits(no_entries_before_end_s=0).screen("s", "0xm", NOON + six_hours) is None


def test_notional_caps_cut_an_entry_and_the_day_runs_out() -> None:
    capped = limits(max_order_notional="10", max_daily_notional="25", no_entries_before_end_s=0)
    assert capped.screen("s", "0xm", NOON) is None
    # 40 shares at 0.50 is $20: the order cap allows 20 shares.
    assert capped.cuts(40 * SHARES, 5000) == [("live max order notional", 20 * SHARES)]
    capped.record(entry(NOON, 5000, 20 * SHARES))  # $10
    capped.record(entry(NOON, 5000, 20 * SHARES, exit_=True))  # exits never count
    capped.record(entry(NOON, 5000, 20 * SHARES))  # $20 in all
    assert capped.cuts(20 * SHARES, 5000) == [("live daily notional", 10 * SHARES)]
    capped.record(entry(NOON, 5000, 10 * SHARES))  # $25: the day's cap
    refused = capped.screen("s", "0xm", NOON)
    assert refused is not None
    assert refused[0] == "live_daily_notional"
    tomorrow = NOON + 86_400
    assert capped.screen("s", "0xm", tomorrow) is None
    assert capped.day_left(tomorrow) == 25 * USDC


def test_a_restart_counts_the_days_entries_already_sent() -> None:
    sent = [(NOON - 86_400, 50 * USDC), (NOON - 60, 15 * USDC)]  # yesterday's is not today's
    restarted = LiveLimits(LiveConfig(max_daily_notional=Decimal(20)), 0, lambda c: None, sent)
    assert restarted.day_left(NOON) == 5 * USDC


def test_the_size_scale_trades_a_fraction_of_papers_size() -> None:
    assert limits(size_scale="0.25").cuts(10 * SHARES, 1000) == [("live size scale", 2_500_000)]


def test_the_trading_day_starts_at_the_reset_hour() -> None:
    assert day_start(NOON, 0) == datetime(2026, 3, 12, tzinfo=UTC).timestamp()
    assert day_start(NOON, 14) == datetime(2026, 3, 11, 14, tzinfo=UTC).timestamp()

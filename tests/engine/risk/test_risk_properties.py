"""Hypothesis over the whole core: random books and random intent streams never break a
cap (rate windows, position, market, event and total exposure, cash), and cash plus
position cost stays conserved through fills, fees and settlements."""

from __future__ import annotations

import asyncio
import json
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config import EngineConfig
from engine.execution.portfolio import Portfolio
from engine.fixed import CASH_DIGITS, ONE, SIZE_DIGITS, decimal_to_fixed
from engine.market.fees import FeeSchedule
from engine.market.markets import MarketInfo, Outcome
from engine.orders import Side
from engine.risk.sizing import Holding, exposure
from engine.strategies.base import MarketContext, Signal
from tests.kit.engine import open_rig
from tests.kit.hypothesis import examples

FEES = FeeSchedule(Decimal("0.25"), Decimal("2"))
# Three markets; A and B are outcomes of one event (a basket), C stands alone.
MARKETS = [
    MarketInfo("mA", "A?", "a", (Outcome("A1", "Yes"), Outcome("A0", "No")), event_id="E"),
    MarketInfo("mB", "B?", "b", (Outcome("B1", "Yes"), Outcome("B0", "No")), event_id="E"),
    MarketInfo("mC", "C?", "c", (Outcome("C1", "Yes"), Outcome("C0", "No")), fees=FEES),
]
TOKENS = [t for m in MARKETS for t in m.token_ids]
CAPS = {
    "max_order_shares": "20",
    "max_position_shares": "40",
    "max_market_exposure": "12",
    "max_event_exposure": "18",
    "max_total_exposure": "25",
    "bankroll_fraction": "0.02",
}
WINDOW = (3, 5.0)  # global: 3 orders per 5 s
PER_MARKET = (1, 2.0)


class Random:
    """A strategy that says what the test tells it to, on the token it is told."""

    name = "rnd"
    weight = 1.0

    def __init__(self) -> None:
        self.wants: dict[str, tuple[Side, float]] = {}

    def on_tick(self, ctx: MarketContext) -> Signal | None:
        want = self.wants.pop(ctx.asset_id, None)
        if want is None:
            return None
        side, strength = want
        return Signal(self.name, ctx.asset_id, side, strength, "random", side is Side.SELL)


def book_frame(token: str, bid: int, ask: int, size: int, ts: int) -> dict[str, object]:
    # The books are independent here (no YES/NO mirror): only the caps are under test.
    return {
        "event_type": "book",
        "asset_id": token,
        "market": next(m.condition_id for m in MARKETS if token in m.token_ids),
        "bids": [{"price": f"{bid / ONE:.2f}", "size": str(size)}],
        "asks": [{"price": f"{ask / ONE:.2f}", "size": str(size)}],
        "timestamp": str(ts),
        "hash": "",
    }


step = st.tuples(
    st.sampled_from(TOKENS),
    st.integers(5, 90),  # bid, in cents
    st.integers(1, 5),  # spread, in cents
    st.integers(1, 200),  # shares shown
    st.sampled_from([Side.BUY, Side.BUY, Side.SELL]),
    st.floats(0.5, 1.0),
    st.floats(0.0, 3.0),  # seconds until the next step
)


@settings(
    max_examples=examples(60),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(step, min_size=5, max_size=60), st.sampled_from([None, "A1", "C0"]))
def test_random_intents_never_break_a_cap(
    steps: list[tuple[str, int, int, int, Side, float, float]], resolve: str | None
) -> None:
    asyncio.run(_run(steps, resolve))


async def _run(
    steps: list[tuple[str, int, int, int, Side, float, float]], winner: str | None
) -> None:
    config = EngineConfig.model_validate(
        {
            "strategy": {"order_size": "20", "entry_cooldown_s": 0, "threshold": 0.5},
            "risk": CAPS,
            "exits": {"take_profit": "0", "stop_loss": "0", "max_holding_s": 0},
            "paper": {"starting_cash": "1000"},
            "trading": {
                "daily_loss_enabled": False,
                "order_frequency": {"max_orders": WINDOW[0], "interval_seconds": WINDOW[1]},
                "strategy_order_frequency": {
                    "rnd": {
                        "max_orders": 10,
                        "interval_seconds": 60,
                        "per_market": {
                            "max_orders": PER_MARKET[0],
                            "interval_seconds": PER_MARKET[1],
                        },
                    }
                },
            },
        }
    )
    strategy = Random()
    with tempfile.TemporaryDirectory() as tmp:
        r = await open_rig(Path(tmp) / "l.sqlite", [strategy], config, markets=MARKETS, t0=1000.0)
        core, clock = r.core, r.clock
        try:
            ts = 1_000_000
            for token, bid_c, spread_c, shares, side, strength, wait in steps:
                clock.advance_to(clock.time() + wait)
                core.on_timer()
                ts += 1000
                bid = bid_c * 100
                ask = min(bid + spread_c * 100, 9900)
                strategy.wants[token] = (side, strength)
                core.on_frame(json.dumps(book_frame(token, bid, ask, shares, ts)), clock.time())
                core.decide()
                entries = [(o.created_at, o.market) for o in r.sent if not o.is_exit]
                _check_caps(core, entries)
            if winner is not None:
                market = next(m for m in MARKETS if winner in m.token_ids)
                before = r.cash
                held = {t: r.position(t) for t in market.token_ids}
                core.settle(market, winner)
                assert r.cash - before == held[winner] * ONE
            _check_conservation(core.accounting.portfolio)
        finally:
            await r.close()


def _check_caps(core: object, entries: list[tuple[float, str]]) -> None:
    from engine.runtime.core import EngineCore

    assert isinstance(core, EngineCore)
    # Rate windows: never more orders in any window than it allows.
    for i, (t, market) in enumerate(entries):
        later = entries[i:]
        assert sum(1 for u, _ in later if u < t + WINDOW[1]) <= WINDOW[0]
        assert sum(1 for u, m in later if m == market and u < t + PER_MARKET[1]) <= PER_MARKET[0]
    portfolio = core.accounting.portfolio
    max_position = decimal_to_fixed(Decimal(CAPS["max_position_shares"]), SIZE_DIGITS)
    cash_cap = {k: decimal_to_fixed(Decimal(CAPS[k]), CASH_DIGITS) for k in CAPS if "exposure" in k}
    per_market: dict[str, int] = {}
    for m in MARKETS:
        shares = {t: portfolio.position(t) for t in m.token_ids}
        cost = sum(p.cost for t in m.token_ids if (p := portfolio.positions.get(t)) and p.shares)
        for t, held in shares.items():
            assert held <= max_position, (t, held)
        per_market[m.condition_id] = exposure(Holding(shares, cost))
        assert per_market[m.condition_id] <= cash_cap["max_market_exposure"]
    assert per_market["mA"] + per_market["mB"] <= cash_cap["max_event_exposure"]
    assert sum(per_market.values()) <= cash_cap["max_total_exposure"]
    assert portfolio.cash >= 0
    # Every share held belongs to exactly one lot.
    for asset, pos in portfolio.positions.items():
        assert sum(lot.shares for lot in core.accounting.lots.of(asset).values()) == pos.shares


def _check_conservation(portfolio: Portfolio) -> None:
    cost = sum(p.cost for p in portfolio.positions.values())
    assert portfolio.cash + cost == portfolio.starting_cash + portfolio.realized

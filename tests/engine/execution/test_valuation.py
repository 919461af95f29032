"""Complete YES/NO sets are worth no less than the 1 they pay.

Reproduced on the old code: a YES/NO pair bought for exactly 1 (asks 0.42 + 0.58) was
marked at its bids (0.40 + 0.56) and showed -0.40 unrealized on 10 pairs, the spread
booked as a loss that can never be realised (the pair pays 1 at resolution and merges
into 1 USDC at any time). Enough such pairs could trip the daily-loss kill switch.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from engine.execution.portfolio import Portfolio
from engine.execution.valuation import ValueBook, set_credit
from engine.fixed import ONE
from engine.orders import Fill, Liquidity, Side
from engine.strategies.base import Signal
from tests.kit.engine import OPEN, Once, level
from tests.kit.engine import open_rig as rig


def test_the_credit_is_split_exactly_and_only_for_complete_sets() -> None:
    # 3 sets (1e-6 units) with bids 0.40 + 0.55: 0.05 x 3 = 0.15 of credit, odd unit first.
    a = set_credit("A", 3, 4000, "B", 5, 5500)
    b = set_credit("B", 5, 5500, "A", 3, 4000)
    assert a + b == 3 * 500
    assert (a, b) == (750, 750)
    assert set_credit("A", 3, 4001, "B", 3, 5500) == 3 * 499 // 2 + 1  # the odd unit
    assert set_credit("B", 3, 5500, "A", 3, 4001) == 3 * 499 // 2
    assert set_credit("A", 0, 4000, "B", 5, 5500) == 0  # no set without both legs
    assert set_credit("A", 3, 4500, "B", 3, 5500) == 0  # bids already sum to 1
    assert set_credit("A", 3, 4600, "B", 3, 5500) == 0  # and above 1, the bids say more


PRICES = st.integers(min_value=1, max_value=ONE - 1)
SHARES = st.integers(min_value=0, max_value=10**9)


@given(SHARES, PRICES, SHARES, PRICES)
def test_a_market_is_worth_its_bids_plus_its_sets_topped_up_to_one(
    yes: int, yes_bid: int, no: int, no_bid: int
) -> None:
    portfolio = Portfolio(10**20)
    for asset, shares in (("Y", yes), ("N", no)):
        if shares:
            fill = Fill("f" + asset, "o", asset, "m", Side.BUY, 1, shares, 0, Liquidity.TAKER, 0.0)
            portfolio.apply(fill)
    bids = {"Y": yes_bid, "N": no_bid}
    values = ValueBook(portfolio, bids.get, {"Y": "N", "N": "Y"}.get)
    values.revalue("Y")
    at_bids = yes * yes_bid + no * no_bid
    sets = min(yes, no)
    assert values.total == at_bids + sets * max(0, ONE - yes_bid - no_bid)
    assert values.total >= at_bids
    assert values.total >= sets * ONE  # a set never counts for less than it pays


async def test_a_yes_no_pair_bought_for_one_shows_no_loss(tmp_path: Path) -> None:
    buy_yes = Once(
        "yes", 1.0, lambda c: Signal("yes", "Y", Side.BUY, 1.0, "y") if c.asset_id == "Y" else None
    )
    buy_no = Once(
        "no", 1.0, lambda c: Signal("no", "N", Side.BUY, 1.0, "n") if c.asset_id == "N" else None
    )
    r = await rig(tmp_path / "l.sqlite", [buy_yes, buy_no], {"strategy": {"order_style": "take"}})
    assert r.frame(*OPEN) == 2
    assert r.position("Y") == r.position("N") == 10 * 10**6
    snap = r.engine.builder.build()
    # Bought at the asks, 0.42 + 0.58 = 1.00 a pair, no fees: worth exactly what it cost,
    # not the -0.40 its bids (0.40 + 0.56) would say.
    assert snap.unrealized_pnl == 0
    assert snap.equity == Decimal(1000)
    assert sum(p.unrealized for p in snap.positions) == snap.unrealized_pnl
    assert [p.mark for p in snap.positions] == [Decimal("0.4"), Decimal("0.56")]
    # The YES is sold at its 0.40 bid: no set is left, and the lone NO bought at 0.58
    # counts at its 0.56 bid.
    out = Signal("yes", "Y", Side.SELL, 1.0, "out", is_exit=True)
    r.core.strategies.append(Once("yes", 1.0, lambda c: out if c.asset_id == "Y" else None))
    r.frame(level("Y", "0.40", "100", "BUY"))
    assert r.position("Y") == 0
    left = r.engine.builder.build()
    assert left.realized_pnl == Decimal("-0.2")  # 10 sold 0.02 under their cost
    assert left.unrealized_pnl == Decimal("-0.2")  # 10 NO, 0.02 under their cost
    await r.ledger.close()

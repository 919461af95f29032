"""Defects a review of the strategies and sentiment work found, each as a test that
failed before its fix (the docstrings say what was wrong)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from engine.market.fees import FeeSchedule
from engine.orders import Side
from engine.strategies.base import Signal
from tests.engine.test_decisions import MARKET, OPEN, BasketOnce, Once, book, level, pair, rig

FEED = replace(MARKET, fees=FeeSchedule(rate=Decimal("0.25"), exponent=Decimal("1")))


async def test_strategy_pnl_adds_up_to_the_accounts_pnl_when_fees_are_paid(
    tmp_path: Path,
) -> None:
    buyer = Once(
        "buyer",
        1.0,
        lambda ctx: Signal("buyer", "Y", Side.BUY, 1.0, "in") if ctx.asset_id == "Y" else None,
    )
    r = await rig(tmp_path / "l.sqlite", [buyer], {"strategy": {"max_slippage_ticks": 0}})
    r.core.on_markets([FEED])
    r.frame(*OPEN)  # buys 10 YES at 0.42, paying a taker fee
    assert r.core.portfolio.position("Y") == 10 * 10**6
    assert r.core.portfolio.fees > 0
    r.frame(level("Y", "0.41", "100", "BUY"))  # the bid moves: still held
    snap = r.parts.builder.build()
    row = next(s for s in snap.strategies if s.name == "buyer")
    account = snap.realized_pnl + snap.unrealized_pnl
    # One strategy, one position: its PnL is the account's PnL (the fee is a cost to both).
    assert row.pnl == account, (row.pnl, account, row.fees)
    assert row.pnl == row.price_moves - row.spread_paid - row.fees
    await r.ledger.close()


async def test_a_complete_pair_is_not_sold_leg_by_leg_by_the_global_max_holding(
    tmp_path: Path,
) -> None:
    """BASKET_LEG_EXITS says basket legs are "hedged and held to resolution", but it only
    turns off take-profit and stop-loss: the global [exits] max_holding_s (3600 by
    default) still sells each leg into its bid, giving the spread back."""
    r = await rig(tmp_path / "l.sqlite", [BasketOnce(pair(10 * 10**6, yes=4200, no=5200))])
    r.frame(
        book("Y", [("0.40", "100")], [("0.42", "100")]),
        book("N", [("0.50", "100")], [("0.52", "100")]),
    )
    assert r.core.portfolio.position("Y") == 10 * 10**6
    assert r.core.portfolio.position("N") == 10 * 10**6
    r.tick(0.2)  # the basket resolves "complete"
    r.clock.advance_to(r.clock.time() + 3_601.0)
    # The books go on ticking (a fresh book: an exit is not held as stale).
    r.frame(level("Y", "0.40", "90", "BUY"), level("N", "0.50", "90", "BUY"))
    r.tick(0.2)
    sells = [o for o in r.sent if o.side.value == "SELL"]
    assert sells == [], [(o.asset_id, o.reason) for o in sells]
    await r.ledger.close()

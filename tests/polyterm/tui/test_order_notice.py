"""The notice after a manual order says where it stands: a live order as the venue last
said (live, matched, mined, ...), a paper order by the engine's own status."""

from __future__ import annotations

from decimal import Decimal

from engine.runtime.snapshot import OrderRow
from engine.venue import TradingMode
from polyterm.tui.screens.order import describe_order
from tests.kit.snapshots import blank_snapshot


def _order(status: str, venue_status: str = "") -> OrderRow:
    return OrderRow(
        order_id="m1",
        asset_id="111",
        question="Will it rain in Paris tomorrow?",
        outcome="Yes",
        side="buy",
        order_type="GTC",
        price=Decimal("0.42"),
        size=Decimal(10),
        filled=Decimal(4),
        status=status,
        strategy="manual",
        created_at=0.0,
        venue_status=venue_status,
    )


def test_a_live_orders_notice_says_the_venues_status() -> None:
    snap = blank_snapshot(mode=TradingMode.LIVE, orders=(_order("matched", "mined"),))
    said = describe_order("m1", snap)
    assert said.startswith("m1 mined: buy 10.00 at 42.0¢, 4.00 filled")


def test_a_paper_orders_notice_says_its_own_status() -> None:
    said = describe_order("m1", blank_snapshot(orders=(_order("partially_filled"),)))
    assert said.startswith("m1 partially filled: buy 10.00 at 42.0¢, 4.00 filled")

"""The detail screen's status line: when the market ends (or that the venue gives no end
date), and where it stands: open and taking orders, closed, or resolved with the outcome
that won, for the token held and for its complement."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from engine.runtime.snapshot import MarketRow
from polyterm.tui.screens.detail import market_status

YES, NO = "111", "222"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC).timestamp()


def _row(**changes: object) -> MarketRow:
    row = MarketRow(
        asset_id=YES,
        market="0xabc",
        question="Will it rain in Paris tomorrow?",
        outcome="Yes",
        best_bid=Decimal("0.40"),
        best_ask=Decimal("0.42"),
        bid_size=Decimal(100),
        ask_size=Decimal(100),
        spread=Decimal("0.02"),
        last_trade=None,
        tick=Decimal("0.01"),
        version=1,
        needs_snapshot=False,
        complement=NO,
        end_date="2026-12-09T18:30:00Z",
    )
    return msgspec.structs.replace(row, **changes)


def test_an_open_market_says_when_it_ends_and_that_it_takes_orders() -> None:
    line = market_status(_row(), NOW, None).plain
    assert "ends 2026-12-09 18:30 UTC (in 2d06h)" in line
    assert "status open, taking orders" in line


def test_a_market_past_its_end_date_that_takes_no_orders_is_closed() -> None:
    line = market_status(_row(accepting_orders=False), NOW + 3 * 86400, None).plain
    assert "ends 2026-12-09 18:30 UTC (past its end date)" in line
    assert "status closed: not taking orders" in line
    assert "open" not in line


def test_a_resolved_market_names_the_outcome_that_won() -> None:
    won = market_status(_row(accepting_orders=False, winner=YES), NOW, "Yes").plain
    assert "status resolved: Yes won" in won
    lost = market_status(_row(accepting_orders=False, winner=NO), NOW, "No").plain
    assert "status resolved: No won" in lost
    assert "closed" not in won + lost


def test_a_market_without_an_end_date_says_the_venue_gave_none() -> None:
    line = market_status(_row(end_date=""), NOW, None).plain
    assert "ends — (the venue gives no end date)" in line

"""Our orders at the venue and the reports their trades make: a fill reported once, its
status moving only forward whatever order the messages come in, a failed trade reported
for the order manager to undo, an order done once the venue matched its signed size."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.adapters.polymarket.live.orders import VenueOrders
from engine.adapters.polymarket.live.wire import TRADE_RANK, MakerPart, VenueTrade
from engine.orders import OrderStatus, Side
from engine.venue import FillReport, OrderUpdate, TradeStatus, TradeUpdate
from tests.kit.hypothesis import examples

KEY = "key"
SHARES = 10**6


def taker(trade_id: str, status: TradeStatus, size: int = 5 * SHARES) -> VenueTrade:
    return VenueTrade(
        trade_id, status, "0xv1", KEY, "TAKER", "Y", "0xm", Side.BUY, 5000, size, (), 1.0
    )


def orders() -> VenueOrders:
    book = VenueOrders(KEY, "0xw", lambda asset: None)
    book.add("r1-1", "0xv1", 5 * SHARES, "Y")
    return book


def never_seen(fill_id: str) -> bool:
    return False


def test_a_fill_is_reported_once_then_only_its_new_statuses() -> None:
    book = orders()
    first = book.trade_reports(taker("t1", TradeStatus.MATCHED), never_seen)
    assert [type(r) for r in first] == [FillReport, OrderUpdate]
    assert isinstance(first[1], OrderUpdate)
    assert first[1].status is OrderStatus.FILLED  # the signed size, matched
    assert book.trade_reports(taker("t1", TradeStatus.MATCHED), never_seen) == []
    mined = book.trade_reports(taker("t1", TradeStatus.MINED), never_seen)
    assert [(r.fill_id, r.status) for r in mined if isinstance(r, TradeUpdate)] == [
        ("t1", TradeStatus.MINED)
    ]
    assert book.trade_reports(taker("t1", TradeStatus.MATCHED), never_seen) == []  # late, old


def test_a_trade_first_seen_failed_is_nothing_to_count() -> None:
    assert orders().trade_reports(taker("t1", TradeStatus.FAILED), never_seen) == []


def test_a_fill_counted_by_an_earlier_run_reports_only_its_later_statuses() -> None:
    book = orders()
    counted = {"t1"}.__contains__
    assert book.trade_reports(taker("t1", TradeStatus.MATCHED), counted) == []
    (confirmed,) = book.trade_reports(taker("t1", TradeStatus.CONFIRMED), counted)
    assert confirmed == TradeUpdate("t1", TradeStatus.CONFIRMED, 1.0)
    book2 = orders()
    (failed,) = book2.trade_reports(taker("t1", TradeStatus.FAILED), counted)
    assert failed == TradeUpdate("t1", TradeStatus.FAILED, 1.0)


def test_a_fill_of_an_order_nobody_knows_keeps_the_venues_order_id() -> None:
    book = orders()
    stranger = replace(taker("t9", TradeStatus.MATCHED), taker_order_id="0xstranger")
    (report,) = book.trade_reports(stranger, never_seen)
    assert isinstance(report, FillReport)
    assert report.fill.order_id == "0xstranger"
    assert book.stranger_fills == 1


def test_our_maker_part_of_a_trade_fills_our_resting_order() -> None:
    book = orders()
    made = VenueTrade(
        "t2",
        TradeStatus.MATCHED,
        "0xsomeone",
        "other",
        "MAKER",
        "Y",
        "0xm",
        Side.SELL,
        5000,
        2 * SHARES,
        (MakerPart("0xv1", KEY, "0xw", "Y", Side.BUY, 5000, 2 * SHARES),),
        1.0,
    )
    (fill,) = book.trade_reports(made, never_seen)
    assert isinstance(fill, FillReport)
    assert (fill.fill.order_id, fill.fill.size, fill.fill.fee) == ("r1-1", 2 * SHARES, 0)


STATUSES = st.sampled_from(list(TradeStatus))


@settings(max_examples=examples(300))
@given(st.lists(st.tuples(st.sampled_from(["t1", "t2", "t3"]), STATUSES), max_size=30))
def test_whatever_order_messages_come_in_each_fill_counts_once_and_never_moves_back(
    messages: list[tuple[str, TradeStatus]],
) -> None:
    book = VenueOrders(KEY, "0xw", lambda asset: None)
    book.add("r1-1", "0xv1", 100 * SHARES, "Y")
    counted: dict[str, int] = {}
    last: dict[str, TradeStatus] = {}
    for trade_id, status in messages:
        for report in book.trade_reports(taker(trade_id, status, SHARES), never_seen):
            if isinstance(report, FillReport):
                counted[report.fill.fill_id] = counted.get(report.fill.fill_id, 0) + 1
                last[report.fill.fill_id] = report.status
            elif isinstance(report, TradeUpdate):
                assert report.fill_id in counted  # a status only for a fill reported
                before = last[report.fill_id]
                assert TRADE_RANK[report.status] >= TRADE_RANK[before]
                assert not before.is_final
                last[report.fill_id] = report.status
    assert all(n == 1 for n in counted.values())

"""The venue's trades and orders as the live gateway reads them: which parts of a trade
are ours (taker at the top level, maker inside maker_orders), their ids, statuses and
what an order's status means for its lifecycle."""

from __future__ import annotations

import json

from engine.adapters.polymarket.live.wire import (
    VenueOrder,
    VenueTrade,
    lifecycle,
    our_fills,
    trade_status,
)
from engine.adapters.polymarket.wire.user import decode_user_frame
from engine.orders import Liquidity, OrderStatus, Side
from engine.venue import TradeStatus

KEY = "our-api-key"
WALLET = "0x00000000000000000000000000000000000000aa"


def trade(**changes: object) -> VenueTrade:
    wire = {
        "event_type": "trade",
        "id": "t-1",
        "taker_order_id": "0xtaker",
        "market": "0xm",
        "asset_id": "Y",
        "side": "BUY",
        "size": "10",
        "price": "0.52",
        "status": "MATCHED",
        "owner": "someone",
        "trader_side": "MAKER",
        "match_time": "1700000000",
        "maker_orders": [
            {
                "order_id": "0xa",
                "owner": KEY,
                "maker_address": WALLET,
                "matched_amount": "4",
                "price": "0.52",
                "asset_id": "Y",
                "side": "SELL",
            },
            {
                "order_id": "0xb",
                "owner": "other",
                "maker_address": "0xbb",
                "matched_amount": "6",
                "price": "0.52",
                "asset_id": "Y",
                "side": "SELL",
            },
        ],
        **changes,
    }
    (event,) = decode_user_frame(json.dumps([wire]))
    return VenueTrade.from_ws(event, 0.0)  # type: ignore[arg-type]


def test_our_taker_fill_is_the_top_level_and_keeps_the_trade_id() -> None:
    taken = trade(owner=KEY, trader_side="TAKER")
    (fill,) = our_fills(taken, KEY, WALLET)
    assert (fill.fill_id, fill.venue_order_id, fill.side, fill.size, fill.price) == (
        "t-1",
        "0xtaker",
        Side.BUY,
        10 * 10**6,
        5200,
    )
    assert fill.liquidity is Liquidity.TAKER
    assert fill.at == 1_700_000_000


def test_our_maker_fill_is_our_entry_in_maker_orders() -> None:
    (fill,) = our_fills(trade(), KEY, WALLET)
    assert (fill.fill_id, fill.venue_order_id, fill.side, fill.size) == (
        "t-1",
        "0xa",
        Side.SELL,
        4 * 10**6,
    )
    assert fill.liquidity is Liquidity.MAKER


def test_one_trade_filling_two_of_our_orders_names_each_fill_by_order() -> None:
    two = trade(
        maker_orders=[
            {
                "order_id": "0xa",
                "owner": KEY,
                "matched_amount": "4",
                "price": "0.52",
                "asset_id": "Y",
                "side": "SELL",
            },
            {
                "order_id": "0xc",
                "owner": KEY,
                "matched_amount": "6",
                "price": "0.52",
                "asset_id": "Y",
                "side": "SELL",
            },
        ]
    )
    assert [f.fill_id for f in our_fills(two, KEY, WALLET)] == ["t-1:0xa", "t-1:0xc"]


def test_a_trade_of_others_has_no_fill_of_ours() -> None:
    assert our_fills(trade(maker_orders=[]), KEY, WALLET) == []


def test_trade_statuses_from_the_channel_and_rest_read_the_same() -> None:
    assert trade_status("MATCHED") is TradeStatus.MATCHED
    assert trade_status("TRADE_STATUS_CONFIRMED") is TradeStatus.CONFIRMED
    assert trade_status("MATCHED_NOT_BROADCASTED") is TradeStatus.MATCHED
    assert trade_status("retrying") is TradeStatus.RETRYING
    assert trade_status("SOMETHING_NEW") is None


def order(status: str, kind: str = "UPDATE") -> VenueOrder:
    wire = {
        "event_type": "order",
        "id": "0xo",
        "asset_id": "Y",
        "market": "0xm",
        "side": "BUY",
        "price": "0.5",
        "original_size": "10",
        "size_matched": "0",
        "status": status,
        "type": kind,
    }
    (event,) = decode_user_frame(json.dumps([wire]))
    return VenueOrder.from_ws(event, 0.0)  # type: ignore[arg-type]


def test_what_an_orders_venue_status_means_for_its_lifecycle() -> None:
    assert lifecycle(order("LIVE", "PLACEMENT")) == (OrderStatus.LIVE, None)
    assert lifecycle(order("MATCHED")) is None  # its fills say it
    assert lifecycle(order("CANCELED", "CANCELLATION")) == (
        OrderStatus.CANCELLED,
        "cancelled at the venue",
    )
    assert lifecycle(order("CANCELED_ORDER_TIMED_OUT", "CANCELLATION")) == (
        OrderStatus.CANCELLED,
        "CANCELED_ORDER_TIMED_OUT",
    )
    assert lifecycle(order("CANCELED_EXPIRED_ORDER", "CANCELLATION")) == (
        OrderStatus.EXPIRED,
        "expired at the venue",
    )

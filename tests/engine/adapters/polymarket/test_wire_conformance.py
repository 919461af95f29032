"""Every recorded market/user message decodes into its typed event, and survives a
round trip through our encoder."""

from pathlib import Path

import msgspec
import pytest

from engine.adapters.polymarket.wire import market as wm
from engine.adapters.polymarket.wire import user as wu

MARKET_FILES = {
    "legacy_book.json": wm.BookEvent,
    "legacy_last_trade_price.json": wm.LastTradePriceEvent,
    "legacy_price_change.json": wm.PriceChangeEvent,
    "legacy_price_change_v2.json": wm.PriceChangeEvent,
    "legacy_tick_size_change.json": wm.TickSizeChangeEvent,
    "ws_book_snapshot.json": wm.BookEvent,
    "ws_last_trade.json": wm.LastTradePriceEvent,
    "ws_market_best_bid_ask_msg.json": wm.BestBidAskEvent,
    "ws_market_book_msg.json": wm.BookEvent,
    "ws_market_last_trade_msg.json": wm.LastTradePriceEvent,
    "ws_market_new_market_msg.json": wm.NewMarketEvent,
    "ws_market_price_change_msg.json": wm.PriceChangeEvent,
    "ws_market_resolved_msg.json": wm.MarketResolvedEvent,
    "ws_market_tick_size_msg.json": wm.TickSizeChangeEvent,
    "ws_quotes.json": wm.PriceChangeEvent,
    "ws_tick_size_change.json": wm.TickSizeChangeEvent,
}


def ws_files(recorded: Path) -> list[Path]:
    return sorted((recorded / "ws").glob("*.json"))


def test_every_recorded_ws_file_is_classified(recorded: Path) -> None:
    for path in ws_files(recorded):
        raw = path.read_bytes()
        events, errors = wm.decode_market_frame(raw)
        if path.name in MARKET_FILES:
            assert not errors, (path.name, errors)
            assert [type(e) for e in events] == [MARKET_FILES[path.name]], path.name
        else:
            # Everything else is a user-channel message: the market decoder refuses it
            # with a reason, and the user decoder types it.
            assert errors, path.name
            assert not events, path.name
            user_events = wu.decode_user_frame(raw)
            assert len(user_events) == 1
            assert isinstance(user_events[0], wu.OrderEvent | wu.TradeEvent), path.name


@pytest.mark.parametrize("name", sorted(MARKET_FILES))
def test_market_event_round_trip(recorded: Path, name: str) -> None:
    events, _ = wm.decode_market_frame((recorded / "ws" / name).read_bytes())
    again, errors = wm.decode_market_frame(wm.encode_events(events))
    assert not errors
    assert again == events


def test_legacy_and_current_price_change_normalise_to_entries(recorded: Path) -> None:
    (legacy,), _ = wm.decode_market_frame(
        (recorded / "ws" / "legacy_price_change.json").read_bytes()
    )
    (current,), _ = wm.decode_market_frame(
        (recorded / "ws" / "legacy_price_change_v2.json").read_bytes()
    )
    assert isinstance(legacy, wm.PriceChangeEvent)
    assert isinstance(current, wm.PriceChangeEvent)
    [entry] = legacy.entries()
    assert (entry.price, entry.side, entry.size) == ("0.514", "SELL", "21574.08")
    assert len(current.entries()) == len(current.price_changes or [])


def test_frames_with_lists_and_bad_objects_keep_the_good_ones() -> None:
    frame = msgspec.json.encode(
        [
            {
                "event_type": "last_trade_price",
                "asset_id": "1",
                "price": "0.5",
                "size": "1",
                "side": "BUY",
            },
            {"event_type": "order_book_v9", "asset_id": "1"},
            {"event_type": "tick_size_change", "asset_id": "1", "new_tick_size": "0.001"},
        ]
    )
    events, errors = wm.decode_market_frame(frame)
    assert [type(e).__name__ for e in events] == ["LastTradePriceEvent", "TickSizeChangeEvent"]
    assert errors == ["unknown event_type 'order_book_v9'"]


@pytest.mark.parametrize("raw", [b"", b"{", b"[1, 2]", b'"PONG"', b'{"hello": 1}'])
def test_malformed_frames_give_reasons_not_exceptions(raw: bytes) -> None:
    events, errors = wm.decode_market_frame(raw)
    assert events == []
    assert errors
    assert all(isinstance(e, str) and e for e in errors)


def test_user_trade_statuses(recorded: Path) -> None:
    [trade] = wu.decode_user_frame((recorded / "ws" / "ws_user_trade_msg.json").read_bytes())
    assert isinstance(trade, wu.TradeEvent)
    assert trade.status == "CONFIRMED"
    [legacy] = wu.decode_user_frame((recorded / "ws" / "legacy_user_trade1.json").read_bytes())
    assert isinstance(legacy, wu.TradeEvent)
    assert legacy.maker_orders
    assert legacy.maker_orders[0].matched_amount == "10"

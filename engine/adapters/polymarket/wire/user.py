"""User-channel WebSocket events: our orders and trades as the venue reports them."""

from __future__ import annotations

from typing import Any

import msgspec


class MakerOrder(msgspec.Struct, frozen=True):
    order_id: str
    matched_amount: str
    price: str = ""
    asset_id: str = ""
    outcome: str = ""
    owner: str = ""
    maker_address: str = ""
    fee_rate_bps: str = "0"
    side: str = ""


class OrderEvent(msgspec.Struct, tag="order", tag_field="event_type"):
    """PLACEMENT / UPDATE / CANCELLATION of one of our orders."""

    id: str
    asset_id: str
    side: str
    price: str
    original_size: str
    market: str = ""
    size_matched: str = "0"
    status: str = ""
    type: str = ""
    order_type: str = ""
    outcome: str = ""
    owner: str = ""
    maker_address: str = ""
    associate_trades: list[str] | None = None
    created_at: str | int | None = None
    expiration: str | int | None = None
    timestamp: str = "0"


class TradeEvent(msgspec.Struct, tag="trade", tag_field="event_type"):
    """A fill; status moves MATCHED -> MINED -> CONFIRMED, or RETRYING -> FAILED."""

    id: str
    asset_id: str
    side: str
    price: str
    size: str
    status: str
    market: str = ""
    taker_order_id: str = ""
    maker_orders: list[MakerOrder] = msgspec.field(default_factory=list)
    fee_rate_bps: str = "0"
    outcome: str = ""
    owner: str = ""
    maker_address: str = ""
    trader_side: str = ""
    bucket_index: int = 0
    match_time: str = ""
    last_update: str = ""
    transaction_hash: str = ""
    timestamp: str = "0"


UserEvent = OrderEvent | TradeEvent

_decoder = msgspec.json.Decoder(list[UserEvent] | UserEvent)


def infer_user_event_type(obj: dict[str, Any]) -> str | None:
    if "original_size" in obj:
        return "order"
    if "taker_order_id" in obj or "maker_orders" in obj:
        return "trade"
    return None


def decode_user_frame(raw: bytes | str) -> list[UserEvent]:
    """Decode a user-channel frame; untagged objects are typed by their shape."""
    try:
        decoded = _decoder.decode(raw)
        return decoded if isinstance(decoded, list) else [decoded]
    except msgspec.DecodeError:
        pass
    loose = msgspec.json.decode(raw)
    objects = loose if isinstance(loose, list) else [loose]
    events: list[UserEvent] = []
    for obj in objects:
        kind = obj.get("event_type") or infer_user_event_type(obj)
        cls = {"order": OrderEvent, "trade": TradeEvent}.get(kind or "")
        if cls is None:
            raise ValueError(f"cannot tell the user event type of keys {sorted(obj)[:6]}")
        body = {k: v for k, v in obj.items() if k != "event_type"}
        events.append(msgspec.convert(body, cls, strict=False))
    return events

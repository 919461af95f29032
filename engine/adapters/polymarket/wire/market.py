"""Market-channel WebSocket events, one typed struct per ``event_type``.

The hot path decodes frames straight into these structs with a tagged union. Frames may
carry one object or a list. Recorded files and REST responses sometimes lack the
``event_type`` tag; :func:`decode_market_frame` falls back to inferring it from the
shape, so one decoder serves the live feed, tapes and golden files alike.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Level(msgspec.Struct, frozen=True, gc=False):
    price: str
    size: str


class BookEvent(msgspec.Struct, tag="book", tag_field="event_type", gc=False):
    asset_id: str
    market: str = ""
    bids: list[Level] = msgspec.field(default_factory=list)
    asks: list[Level] = msgspec.field(default_factory=list)
    timestamp: str = "0"
    hash: str = ""
    tick_size: str | None = None
    min_order_size: str | None = None
    last_trade_price: str | None = None
    neg_risk: bool | None = None


class PriceChangeEntry(msgspec.Struct, frozen=True, gc=False):
    asset_id: str
    price: str
    side: str
    size: str
    hash: str = ""
    best_bid: str | None = None
    best_ask: str | None = None


class PriceChangeEvent(msgspec.Struct, tag="price_change", tag_field="event_type", gc=False):
    """Both formats: the current ``price_changes`` list, or one legacy change inline."""

    market: str = ""
    timestamp: str = "0"
    price_changes: list[PriceChangeEntry] | None = None
    asset_id: str | None = None
    price: str | None = None
    side: str | None = None
    size: str | None = None
    hash: str = ""

    def entries(self) -> list[PriceChangeEntry]:
        if self.price_changes is not None:
            return self.price_changes
        if self.asset_id is None or self.price is None or self.side is None or self.size is None:
            raise ValueError("price_change carries neither price_changes nor an inline change")
        return [PriceChangeEntry(self.asset_id, self.price, self.side, self.size, self.hash)]


class LastTradePriceEvent(msgspec.Struct, tag="last_trade_price", tag_field="event_type", gc=False):
    asset_id: str
    price: str
    market: str = ""
    size: str = "0"
    side: str = ""
    fee_rate_bps: str = "0"
    timestamp: str = "0"


class TickSizeChangeEvent(msgspec.Struct, tag="tick_size_change", tag_field="event_type", gc=False):
    asset_id: str
    new_tick_size: str
    old_tick_size: str = ""
    market: str = ""
    timestamp: str = "0"


class BestBidAskEvent(msgspec.Struct, tag="best_bid_ask", tag_field="event_type", gc=False):
    asset_id: str
    market: str = ""
    best_bid: str | None = None
    best_ask: str | None = None
    spread: str | None = None
    timestamp: str = "0"


class NewMarketEvent(msgspec.Struct, tag="new_market", tag_field="event_type", gc=False):
    market: str
    id: str = ""
    question: str = ""
    slug: str = ""
    description: str = ""
    assets_ids: list[str] = msgspec.field(default_factory=list)
    outcomes: list[str] = msgspec.field(default_factory=list)
    timestamp: str = "0"


class MarketResolvedEvent(msgspec.Struct, tag="market_resolved", tag_field="event_type", gc=False):
    market: str
    winning_asset_id: str
    id: str = ""
    assets_ids: list[str] = msgspec.field(default_factory=list)
    winning_outcome: str = ""
    timestamp: str = "0"
    tags: list[str] = msgspec.field(default_factory=list)


MarketEvent = (
    BookEvent
    | PriceChangeEvent
    | LastTradePriceEvent
    | TickSizeChangeEvent
    | BestBidAskEvent
    | NewMarketEvent
    | MarketResolvedEvent
)

EVENT_TYPES: dict[str, type[MarketEvent]] = {
    "book": BookEvent,
    "price_change": PriceChangeEvent,
    "last_trade_price": LastTradePriceEvent,
    "tick_size_change": TickSizeChangeEvent,
    "best_bid_ask": BestBidAskEvent,
    "new_market": NewMarketEvent,
    "market_resolved": MarketResolvedEvent,
}

FRAME_DECODER = msgspec.json.Decoder(list[MarketEvent] | MarketEvent)
_frame_decoder = FRAME_DECODER
_raw_decoder = msgspec.json.Decoder(list[dict[str, Any]] | dict[str, Any])
_encoder = msgspec.json.Encoder()


class FrameError(ValueError):
    """A frame or one object in it could not be decoded; the message says why."""


def infer_event_type(obj: dict[str, Any]) -> str | None:
    """Guess the event type of an untagged object from its fields."""
    if "taker_order_id" in obj or "maker_orders" in obj or "original_size" in obj:
        return None  # user-channel trade or order, not a market event
    if "bids" in obj or "asks" in obj:
        return "book"
    if "price_changes" in obj:
        return "price_change"
    if "new_tick_size" in obj:
        return "tick_size_change"
    if "winning_asset_id" in obj:
        return "market_resolved"
    if "best_bid" in obj and "best_ask" in obj and "price" not in obj:
        return "best_bid_ask"
    if "assets_ids" in obj and "question" in obj:
        return "new_market"
    if "price" in obj and "side" in obj and "size" in obj and "asset_id" in obj:
        # The legacy inline price_change carries a book hash; trades do not.
        return "price_change" if obj.get("hash") else "last_trade_price"
    return None


def decode_market_frame(raw: bytes | str) -> tuple[list[MarketEvent], list[str]]:
    """Decode one frame into events plus one-line reasons for anything skipped.

    The fast path is a single msgspec decode. Only when that fails (an untagged object,
    an unknown event type, a bad field) does the slow path look at objects one by one,
    keeping the good ones, so one bad object never costs the rest of the frame.
    """
    try:
        decoded = _frame_decoder.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return _decode_slow(raw)
    if isinstance(decoded, list):
        return decoded, []
    return [decoded], []


_MALFORMED = "malformed frame: "


def is_malformed(reason: str) -> bool:
    """Whether a reason from :func:`decode_market_frame` says the frame is not JSON."""
    return reason.startswith(_MALFORMED)


def _decode_slow(raw: bytes | str) -> tuple[list[MarketEvent], list[str]]:
    try:
        decoded = _raw_decoder.decode(raw)
    except msgspec.DecodeError as exc:
        return [], [f"{_MALFORMED}{exc}"]
    except RecursionError:
        # No market message nests more than four deep (a list of objects holding lists
        # of objects); msgspec gives up on the interpreter's recursion limit.
        return [], [f"{_MALFORMED}nested deeper than any market message"]
    objects = decoded if isinstance(decoded, list) else [decoded]
    events: list[MarketEvent] = []
    errors: list[str] = []
    for obj in objects:
        try:
            events.append(convert_market_object(obj))
        except FrameError as exc:
            errors.append(str(exc))
    return events, errors


def convert_market_object(obj: Any) -> MarketEvent:
    """Convert one decoded JSON object (tagged or not) into its typed event."""
    if not isinstance(obj, dict):
        raise FrameError(f"expected an object, got {type(obj).__name__}")
    event_type = obj.get("event_type") or infer_event_type(obj)
    if event_type is None:
        raise FrameError(f"cannot tell the event type of an object with keys {sorted(obj)[:6]}")
    if not isinstance(event_type, str):  # a list or an object there is unhashable
        raise FrameError(f"event_type is a {type(event_type).__name__}, not a string")
    cls = EVENT_TYPES.get(event_type)
    if cls is None:
        raise FrameError(f"unknown event_type {event_type!r}")
    body = {k: v for k, v in obj.items() if k != "event_type"}
    try:
        return msgspec.convert(body, cls, strict=False)
    except msgspec.ValidationError as exc:
        raise FrameError(f"bad {event_type} event: {exc}") from exc


def encode_event(event: MarketEvent) -> bytes:
    return _encoder.encode(event)


def encode_events(events: list[MarketEvent]) -> bytes:
    return _encoder.encode(events)

"""The venue's orders and trades in one shape, whether the user channel sent them (the
engine's msgspec decoder) or REST answered them (the official SDK's models), and which
parts of a trade are ours.

A trade is one price level a taker took: the taker at the top level, each maker's part
in ``maker_orders``. Our fill is the top level when we took (``trader_side`` TAKER, our
API key as ``owner``), or our entries in ``maker_orders`` when we rested. A fill's id is
the trade's id, with our order's id after it when one trade filled several of our orders,
so the channel and REST name the same fill the same way and the order manager counts it
once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.adapters.polymarket.wire.user import OrderEvent, TradeEvent
from engine.fixed import PRICE_DIGITS, SIZE_DIGITS, decimal_to_fixed, parse_price, parse_size
from engine.orders import Liquidity, OrderStatus, OrderType, Side
from engine.venue import TradeStatus

# The venue's trade statuses (REST prefixes them TRADE_STATUS_; the SDK strips that).
_TRADE_STATUS = {
    "MATCHED": TradeStatus.MATCHED,
    "MATCHED_NOT_BROADCASTED": TradeStatus.MATCHED,
    "DELAYED": TradeStatus.MATCHED,
    "MINED": TradeStatus.MINED,
    "CONFIRMED": TradeStatus.CONFIRMED,
    "RETRYING": TradeStatus.RETRYING,
    "FAILED": TradeStatus.FAILED,
}
# How far along each status is: a report never moves a fill backwards.
TRADE_RANK = {
    TradeStatus.MATCHED: 0,
    TradeStatus.RETRYING: 1,
    TradeStatus.MINED: 1,
    TradeStatus.CONFIRMED: 2,
    TradeStatus.FAILED: 2,
}


def trade_status(text: str) -> TradeStatus | None:
    return _TRADE_STATUS.get(text.upper().removeprefix("TRADE_STATUS_"))


def _price(value: str | Decimal) -> int:
    return parse_price(value) if isinstance(value, str) else decimal_to_fixed(value, PRICE_DIGITS)


def _size(value: str | Decimal) -> int:
    return parse_size(value) if isinstance(value, str) else decimal_to_fixed(value, SIZE_DIGITS)


def _seconds(value: object, default: float) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value) / 1000 if value > 1e11 else float(value)
    if isinstance(value, str) and value.strip():
        try:
            number = float(value)
        except ValueError:
            return default
        return number / 1000 if number > 1e11 else number
    return default


@dataclass(frozen=True, slots=True)
class MakerPart:
    order_id: str
    owner: str
    maker_address: str
    asset_id: str
    side: Side
    price: int
    size: int


@dataclass(frozen=True, slots=True)
class VenueTrade:
    id: str
    status: TradeStatus | None  # None: a status this code does not know (left alone)
    taker_order_id: str
    owner: str  # the taker's API key
    trader_side: str  # TAKER | MAKER: whose view this message is
    asset_id: str
    market: str
    side: Side  # the taker's side
    price: int
    size: int
    makers: tuple[MakerPart, ...]
    at: float  # when it matched (unix seconds)

    @classmethod
    def from_ws(cls, event: TradeEvent, now: float) -> VenueTrade:
        return cls(
            event.id,
            trade_status(event.status),
            event.taker_order_id,
            event.owner,
            event.trader_side.upper(),
            event.asset_id,
            event.market,
            Side(event.side.upper()),
            _price(event.price),
            _size(event.size),
            tuple(
                MakerPart(
                    m.order_id,
                    m.owner,
                    m.maker_address,
                    m.asset_id or event.asset_id,
                    Side(m.side.upper()) if m.side else Side(event.side.upper()).opposite,
                    _price(m.price or event.price),
                    _size(m.matched_amount),
                )
                for m in event.maker_orders
            ),
            _seconds(event.match_time, now),
        )

    @classmethod
    def from_rest(cls, trade: Any, now: float) -> VenueTrade:
        """From the SDK's ``ClobTrade``."""
        return cls(
            str(trade.id),
            trade_status(str(trade.status)),
            str(trade.taker_order_id),
            str(trade.owner),
            str(trade.trader_side).upper(),
            str(trade.asset_id),
            str(trade.condition_id),
            Side(str(trade.side).upper()),
            _price(trade.price),
            _size(trade.size),
            tuple(
                MakerPart(
                    str(m.order_id),
                    str(m.owner),
                    str(m.maker_address),
                    str(m.asset_id),
                    Side(str(m.side).upper()),
                    _price(m.price),
                    _size(m.matched_amount),
                )
                for m in trade.maker_orders
            ),
            _seconds(trade.matched_at, now),
        )


@dataclass(frozen=True, slots=True)
class OurFill:
    """Our part of a trade: which of our orders (by its venue id) got what."""

    fill_id: str
    venue_order_id: str
    asset_id: str
    market: str
    side: Side
    price: int
    size: int
    liquidity: Liquidity
    at: float


def our_fills(trade: VenueTrade, api_key: str, wallet: str) -> list[OurFill]:
    """The parts of `trade` that are ours (the key's orders or the wallet's)."""
    wallet = wallet.lower()
    if trade.trader_side == "TAKER" and trade.owner == api_key:
        return [
            OurFill(
                trade.id,
                trade.taker_order_id,
                trade.asset_id,
                trade.market,
                trade.side,
                trade.price,
                trade.size,
                Liquidity.TAKER,
                trade.at,
            )
        ]
    mine = [
        m
        for m in trade.makers
        if m.owner == api_key or (wallet and m.maker_address.lower() == wallet)
    ]
    several = len(mine) > 1
    return [
        OurFill(
            f"{trade.id}:{m.order_id}" if several else trade.id,
            m.order_id,
            m.asset_id,
            trade.market,
            m.side,
            m.price,
            m.size,
            Liquidity.MAKER,
            trade.at,
        )
        for m in mine
        if m.size > 0
    ]


@dataclass(frozen=True, slots=True)
class VenueOrder:
    """One of our orders as the venue shows it."""

    id: str
    asset_id: str
    market: str
    side: Side
    price: int
    original_size: int
    size_matched: int
    status: str  # LIVE, MATCHED, CANCELED, CANCELED_ORDER_TIMED_OUT, ...
    event: str  # PLACEMENT / UPDATE / CANCELLATION on the channel; "" from REST
    order_type: str
    created_at: float
    expires_at: float | None
    trades: tuple[str, ...]

    @classmethod
    def from_ws(cls, event: OrderEvent, now: float) -> VenueOrder:
        expires = _seconds(event.expiration, 0.0)
        return cls(
            event.id,
            event.asset_id,
            event.market,
            Side(event.side.upper()),
            _price(event.price),
            _size(event.original_size),
            _size(event.size_matched or "0"),
            (event.status or "").upper(),
            event.type.upper(),
            event.order_type.upper(),
            _seconds(event.created_at, now),
            expires or None,
            tuple(event.associate_trades or ()),
        )

    @classmethod
    def from_rest(cls, order: Any, now: float) -> VenueOrder:
        """From the SDK's ``OpenOrder`` (open orders, or ``get_order`` of any status)."""
        expires = order.expires_at.timestamp() if order.expires_at is not None else None
        return cls(
            str(order.id),
            str(order.asset_id),
            str(order.condition_id),
            Side(str(order.side).upper()),
            _price(order.price),
            _size(order.original_size),
            _size(order.size_matched),
            str(order.status).upper(),
            "",
            str(order.order_type).upper(),
            _seconds(order.created_at, now),
            expires or None,
            tuple(order.associate_trades),
        )

    @property
    def resting(self) -> bool:
        return self.status == "LIVE" and self.event != "CANCELLATION"

    @property
    def order_type_enum(self) -> OrderType:
        try:
            return OrderType(self.order_type)
        except ValueError:
            return OrderType.GTC


def lifecycle(order: VenueOrder) -> tuple[OrderStatus, str | None] | None:
    """The lifecycle status the venue's word on an order means, and why; None when it
    says nothing the fills will not say (a match: the trades carry it)."""
    status = order.status
    if order.event == "CANCELLATION" or status.startswith("CANCELED"):
        if status == "CANCELED_EXPIRED_ORDER":
            return OrderStatus.EXPIRED, "expired at the venue"
        why = status if status.startswith("CANCELED_") else "cancelled at the venue"
        return OrderStatus.CANCELLED, why
    if status == "LIVE":
        return OrderStatus.LIVE, None
    if status in ("INVALID", "UNMATCHED"):
        return OrderStatus.REJECTED, f"the venue says {status.lower()}"
    return None

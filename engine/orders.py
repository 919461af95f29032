"""Orders and fills as the engine sees them, whichever gateway carries them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    GTC = "GTC"  # rests until cancelled
    GTD = "GTD"  # rests until its expiration
    FOK = "FOK"  # fills completely at once or not at all
    FAK = "FAK"  # fills what it can at once, the rest is cancelled


TAKING_TYPES = frozenset({OrderType.FOK, OrderType.FAK})


class OrderStatus(StrEnum):
    NEW = "new"
    LIVE = "live"  # resting on the book
    MATCHED = "matched"  # filled, not yet final on chain (live venue)
    CONFIRMED = "confirmed"  # final
    FAILED = "failed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    client_id: str
    asset_id: str
    market: str
    side: Side
    price: int  # limit price, 1e-4 units
    size: int  # shares, 1e-6 units
    order_type: OrderType
    strategy: str
    reason: str
    created_at: float


@dataclass(frozen=True, slots=True)
class Fill:
    order_id: str
    asset_id: str
    market: str
    side: Side
    price: int
    size: int
    fee: int  # cash units, 1e-10
    liquidity: str  # "taker" | "maker"
    at: float


@dataclass(frozen=True, slots=True)
class OrderResult:
    order_id: str
    status: OrderStatus
    fills: tuple[Fill, ...] = ()
    remaining: int = 0
    reason: str | None = None

"""Orders and fills as the engine sees them, whichever gateway carries them.

Prices are integers in 1e-4, sizes in 1e-6 shares, cash and fees in 1e-10 USDC
(see :mod:`engine.fixed`). Order ids are the engine's own client ids, unique across runs
of one ledger (``r<run>-<n>``); a venue's id for the same order is kept beside it.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

COMBINE = "+"  # joins the strategies of one combined decision: "a+b"


class StrategyId(str):
    """Who decided an order or owns a lot: one strategy ("momentum_scalping"), a combined
    decision of several ("mean_reversion+momentum_scalping"), a person ("manual"), or
    nobody known (""). It is its text wherever text goes (the ledger, JSON, logs); code
    asks it for its names instead of splitting the text."""

    __slots__ = ()

    @classmethod
    def of(cls, names: tuple[str, ...] | list[str]) -> StrategyId:
        """The combined id of these strategies, in the order given."""
        return cls(COMBINE.join(names))

    @property
    def names(self) -> tuple[str, ...]:
        """Each strategy in it (one for a single id; none for "")."""
        return tuple(self.split(COMBINE)) if self else ()

    @property
    def combined(self) -> bool:
        return COMBINE in self

    def includes(self, name: str) -> bool:
        """Whether `name` is this strategy or one of those it combines."""
        return name in self.names


MANUAL = StrategyId("manual")  # a person's own order (console, `ctl`, `polyterm order`)


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
    NEW = "new"  # decided, not yet acknowledged by the gateway
    LIVE = "live"  # resting on the book, nothing filled
    PARTIALLY_FILLED = "partially_filled"  # resting, part filled
    FILLED = "filled"  # completely filled (paper: final)
    MATCHED = "matched"  # filled, not yet final on chain (live venue)
    CONFIRMED = "confirmed"  # final on chain (live venue)
    FAILED = "failed"  # the venue could not settle a match (live venue)
    CANCELLED = "cancelled"  # by us, by a FAK remainder, or by settlement
    REJECTED = "rejected"  # refused before anything filled
    EXPIRED = "expired"  # a GTD order reached its expiration

    @property
    def is_open(self) -> bool:
        return self in _OPEN

    @property
    def is_final(self) -> bool:
        return self in _FINAL


_OPEN = frozenset({OrderStatus.NEW, OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED})
_FINAL = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CONFIRMED,
        OrderStatus.FAILED,
        OrderStatus.CANCELLED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED,
    }
)


class Liquidity(StrEnum):
    TAKER = "taker"
    MAKER = "maker"


class ExitLevels(msgspec.Struct, frozen=True):
    """A lot's own exits (None: the global rule; 0 turns one off). Prices are offsets
    from the entry price in 1e-4 units."""

    take_profit: int | None = None
    stop_loss: int | None = None
    max_holding_s: float | None = None


NO_EXITS = ExitLevels(take_profit=0, stop_loss=0, max_holding_s=0)


class OrderRequest(msgspec.Struct, frozen=True):
    order_id: str  # the engine's client id, unique across runs of a ledger
    asset_id: str
    market: str
    side: Side
    price: int  # limit price, 1e-4 units
    size: int  # shares, 1e-6 units
    order_type: OrderType
    strategy: str
    reason: str
    created_at: float  # clock time (unix seconds)
    post_only: bool = False  # rest only: refused if it would take
    expires_at: float | None = None  # GTD: clock time at which it expires
    is_exit: bool = False  # reduces a position (never blocked by entry rules)


class Fill(msgspec.Struct, frozen=True):
    fill_id: str  # unique: "<order_id>#<n>"
    order_id: str
    asset_id: str
    market: str
    side: Side
    price: int
    size: int
    fee: int  # cash units, 1e-10 USDC; paid in USDC on buys and sells alike
    liquidity: Liquidity
    at: float  # clock time (unix seconds)


# Orders that buy a basket's legs (and complete them) say so in their reason, which the
# ledger keeps: a restart knows which lots are hedged legs without a table of its own.
BASKET_ORDER_PREFIX = "basket "


def basket_order_reason(basket_id: str, why: str) -> str:
    return f"{BASKET_ORDER_PREFIX}{basket_id}: {why}"

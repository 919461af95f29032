"""The strategy interface: what a strategy sees (a context) and what it returns (signals
or an all-or-none basket).

Strategies are pure: market state + sentiment + their own state -> signals. They never
place orders, never touch the network and never read the clock except through the
context, so a backtest on a simulated clock evaluates exactly what a live run would.

- A :class:`Signal` is a vote on one token: side, confidence, why, and how it would
  trade (take or rest, a size hint, its own exit levels, its expected edge net of spread
  and fees). Votes on a token are aggregated with the voters' weights.
- A :class:`Basket` is a set of legs that only makes sense whole (YES+NO of one market,
  every outcome of a neg-risk event). It skips voting and goes to risk as one unit:
  approved whole or refused whole.

A strategy is asked (``on_tick``) about every changed book, unless it is
:class:`Incremental`: then it keeps what it watches current itself (the markets listed,
the tradeable asks that moved) and names, once per decision pass, the changed books it
has something to say about; the core asks it about those only (and, when
``lots_matter``, about any book where lots are held on it or its complement). Naming a
book it would pass on costs time, never correctness; leaving out one it would have
answered is a bug: property tests hold each incremental strategy to the signals its
from-scratch form gives.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

import msgspec

from engine.market.book_view import BookView
from engine.market.event_groups import EventGroup
from engine.market.flow import TradeFlow
from engine.market.markets import MarketInfo
from engine.market.sentiment import SentimentReading
from engine.orders import ExitLevels, Side

__all__ = [
    "Basket",
    "Execution",
    "ExitLevels",
    "Incremental",
    "Inputs",
    "Leg",
    "MarketContext",
    "OwnLot",
    "Signal",
    "Strategy",
]


class Execution(StrEnum):
    TAKE = "take"  # cross the spread now (FAK at the touch, slippage-capped)
    REST = "rest"  # rest post-only at our side's best price, queued (GTD)


class Signal(msgspec.Struct, frozen=True):
    strategy: str
    asset_id: str
    side: Side
    strength: float  # confidence, 0 < strength <= 1
    reason: str
    is_exit: bool = False  # closing an existing position: not subject to the entry threshold
    size_hint: int | None = None  # shares (1e-6 units); None: the configured base size
    execution: Execution | None = None  # None: strategy.order_style decides
    # Expected edge of the trade in basis points of price, net of the spread it pays and
    # the taker fee (negative: it expects to lose; such an entry should rest, not take).
    edge_bps: float | None = None
    exits: ExitLevels | None = None
    # What the decision was made on (indicator values), for the audit row in `signals`.
    # A new mapping per signal, never changed afterwards: a refusal's row is written up to
    # a minute later when it repeats (engine.repeats).
    inputs: Mapping[str, float] = msgspec.field(default_factory=dict)
    sentiment_source: str = ""


class Leg(msgspec.Struct, frozen=True):
    asset_id: str
    market: str  # condition id
    side: Side
    price: int  # limit price, 1e-4 units (the touch it was priced off)
    size: int  # shares, 1e-6 units


class Basket(msgspec.Struct, frozen=True):
    """Legs that trade all or none. `kind` is "yes_no" (a binary market's complement
    pair) or "neg_risk" (every outcome of a neg-risk event)."""

    strategy: str
    kind: str
    event_id: str  # the event (neg_risk) or the market's condition id (yes_no)
    legs: tuple[Leg, ...]
    cost: int  # what the legs cost per basket unit, fees included, in 1e-4 USDC per share
    payout: int  # what one unit pays at resolution, 1e-4 units (10_000: exactly 1)
    edge_bps: float  # (payout - cost) / cost, in basis points
    reason: str
    inputs: Mapping[str, float] = msgspec.field(default_factory=dict)


class OwnLot(msgspec.Struct, frozen=True):
    """One open lot of the evaluating strategy on this token."""

    entry_price: int  # 1e-4
    size: int  # shares, 1e-6
    opened_at: float  # clock time


@dataclass(slots=True)
class MarketContext:
    """Everything a strategy may look at for one token, read-only.

    The core keeps one per token and updates it before asking (a strategy must not keep
    it past its call, nor change it)."""

    asset_id: str
    market: MarketInfo
    book: BookView
    position: int  # shares held of this token (all strategies), 1e-6 units
    now: float  # monotonic seconds (for sampling intervals)
    wall: float = 0.0  # clock time, epoch seconds (for sentiment ages)
    complement: BookView | None = None  # the other token of a binary market (YES <-> NO)
    event: EventGroup | None = None  # the market's event (neg-risk siblings)
    sentiment: SentimentReading | None = None
    flow: TradeFlow | None = None  # printed volume of this token
    # Open lots on this token by strategy name: a strategy reads its own,
    # `ctx.lots.get(self.name, ())`.
    lots: Mapping[str, tuple[OwnLot, ...]] = field(default_factory=dict)
    book_of: Callable[[str], BookView | None] = field(default=lambda _asset: None)
    # The open lots on another token (the complement, a sibling), the same shape as `lots`:
    # a pair's exit needs both legs' entries.
    lots_of: Callable[[str], Mapping[str, tuple[OwnLot, ...]]] = field(default=lambda _asset: {})

    @property
    def volume_24h(self) -> float:
        return float(self.market.volume_24h)


class Strategy(Protocol):
    name: str
    weight: float

    def on_tick(self, ctx: MarketContext) -> Signal | Basket | None:
        """Called for every tradeable book that changed since the last decision pass."""


class Inputs(Protocol):
    """What an incremental strategy may read when it picks the books to be asked about."""

    @property
    def asks(self) -> Mapping[str, int]:
        """Token -> best ask, for every book a strategy may price off now."""
        ...

    @property
    def readings(self) -> Mapping[str, SentimentReading]:
        """Market (condition id) -> its current sentiment reading."""
        ...

    def market_of(self, asset_id: str) -> MarketInfo | None: ...


@runtime_checkable
class Incremental(Strategy, Protocol):
    """A strategy that keeps its inputs current and is asked only when they changed."""

    # Also asked about any changed book where lots are held, on it or its complement
    # (the strategy's exits read its own lots, which fills change between passes).
    lots_matter: bool

    def on_markets(self, markets: Sequence[MarketInfo], events: Mapping[str, EventGroup]) -> None:
        """The markets listed now (the whole list) and their event groups."""

    def on_quotes(self, moved: Sequence[str], asks: Mapping[str, int]) -> None:
        """These tokens' tradeable asks moved (``asks`` as in :class:`Inputs`)."""

    def select(self, pending: Mapping[str, None], now: float, inputs: Inputs) -> Collection[str]:
        """Of the books changed since the last pass, those to ask about now (`now`
        monotonic, as the contexts'). Called once per pass, before any is asked."""

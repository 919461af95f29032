"""The ports: everything outside the engine sits behind one of these small protocols.

The faces differ only in which implementations they plug in: the Polymarket feed or a
tape, the paper or the live gateway, the system or a simulated clock, a ledger file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from engine.adapters.polymarket.wire.market import NewMarketEvent
from engine.clock import Clock
from engine.events import EngineEvent
from engine.market.book import OrderBook
from engine.market.health import FeedHealth
from engine.market.markets import MarketInfo
from engine.market.sentiment import Headline, ProviderStatus
from engine.orders import OrderRequest
from engine.venue import TradingMode, VenueReport, VenueSink

__all__ = [
    "AccountLookup",
    "Clock",
    "FeedControl",
    "HeadlineSink",
    "Ledger",
    "MarketChoiceError",
    "MarketChooser",
    "MarketDataSink",
    "MarketFeed",
    "MarketLookup",
    "OrderGateway",
    "SentimentSource",
    "SimulatedGateway",
    "VenueBalance",
]


class MarketDataSink(Protocol):
    """Where a feed delivers data. The engine's runners implement it; so does the recorder."""

    def on_markets(self, markets: Sequence[MarketInfo]) -> None: ...

    def on_frame(self, raw: bytes | str, recv_ts: float, source: str) -> None:
        """One raw frame: a WS message (source "ws") or a REST books answer ("rest")."""


class FeedControl(Protocol):
    """What the engine asks of, and tells, its market feed while it runs (a tape can be
    asked nothing: the kernel's ``NULL_FEED`` ignores all four)."""

    def want_snapshot(self, asset_ids: Iterable[str]) -> None:
        """Books the engine no longer trusts: fetch them afresh."""

    def hit(self, asset_id: str) -> None:
        """The engine cares about this asset (an order, a position): keep it subscribed."""

    def market_listed(self, event: NewMarketEvent) -> None:
        """The venue listed a market while we run (``new_market``)."""

    def market_resolved(self, condition_id: str) -> None:
        """A market resolved (``market_resolved``): its books stop trading."""


class MarketFeed(FeedControl, Protocol):
    health: FeedHealth

    async def run(self, sink: MarketDataSink) -> None:
        """Deliver data to `sink` until cancelled (or until a tape ends)."""


class MarketChoiceError(ValueError):
    """A market a person named cannot be added or removed; str() says why, in one line."""


@runtime_checkable
class MarketChooser(Protocol):
    """A feed whose markets a person can change while it runs (the console's palette):
    search the venue by text, add a market by slug, condition id or token id (subscribed
    at once), remove one (unsubscribed). Raises MarketChoiceError naming what is wrong."""

    async def search_markets(self, text: str, limit: int = 10) -> Sequence[MarketInfo]: ...

    async def add_market(self, ref: str) -> MarketInfo: ...

    async def remove_market(self, condition_id: str) -> MarketInfo: ...


class HeadlineSink(Protocol):
    """Where a sentiment source delivers headlines: only new ones (never one it already
    delivered), in the order the provider published them."""

    def on_headlines(self, headlines: Sequence[Headline]) -> None: ...


class SentimentSource(Protocol):
    """A headline provider (NewsAPI, Twitter/X, the emulator's feed, a JSONL file)."""

    status: ProviderStatus

    async def run(self, sink: HeadlineSink) -> None:
        """Poll and deliver to `sink` until cancelled. Provider trouble (429, 5xx, a
        timeout, a malformed answer) never raises: it is recorded in `status` and the
        source backs off."""


class MarketLookup(Protocol):
    """What a gateway may read of the engine's market state (tick, minimum size, books)."""

    def market_of(self, asset_id: str) -> MarketInfo | None: ...

    def book(self, asset_id: str) -> OrderBook | None: ...

    def is_resolved(self, condition_id: str) -> bool: ...


@runtime_checkable
class AccountLookup(Protocol):
    """What a live gateway's reconciliation checks against the venue: the shares the
    engine holds and its cash (the kernel's market lookup also answers these)."""

    def holdings(self) -> Mapping[str, int]:
        """Token -> shares held (1e-6), for every token held."""

    def cash(self) -> int:
        """Cash units (1e-10 USDC)."""


@runtime_checkable
class VenueBalance(Protocol):
    """A gateway that knows the venue's balance: sizing uses the smaller of it and the
    engine's own cash."""

    def venue_cash(self) -> int | None:
        """Cash units, or None while unknown."""


class OrderGateway(Protocol):
    """The order seam: where orders go, and where every report about them comes from.

    Answers to :meth:`submit`, :meth:`cancel` and :meth:`cancel_many` are reports, and
    so is everything the venue says unasked (sent to the sink given to :meth:`bind`); the
    engine puts both through the order manager's one entry point. ``submit`` raises only
    when the order certainly did not reach the venue; when that is unknown (a timeout
    after sending) it returns nothing and reports later, once it has looked the order up:
    an order is never sent twice blindly.
    """

    name: str  # "paper", "polymarket", ...
    mode: TradingMode
    keeps_orders: bool  # open orders outlive a run (a venue's do; the paper exchange's not)

    def bind(self, sink: VenueSink, markets: MarketLookup) -> None:
        """Once, at assembly: where unasked reports and trading blocks go."""

    async def run(self) -> None:
        """Background work (heartbeats, the user channel, reconciliation) until cancelled;
        a gateway with none returns at once."""

    async def submit(self, order: OrderRequest) -> Sequence[VenueReport]: ...

    async def cancel(self, order_id: str, reason: str = "cancelled") -> Sequence[VenueReport]:
        """The cancel's answer: the order's CANCELLED update when it was taken off the
        book; nothing when it was not resting (not yet, or already done)."""

    async def cancel_many(
        self, order_ids: Sequence[str], reason: str = "cancelled"
    ) -> Sequence[VenueReport]:
        """Several cancels at once (a cancel-all, a flatten, a stop), answered as
        :meth:`cancel` answers each: a venue with a batch call makes them one request; a
        gateway without one cancels each in turn."""


class SimulatedGateway(OrderGateway, Protocol):
    """A venue a backtest can step on its simulated clock: orders arrive after a seeded
    latency, answers come at once."""

    def latency(self) -> float:
        """How long the next order takes to reach the book (seeded: replays agree)."""

    def place(self, order: OrderRequest, now: float) -> Sequence[VenueReport]: ...

    def withdraw(
        self, order_id: str, now: float, reason: str = "cancelled"
    ) -> Sequence[VenueReport]: ...


class Ledger(Protocol):
    """The writer side of the ledger: records events, tells when they are on disk."""

    @property
    def committed_seq(self) -> int: ...

    def record(self, event: EngineEvent) -> int:
        """Queue an event; returns its sequence number (never blocks)."""

    def add_commit_listener(self, listener: Callable[[int], None]) -> None: ...

    async def start_run(
        self, mode: str, venue: str, config_json: str, at: float, starting_cash: int
    ) -> int: ...

    async def end_run(self, run_id: int, summary_json: str, at: float) -> None: ...

    async def flush(self) -> None: ...

    async def close(self) -> None: ...

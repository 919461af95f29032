"""The ports: everything outside the engine sits behind one of these small protocols.

The faces differ only in which implementations they plug in: the Polymarket feed or a
tape, the paper or the live gateway, the system or a simulated clock, a ledger file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from engine.clock import Clock
from engine.events import EngineEvent
from engine.market.health import FeedHealth
from engine.market.markets import MarketInfo
from engine.market.sentiment import Headline, ProviderStatus
from engine.orders import OrderRequest, OrderResult

__all__ = [
    "Clock",
    "HeadlineSink",
    "Ledger",
    "MarketDataSink",
    "MarketFeed",
    "OrderGateway",
    "SentimentSource",
]


class MarketDataSink(Protocol):
    """Where a feed delivers data. The engine's runners implement it; so does the recorder."""

    def on_markets(self, markets: Sequence[MarketInfo]) -> None: ...

    def on_frame(self, raw: bytes | str, recv_ts: float, source: str) -> None:
        """One raw frame: a WS message (source "ws") or a REST books answer ("rest")."""


class MarketFeed(Protocol):
    health: FeedHealth

    async def run(self, sink: MarketDataSink) -> None:
        """Deliver data to `sink` until cancelled (or until a tape ends)."""

    def want_snapshot(self, asset_ids: Iterable[str]) -> None:
        """Books the engine no longer trusts: fetch them afresh."""

    def hit(self, asset_id: str) -> None:
        """The engine cares about this asset (an order, a position): keep it subscribed."""


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


class OrderGateway(Protocol):
    name: str

    async def submit(self, order: OrderRequest) -> OrderResult: ...

    async def cancel(self, order_id: str) -> bool:
        """True when the order was taken off the book; False when it was not resting."""


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

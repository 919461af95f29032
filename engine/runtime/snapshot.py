"""Immutable snapshots of what a person watches, published at a fixed cadence.

Faces (TUI panes, the headless summary, the status file) render these; they never poll
engine internals and never see raw ticks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

from engine.market.health import FeedHealthSnapshot


@dataclass(frozen=True, slots=True)
class MarketRow:
    asset_id: str
    market: str
    question: str
    outcome: str
    best_bid: Decimal | None
    best_ask: Decimal | None
    bid_size: Decimal
    ask_size: Decimal
    spread: Decimal | None
    last_trade: Decimal | None
    tick: Decimal
    updates: int
    needs_snapshot: bool


@dataclass(frozen=True, slots=True)
class PositionRow:
    asset_id: str
    question: str
    outcome: str
    shares: Decimal
    avg_price: Decimal | None
    mark: Decimal | None
    unrealized: Decimal
    realized: Decimal
    fees: Decimal


@dataclass(frozen=True, slots=True)
class FillRow:
    at: float
    asset_id: str
    question: str
    outcome: str
    side: str
    price: Decimal
    size: Decimal
    fee: Decimal
    liquidity: str
    strategy: str


@dataclass(frozen=True, slots=True)
class Counters:
    frames: int
    messages: int
    bad_frames: int
    gaps: int
    resnapshots: int
    signals: int
    intents: int
    orders: int
    fills: int
    rejects: int


@dataclass(frozen=True, slots=True)
class EngineSnapshot:
    seq: int
    at: float  # unix seconds
    uptime_s: float
    state: str
    mode: str  # "paper" | "live"
    venue: str
    markets: tuple[MarketRow, ...]
    positions: tuple[PositionRow, ...]
    recent_fills: tuple[FillRow, ...]
    reject_reasons: tuple[tuple[str, int], ...]
    cash: Decimal
    equity: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal
    counters: Counters
    feed: FeedHealthSnapshot
    error: str | None = None

    @property
    def pnl(self) -> Decimal:
        return self.realized_pnl + self.unrealized_pnl


class SnapshotHub:
    """Latest-wins fan-out: a slow subscriber only ever misses stale snapshots."""

    def __init__(self) -> None:
        self.latest: EngineSnapshot | None = None
        self._subscribers: list[asyncio.Queue[EngineSnapshot | None]] = []

    def publish(self, snapshot: EngineSnapshot) -> None:
        self.latest = snapshot
        for queue in self._subscribers:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(snapshot)

    def close(self) -> None:
        for queue in self._subscribers:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(None)

    async def subscribe(self) -> AsyncIterator[EngineSnapshot]:
        queue: asyncio.Queue[EngineSnapshot | None] = asyncio.Queue(maxsize=1)
        self._subscribers.append(queue)
        try:
            while (snapshot := await queue.get()) is not None:
                yield snapshot
        finally:
            self._subscribers.remove(queue)

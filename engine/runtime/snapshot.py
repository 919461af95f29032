"""Immutable snapshots of what a person watches, in sections rebuilt only where changed.

Faces (TUI panes, the headless status line and file, the backtest summary) render these;
they never poll engine internals and never see raw ticks. A section is rebuilt only when
its source changed since the last snapshot (books that moved, a portfolio or order
version that bumped); otherwise the previous, immutable section object is reused, so a
face can compare sections by identity to skip work.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import msgspec

from engine.decisions import DecisionKind
from engine.exit_reasons import ExitReason
from engine.market.health import FeedHealthSnapshot
from engine.runtime.latency import LatencyView
from engine.runtime.state import EngineState
from engine.venue import BlockReason, TradingMode


class MarketRow(msgspec.Struct, frozen=True, gc=False):
    """One token's row. A msgspec struct, not a dataclass like the other rows: hundreds
    are made ten times a second, and a frozen dataclass took ~3 us each (against ~0.2)
    and stayed in the collector's view; its fields are atoms, so it is never tracked."""

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
    # The book's update count when the row was made: it changes whenever the row's
    # figures do (an update below the top keeps the row, and its version).
    version: int
    needs_snapshot: bool
    volume_24h: Decimal | None = None  # the venue's figure; None when it gave none
    complement: str | None = None  # the other token of a binary market (YES <-> NO)
    end_date: str = ""  # when the market is due to end (the venue's ISO text; "" unknown)
    slug: str = ""  # the market's name in the venue's URLs (polyterm order takes it)
    accepting_orders: bool = True  # the venue takes orders on it
    winner: str | None = None  # the winning token once the market resolved


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
    # Below the market's minimum order size: it cannot be sold, and is held to settlement.
    dust: bool = False


@dataclass(frozen=True, slots=True)
class OrderRow:
    order_id: str
    asset_id: str
    question: str
    outcome: str
    side: str
    order_type: str
    price: Decimal
    size: Decimal
    filled: Decimal
    status: str
    strategy: str
    created_at: float
    venue_id: str | None = None  # the venue's id (live: the signed order's hash)
    venue_status: str = ""  # what a live venue last said: live, matched, mined, ...


@dataclass(frozen=True, slots=True)
class FillRow:
    fill_id: str
    order_id: str
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
    reason: str


@dataclass(frozen=True, slots=True)
class SignalRow:
    """The latest decision on one token: which strategies signalled, which way, and
    what came of it ("order", "below threshold", "paused: no entries", "refused: ...")."""

    asset_id: str
    at: float
    strategies: str
    side: str
    is_exit: bool
    decision: str  # the ledger's words for it
    ordered: bool  # an order was placed on it
    kind: DecisionKind = DecisionKind.ORDER  # what came of it, as a value (faces word it)


@dataclass(frozen=True, slots=True)
class ExitRow:
    at: float
    asset_id: str
    question: str
    outcome: str
    strategy: str
    reason: str
    shares: Decimal
    entry_price: Decimal
    exit_price: Decimal
    realized: Decimal
    kind: ExitReason = ExitReason.SIGNAL  # why, as an id (faces label it; reason details)


@dataclass(frozen=True, slots=True)
class TradePrintRow:
    at: float
    price: Decimal
    size: Decimal
    side: str  # the taker's side


@dataclass(frozen=True, slots=True)
class DepthRow:
    """The watched token's book, best levels first, and its latest prints."""

    asset_id: str
    bids: tuple[tuple[Decimal, Decimal], ...]  # (price, size), best first
    asks: tuple[tuple[Decimal, Decimal], ...]
    tick: Decimal
    trades: tuple[TradePrintRow, ...] = ()  # most recent first


@dataclass(frozen=True, slots=True)
class TradingBlockRow:
    """The gateway says no new orders now: why, since when."""

    reason: BlockReason
    detail: str
    since: float


@dataclass(frozen=True, slots=True)
class KillSwitchRow:
    state: str  # armed | tripped | cooldown | recovering
    baseline: Decimal  # equity at the start of the trading day
    loss: Decimal  # since the baseline
    limit: Decimal  # the loss that trips it
    tripped_at: float | None
    cooldown_until: float | None
    recovery_scale: float
    next_reset: float | None  # when the next trading day begins
    killed_by: str | None  # set while a manual kill latches it


@dataclass(frozen=True, slots=True)
class RateWindowRow:
    scope: str  # global | strategy | market | side | market_side
    key: str
    used: int
    limit: int
    interval_s: float
    resets_in_s: float


@dataclass(frozen=True, slots=True)
class Telemetry:
    entries: int  # entry fills
    exits: int  # exit fills
    taker: int
    maker: int
    fees: Decimal
    avg_notional: Decimal | None
    avg_slippage_bps: float | None  # against the mid at decision; positive costs us
    resized: int  # entries a risk rule made smaller
    approved: int  # entries risk let through (resized ones included)
    refused: int  # entries risk refused (exits held back are in risk_events)


@dataclass(frozen=True, slots=True)
class ArbitrageLeg:
    asset_id: str
    question: str
    outcome: str
    side: str
    price: Decimal
    size: Decimal
    order_id: str | None  # the leg's order when the basket was traded


@dataclass(frozen=True, slots=True)
class ArbitrageRow:
    """A basket a strategy found: a YES/NO pair or a neg-risk event priced below what
    it pays, and what became of it."""

    at: float
    basket_id: str
    strategy: str
    kind: str  # "yes_no" | "neg_risk"
    event_id: str
    legs: tuple[ArbitrageLeg, ...]
    cost: Decimal  # per unit, fees included
    payout: Decimal  # per unit
    edge_bps: float
    decision: str  # "order", "detected (weight 0)", "refused: <rule>: ...", ...
    executed: bool
    outcome: str | None  # one-leg-fill protection's verdict once the legs are done


@dataclass(frozen=True, slots=True)
class StrategyRow:
    """One strategy (or combined decision "a+b"): activity and PnL attribution.

    pnl = price_moves - spread_paid - fees: the spread paid against the mid at each
    decision and the fees are the costs of trading; price moves are the edge."""

    name: str
    weight: float | None  # None: a combined decision, not a configured strategy
    signals: int
    detected: int
    orders: int
    fills: int
    realized: Decimal
    unrealized: Decimal
    pnl: Decimal
    spread_paid: Decimal
    fees: Decimal
    price_moves: Decimal


@dataclass(frozen=True, slots=True)
class MarketSentimentRow:
    market: str  # condition id
    question: str
    sentiment: float  # -1 .. +1, as last scored (strategies apply their own decay)
    sentiment_confidence: float
    sentiment_source: str
    sentiment_updated_at: float  # clock time of the headline behind it
    headline: str


@dataclass(frozen=True, slots=True)
class HeadlineRow:
    at: float  # published
    provider: str
    source: str
    title: str
    url: str
    score: float
    confidence: float
    markets: tuple[str, ...]  # questions of the markets it moved


@dataclass(frozen=True, slots=True)
class SentimentView:
    """The sentiment pane: provider status, each market's reading, latest headlines."""

    source: str  # the provider in use ("" when sentiment is off)
    state: str  # "ok" | "backoff" | "error" | "disabled" ("" when no source runs)
    freshness_s: float | None  # since the provider last answered well (None: never)
    fallback: str  # why this provider and not an earlier one ("" when the first)
    last_error: str | None
    markets: tuple[MarketSentimentRow, ...]  # most recently updated first
    headlines: tuple[HeadlineRow, ...]  # most recent first


NO_SENTIMENT = SentimentView("", "", None, "", None, (), ())


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
    settlements: int
    baskets: int = 0  # basket decisions recorded (detected, refused or traded)
    baskets_traded: int = 0
    headlines: int = 0  # scored headlines recorded
    unknown_fills: int = 0  # fills for orders the engine did not know (reconciliation)
    duplicate_fills: int = 0  # fills the venue reported again (counted once)


@dataclass(frozen=True, slots=True)
class EngineSnapshot:
    seq: int
    at: float  # clock time (unix seconds)
    uptime_s: float
    state: EngineState
    mode: TradingMode
    venue: str
    run_id: int
    markets: tuple[MarketRow, ...]  # sorted by market then outcome; rows keyed by asset_id
    positions: tuple[PositionRow, ...]
    orders: tuple[OrderRow, ...]  # open orders
    fills: tuple[FillRow, ...]  # most recent first; only fills already on disk
    exits: tuple[ExitRow, ...]  # most recent first; only exits already on disk
    reject_reasons: tuple[tuple[str, int], ...]
    starting_cash: Decimal
    cash: Decimal
    equity: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal
    counters: Counters
    feed: FeedHealthSnapshot
    kill_switch: KillSwitchRow
    rate_windows: tuple[RateWindowRow, ...]  # windows at least half full, fullest first
    telemetry: Telemetry
    exit_reasons: tuple[tuple[str, int], ...]
    last_sizing: str  # the latest [sizing] line: inputs and the rules that cut
    error: str | None = None
    arbitrage: tuple[ArbitrageRow, ...] = ()  # most recent first
    strategies: tuple[StrategyRow, ...] = ()
    sentiment: SentimentView = NO_SENTIMENT
    signals: tuple[SignalRow, ...] = ()  # the latest decision per token that had one
    trading_blocks: tuple[TradingBlockRow, ...] = ()  # empty: new orders may go out
    exit_kinds: tuple[tuple[ExitReason, int], ...] = ()  # closes by reason id, most first
    depth: DepthRow | None = None  # the watched token's book (see the runner's watch())
    # Frame -> order latency (live runs; a backtest's is the CPU time of a frame's pass).
    frame_to_order: LatencyView | None = None

    @property
    def trading_blocked(self) -> bool:
        return bool(self.trading_blocks)

    @property
    def pnl(self) -> Decimal:
        return self.realized_pnl + self.unrealized_pnl


class _Slot:
    __slots__ = ("latest", "seen", "closed", "wake")

    def __init__(self, latest: EngineSnapshot | None) -> None:
        self.latest = latest
        self.seen: EngineSnapshot | None = None
        self.closed = False
        self.wake = asyncio.Event()
        if latest is not None:
            self.wake.set()


class SnapshotHub:
    """Latest-wins fan-out: a slow subscriber only ever misses snapshots that are stale,
    and the final snapshot (published before close) always reaches every subscriber."""

    def __init__(self) -> None:
        self.latest: EngineSnapshot | None = None
        self.closed = False
        self._slots: list[_Slot] = []

    def publish(self, snapshot: EngineSnapshot) -> None:
        self.latest = snapshot
        for slot in self._slots:
            slot.latest = snapshot
            slot.wake.set()

    def close(self) -> None:
        self.closed = True
        for slot in self._slots:
            slot.closed = True
            slot.wake.set()

    async def subscribe(self) -> AsyncIterator[EngineSnapshot]:
        slot = _Slot(self.latest)
        slot.closed = self.closed
        self._slots.append(slot)
        try:
            while True:
                await slot.wake.wait()
                slot.wake.clear()
                latest = slot.latest
                if latest is not None and latest is not slot.seen:
                    slot.seen = latest
                    yield latest
                if slot.closed and slot.latest is slot.seen:
                    return
        finally:
            self._slots.remove(slot)

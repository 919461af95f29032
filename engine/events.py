"""Typed, frozen events: how the engine's parts tell each other (and the faces) what happened.

The core emits them; the ledger writer records them; the event stream carries the
discrete ones (fills, feed changes, errors, state changes) to the faces. Every event
carries ``at``, the clock's time (unix seconds) when it happened, so a backtest on a
simulated clock writes the same rows as the run it replays.
"""

from __future__ import annotations

import msgspec

from engine.exit_reasons import ExitReason
from engine.market.markets import MarketInfo
from engine.orders import Fill, OrderRequest, OrderStatus, Side
from engine.venue import BlockReason


class EngineEvent(msgspec.Struct, frozen=True):
    at: float


class RunStarted(EngineEvent, frozen=True):
    run_id: int
    mode: str  # "paper" | "live"
    venue: str
    config_json: str


class RunEnded(EngineEvent, frozen=True):
    run_id: int
    summary_json: str


class MarketsLoaded(EngineEvent, frozen=True):
    markets: tuple[MarketInfo, ...]


class BookUpdated(EngineEvent, frozen=True):
    """A book changed; `version` is its update count (the snapshot's section key)."""

    asset_id: str
    version: int


class SignalRaised(EngineEvent, frozen=True):
    strategy: str
    asset_id: str
    side: Side
    strength: float
    reason: str
    is_exit: bool
    # "order" | "below threshold (...)" | "conflict: ..." | "refused: <rule>: <why>" |
    # "detected (weight 0)" | "paused: no entries" | ...
    decision: str
    edge_bps: float | None = None  # the strategy's expected edge, net of spread and fees
    inputs_json: str = "{}"  # what it was decided on (indicator values), as JSON
    sentiment_source: str = ""  # the provider behind a sentiment-driven signal
    latency_us: float | None = None  # frame (or headline) that triggered it -> its order
    order_id: str | None = None  # the order it made, when it made one
    # How many signals of its kind (strategy, token, side, rule) this row stands for: it is
    # their latest (engine.repeats: a refusal that repeats is a row a minute, with a count).
    repeats: int = 1


class HeadlineScored(EngineEvent, frozen=True):
    """A headline a sentiment provider delivered, scored and matched to markets."""

    headline: str
    provider: str
    source: str
    url: str
    published_at: float
    score: float  # -1 .. +1
    confidence: float  # 0 .. 1
    markets: tuple[str, ...]  # condition ids whose sentiment it moved


class BasketDecided(EngineEvent, frozen=True):
    """A basket (YES/NO pair, or every outcome of a neg-risk event) a strategy found, and
    what became of it: traded (all legs sent), detected (weight 0), or refused whole."""

    basket_id: str
    strategy: str
    kind: str  # "yes_no" | "neg_risk"
    event_id: str
    legs_json: str  # [[asset_id, market, side, price, size, order_id|null], ...]
    cost: int  # per unit, fees included (1e-4)
    payout: int  # per unit (1e-4)
    edge_bps: float
    reason: str
    decision: str


class BasketResolved(EngineEvent, frozen=True):
    """What one-leg-fill protection made of a traded basket once its legs were done:
    "complete", "completed: ...", "unwound: ...", "none filled", "left: ..."."""

    basket_id: str
    outcome: str


class IntentRejected(EngineEvent, frozen=True):
    """Risk (or a sanity check before risk) refused or resized an intent."""

    asset_id: str
    side: Side
    strategy: str
    reason: str
    wanted: int  # shares (1e-6) asked for
    approved: int  # shares approved; 0 when rejected
    repeats: int = 1  # refusals of its kind (token, strategy, rule) it stands for, as latest


class OrderSubmitted(EngineEvent, frozen=True):
    order: OrderRequest


class OrderUpdated(EngineEvent, frozen=True):
    """A lifecycle transition: every one is recorded in ``order_events``."""

    order_id: str
    status: OrderStatus
    filled: int  # total shares filled so far
    remaining: int  # shares still working (0 once final)
    reason: str | None = None
    venue_id: str | None = None


class OrderVenueStatus(EngineEvent, frozen=True):
    """Where a live venue says an order (or the trades that filled it) stands: live,
    matched, mined, confirmed, retrying, failed, cancelled. Recorded in ``order_events``
    and the order's ``venue_status``; the order's own lifecycle is :class:`OrderUpdated`."""

    order_id: str
    venue_status: str
    filled: int
    detail: str | None = None
    venue_id: str | None = None


class ShadowRecorded(EngineEvent, frozen=True):
    """What the paper model did with a live order: placed, filled (with its price and
    size), done. Kept apart (``shadow_orders``, ``shadow_fills``) for the drift report;
    never in the account."""

    order_id: str
    status: str  # the paper order's status after this report
    filled: int
    fill_id: str | None = None
    price: int | None = None  # the paper fill's price (1e-4)
    size: int | None = None  # the paper fill's size (1e-6)
    fee: int | None = None  # cash units
    liquidity: str | None = None
    reason: str | None = None


class Redeemed(EngineEvent, frozen=True):
    """Resolved positions redeemed on chain: the payout the venue's collateral gained."""

    market: str
    asset_id: str
    shares: int  # 1e-6
    payout: int  # cash units
    transaction: str  # the transaction's hash ("" for a dry run: never recorded)


class Filled(EngineEvent, frozen=True):
    fill: Fill
    strategy: str
    reason: str  # the order's reason (entry signal, exit reason)
    decision_mid: int | None = None  # the book's mid when the order was decided (1e-4)
    slippage_bps: float | None = None  # fill price against that mid, against us > 0


class PositionChanged(EngineEvent, frozen=True):
    """A position's state after a fill or a settlement (the ledger keeps the latest)."""

    asset_id: str
    market: str
    shares: int  # 1e-6
    cost: int  # cash units of the shares held
    realized: int  # cash units, net of fees
    fees: int  # cash units paid so far


class PositionClosed(EngineEvent, frozen=True):
    """Part or all of a position was closed: one exit row with its reason."""

    asset_id: str
    market: str
    strategy: str
    reason: str  # exit reason: the strategy's, "settlement", "flatten", ...
    shares: int
    entry_price: int  # average cost per share (1e-4, rounded down)
    exit_price: int
    realized: int  # cash units, net of the exit's fee
    fee: int
    holding_s: float = 0.0  # from the lot's first entry fill to this exit
    mae: int = 0  # worst price move against the lot while held (price units, >= 0)
    mfe: int = 0  # best price move for the lot while held (price units, >= 0)
    slippage_bps: float | None = None  # the exit fill against the mid at its decision
    kind: ExitReason = ExitReason.SIGNAL  # why, as an id (faces label it; `reason` details)


class FillReversed(EngineEvent, frozen=True):
    """A fill's trade failed on chain: its effect on cash and the position is undone
    exactly (the ledger keeps the fill and this reversal, each a row of its own)."""

    fill: Fill
    strategy: str
    reason: str
    cash: int  # cash units given back to (or taken from) the account
    cost: int  # cash units of cost taken off (or put back on) the position
    realized: int  # realised PnL undone


class TradingBlockChanged(EngineEvent, frozen=True):
    """The gateway said no new orders may go out now (blocked), or that they may again."""

    reason: BlockReason
    detail: str
    blocked: bool


class VenueNoted(EngineEvent, frozen=True):
    """Something about the venue's reports that a person (or the reconciliation) must
    know: a fill for an order the engine does not know, a repeated fill, a fill after the
    order closed, a failed trade."""

    kind: str  # unknown_order_fill | duplicate_fill | late_fill | trade_failed | ...
    detail: str
    order_id: str | None = None
    fill_id: str | None = None


class PositionSettled(EngineEvent, frozen=True):
    """A market resolved: held shares paid 1 (the winner) or 0 (the others)."""

    asset_id: str
    market: str
    shares: int
    payout_price: int  # ONE for the winning token, 0 for the others
    cash: int  # cash received
    realized: int  # against the position's cost


class KillSwitchChanged(EngineEvent, frozen=True):
    """The daily-loss kill switch moved (or took a new day's baseline): its whole state,
    so the latest row is what a restart restores."""

    state: str  # "armed" | "tripped" | "cooldown" | "recovering"
    day_start: float  # unix seconds at which the current trading day began
    baseline: int  # equity (cash units) at the start of the trading day
    loss: int  # loss since the baseline when this happened (cash units, >= 0)
    limit: int  # the loss that trips it (cash units)
    tripped_at: float | None
    cooldown_until: float | None
    recovery_scale: float  # size scale right now (0 while tripped, 1 when armed)
    reason: str  # "trip", "cooldown", "re-armed", "new day", "kill", "reset", "start"
    who: str  # "engine" for automatic moves; the person or face for kill/reset


class FeedSourceChanged(EngineEvent, frozen=True):
    source: str
    previous: str
    reason: str | None


class EngineStateChanged(EngineEvent, frozen=True):
    state: str
    previous: str


class ErrorRaised(EngineEvent, frozen=True):
    where: str
    message: str


# Discrete events that go to the faces' event stream (the rest are for the ledger).
STREAMED = (
    Filled,
    KillSwitchChanged,
    PositionSettled,
    PositionClosed,
    FeedSourceChanged,
    EngineStateChanged,
    ErrorRaised,
    OrderUpdated,
    IntentRejected,
    BasketResolved,
    FillReversed,
    TradingBlockChanged,
    VenueNoted,
    OrderVenueStatus,
)

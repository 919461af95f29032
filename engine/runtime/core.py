"""The engine core: synchronous, steppable, and the same under every face.

It is driven from outside. A runner hands it frames (``on_frame(raw, recv_ts)``), wakes it
for decisions (``decide()``, as soon as the loop is free after books changed), for its
timers (``on_timer()``: re-snapshots, expiries, feed-source changes) and with the
gateway's answers (``on_order_result``, ``on_cancelled``). It never awaits: orders go
into ``outbox`` and cancels into ``cancels`` for the runner to carry to the gateway, so
a slow gateway never stalls a decision. A live runner drives it from sockets on the
system clock; the backtest runner from tape records on a simulated clock.

The core's parts each own one job: the book store (market state), the strategies and
aggregator, the risk gate, the order tracker (lifecycle), the portfolio, and the paper
venue when orders are simulated. Everything it does leaves as a typed event through
``emit`` (the ledger records them; the faces see the discrete ones once on disk).
"""

from __future__ import annotations

import itertools
import json
import logging
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Literal, Protocol

from engine.adapters.polymarket.books import BookStore
from engine.adapters.polymarket.wire.market import NewMarketEvent
from engine.clock import Clock, perf_ns
from engine.config import EngineConfig
from engine.events import (
    EngineEvent,
    EngineStateChanged,
    FeedSourceChanged,
    Filled,
    HeadlineScored,
    IntentRejected,
    MarketsLoaded,
    OrderSubmitted,
    OrderUpdated,
    PositionChanged,
    PositionClosed,
    PositionSettled,
    SignalRaised,
)
from engine.execution.exits import ExitBook, Reduced
from engine.execution.lifecycle import OrderTracker
from engine.execution.matching import match_taker
from engine.execution.paper import PaperVenue
from engine.execution.portfolio import Portfolio
from engine.fixed import (
    ONE,
    SHARE_STEP,
    format_cash,
    format_price,
    format_size,
)
from engine.market.book import OrderBook
from engine.market.fees import FREE
from engine.market.health import FeedHealth
from engine.market.markets import MarketInfo
from engine.market.sentiment import Headline, ProviderStatus
from engine.orders import (
    Fill,
    OrderRequest,
    OrderResult,
    OrderStatus,
    OrderType,
    Side,
)
from engine.risk.gate import EntryRequest, RiskGate
from engine.risk.sizing import Holding, SizingInputs, SizingResult, exposure
from engine.runtime.attribution import Attribution
from engine.runtime.baskets import BASKET_LEG_EXITS, BasketDesk
from engine.runtime.contexts import ContextFactory
from engine.runtime.exposure import ExposureBook, ValueBook
from engine.strategies.aggregator import DETECTED, Aggregator, Intent
from engine.strategies.base import Execution, ExitLevels, Signal, Strategy
from engine.strategies.sentiment import SentimentBook

log = logging.getLogger("engine")

# After a restart, how long the kill switch (and replaced orders) wait for held positions'
# books before counting them at cost (or giving up on the replacement).
RESTORE_MARK_GRACE_S = 30.0
trades_log = logging.getLogger("engine.trades")  # one readable line per order and fill
sizing_log = logging.getLogger("engine.sizing")  # one [sizing] line per entry decision


class EngineState(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"  # no new entries; exits, cancels and settlement go on
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class FlattenScope:
    """What a flatten covers: everything, one strategy's lots and orders, or a market
    (a condition id, or one token of it)."""

    kind: Literal["all", "strategy", "market"] = "all"
    value: str = ""

    def covers(self, strategy: str, market: str, asset_id: str) -> bool:
        if self.kind == "strategy":
            return self.value in strategy.split("+")
        if self.kind == "market":
            return self.value in (market, asset_id)
        return True


@dataclass(frozen=True, slots=True)
class LastSignal:
    """The latest decision on a token: who signalled, which way, and what came of it."""

    at: float
    strategies: str  # "a" or "a+b"
    side: str  # "BUY" | "SELL"
    is_exit: bool
    decision: str  # "order", "below threshold", "paused: no entries", "refused: ...", ...
    order_id: str | None


@dataclass(frozen=True, slots=True)
class PlannedClose:
    asset_id: str
    shares: int
    limit_price: int  # the worst price it may sell at
    expected_price: int | None  # average price the current book would give
    expected_pnl: int | None  # cash units against the position's cost, fee included
    expected_filled: int
    strategy: str = ""  # whose lot it closes ("": the whole position)


@dataclass(frozen=True, slots=True)
class FlattenPlan:
    scope: FlattenScope
    cancels: tuple[str, ...]  # order ids
    closes: tuple[PlannedClose, ...]
    left: tuple[tuple[str, int, str], ...]  # (asset, shares, why it cannot be closed)
    orders: tuple[str, ...] = ()  # the closing orders sent (empty for a preview)


class FeedControl(Protocol):
    """What the core may ask of, and tell, its market feed (a tape ignores all four)."""

    def want_snapshot(self, asset_ids: Iterable[str]) -> None: ...

    def hit(self, asset_id: str) -> None: ...

    def market_listed(self, event: NewMarketEvent) -> None:
        """The venue listed a market while we run (``new_market``)."""

    def market_resolved(self, condition_id: str) -> None:
        """A market resolved (``market_resolved``): its books stop trading."""


class EngineCore:
    def __init__(
        self,
        config: EngineConfig,
        clock: Clock,
        *,
        books: BookStore,
        strategies: Sequence[Strategy],
        aggregator: Aggregator,
        risk: RiskGate,
        portfolio: Portfolio,
        exits: ExitBook,
        health: FeedHealth,
        feed: FeedControl,
        emit: Callable[[EngineEvent], None],
        paper: PaperVenue | None = None,
        mode: str = "paper",
        venue: str = "polymarket",
        sentiment: SentimentBook | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.books = books
        self.strategies = list(strategies)
        self.aggregator = aggregator
        self.risk = risk
        self.portfolio = portfolio
        self.exits = exits
        self.health = health
        self.feed = feed
        self.emit = emit
        self.paper = paper
        self.mode = mode
        self.venue = venue
        self.state = EngineState.STARTING
        self.error: str | None = None
        self.run_id = 0
        self.markets: list[MarketInfo] = []
        self.by_token: dict[str, MarketInfo] = {}
        self._markets_by_id: dict[str, MarketInfo] = {}
        self._known_markets: dict[str, MarketInfo] = {}  # from the ledger, for exposure
        self.tracker = OrderTracker()
        self.exposures = ExposureBook(portfolio, self.tracker, self._market_by_id)
        self.values = ValueBook(portfolio, self._mark, self._complement)
        self.outbox: deque[OrderRequest] = deque()
        self.cancels: deque[str] = deque()
        self.on_work: Callable[[], None] | None = None  # the runner's "orders waiting" bell
        self.counts: Counter[str] = Counter()
        self.rejects: Counter[str] = Counter()
        self.started_at = clock.monotonic()
        # Book versions the snapshot builder has not seen yet, and the decision set.
        self.changed: dict[str, None] = {}
        self._dirty: dict[str, None] = {}
        self._order_seq = 0
        self._cooldown_until: dict[str, float] = {}
        self._cancel_requested: set[str] = set()
        self._resolved_seen = 0
        self._listed_seen = 0
        self._last_source = health.source
        self._next_housekeeping = clock.monotonic()
        self._resnap_pending: dict[str, None] = {}
        self._resnap_attempts: dict[str, int] = {}
        self._resnap_next: dict[str, float] = {}
        self.portfolio_version = 0
        # Orders the ledger says are open but no venue holds (a paper order from before a
        # restart): (order id, filled); recorded as cancelled when the run starts.
        self.orphans: list[tuple[str, int]] = []
        self.replacements: list[OrderRequest] = []  # execution.on_restart = "replace"
        self.lot_strategies: dict[str, str] = {}  # order id -> strategy, for restored lots
        self.basket_leg_orders: frozenset[str] = frozenset()  # restored lots held as hedges
        # Per-book receive time: the recv_ts (clock time) of the last frame that touched it.
        self.book_received: dict[str, float] = {}
        self._last_ws_frame = -1e18  # recv_ts of the last WebSocket frame
        self.decision_mid: dict[str, int | None] = {}  # open order -> mid when decided
        self._exit_refused: dict[str, tuple[str, float]] = {}  # asset -> (rule, when)
        self._started_at_time = clock.time()
        self._warned_unmarked = False
        self.telemetry: Counter[str] = Counter()
        self.exit_reasons: Counter[str] = Counter()
        self._last_sizing: tuple[MarketInfo, SizingInputs, SizingResult, int] | None = None
        self.sentiment = sentiment
        self.sentiment_status: ProviderStatus | None = None  # the live source's, when one runs
        self.contexts = ContextFactory(books, exits, sentiment)
        self.attribution = Attribution()
        # Latency from the frame (or headline) that made books dirty to each order; off in
        # backtests, whose ledgers must not depend on the machine's speed.
        self.measure_latency = True
        self._trigger_ns = 0
        self.order_levels: dict[str, ExitLevels] = {}  # entry order -> its lot's exits
        self.baskets = BasketDesk(self)
        self.sentiment_version = 0
        # The latest decision on each token (the console's markets pane shows it).
        self.last_signals: dict[str, LastSignal] = {}
        self.signals_version = 0
        books.trade_listeners.append(self._on_trade)

    # -- lifecycle ------------------------------------------------------------------
    def start(self, run_id: int) -> None:
        self.run_id = run_id
        self.started_at = self.clock.monotonic()
        self._started_at_time = self.clock.time()
        self._set_state(EngineState.RUNNING)
        # The kill switch takes (or restores) the day's baseline before anything trades;
        # with positions held it waits for their marks (see _kill_switch_ready).
        if self._kill_switch_ready(self.clock.time()):
            for change in self.risk.kill_switch.update(self.values.equity(), self.clock.time()):
                self.emit(change)
        for order_id, filled in self.orphans:
            self.emit(
                OrderUpdated(
                    self.clock.time(),
                    order_id,
                    OrderStatus.CANCELLED,
                    filled,
                    0,
                    "not resting after a restart (paper orders end with their run)",
                )
            )
        self.orphans = []

    def restore(self, history: Iterable[Fill | PositionSettled]) -> int:
        """Rebuild cash, positions and lots from the ledger's fills and settlements, in
        time order (``AccountState.history()``); returns how many were replayed."""
        count = 0
        for item in history:
            count += 1
            if isinstance(item, Fill):
                self.portfolio.apply(item)
                owner = self.lot_strategies.get(item.order_id, "")
                if item.side is Side.BUY:
                    _, opened = self.exits.buy(
                        item.asset_id, item.market, owner, item.price, item.size, item.at
                    )
                    if opened and item.order_id in self.basket_leg_orders:
                        # A basket's leg stays hedged after a restart too.
                        levels = BASKET_LEG_EXITS
                        self.exits.set_levels(
                            item.asset_id,
                            owner,
                            levels.take_profit,
                            levels.stop_loss,
                            levels.max_holding_s,
                        )
                else:
                    self.exits.sell(item.asset_id, owner, item.size)
            else:
                self.portfolio.settle(item.asset_id, item.payout_price)
                self.exits.close_all(item.asset_id)
        self.portfolio_version += 1
        for asset, pos in self.portfolio.positions.items():
            self.exposures.touch(pos.market)
            self.values.revalue(asset)
        return count

    def pause(self) -> None:
        """No new entries: resting entry orders are cancelled too (one filling after the
        pause would open a position all the same); exits, cancels and settlement go on."""
        if self.state is EngineState.RUNNING:
            self._set_state(EngineState.PAUSED)
            for order_id, tracked in list(self.tracker.open.items()):
                if not tracked.request.is_exit and tracked.request.side is Side.BUY:
                    self.cancel(order_id)

    def resume(self) -> None:
        if self.state is EngineState.PAUSED:
            self._set_state(EngineState.RUNNING)

    def stopping(self) -> None:
        if self.state in (EngineState.RUNNING, EngineState.PAUSED, EngineState.STARTING):
            self._set_state(EngineState.STOPPING)

    def finish(self, error: str | None = None) -> None:
        self._dirty.clear()
        self.error = error or self.error
        self._set_state(EngineState.FAILED if error else EngineState.STOPPED)

    def _set_state(self, state: EngineState) -> None:
        if state is self.state:
            return
        previous, self.state = self.state, state
        self.emit(EngineStateChanged(self.clock.time(), state.value, previous.value))

    @property
    def entries_allowed(self) -> bool:
        """New positions may open (not paused, stopping or stopped)."""
        return self.state is EngineState.RUNNING

    @property
    def trading(self) -> bool:
        return self.state in (EngineState.RUNNING, EngineState.PAUSED)

    # -- market data (the MarketDataSink the feed delivers to) -------------------------
    def on_markets(self, markets: Sequence[MarketInfo]) -> None:
        """The markets to trade (the whole list: a feed calls again when it adds some).
        Books of markets already known keep what the stream taught them since (a
        tick_size_change), so calling again with more markets changes only the new."""
        usable = [m for m in markets if m.token_ids and all(m.token_ids)]
        known = self.by_token
        self.markets = usable
        self.by_token = {t: m for m in usable for t in m.token_ids}
        self._markets_by_id.clear()
        self._markets_by_id.update((m.condition_id, m) for m in usable)
        for m in usable:
            for token in m.token_ids:
                if token in known:
                    continue
                book = self.books.book(token, m.condition_id)
                book.tick = m.tick
                book.tick_known = True
                book.min_order_size = m.min_order_size
                self.changed[token] = None
        if self.paper is not None:
            self.paper.add_markets(usable)
        self.contexts.on_markets(usable)
        self.emit(MarketsLoaded(self.clock.time(), tuple(usable)))

    def on_frame(self, raw: bytes | str, recv_ts: float, source: str = "ws") -> None:
        """Apply one frame. `recv_ts` is when it arrived (clock time); the decision it
        triggers runs when the runner next calls decide()."""
        # The socket path runs this for every message: no per-frame allocation or call
        # that the common case (no paper order watching, no fill) does not need.
        books = self.books
        self.counts["messages"] += books.apply_frame(raw)
        dirty = books.dirty
        if dirty:
            books.dirty = {}
            if not self._dirty and self.measure_latency:
                self._trigger_ns = perf_ns()
            self._dirty.update(dirty)
            self.changed.update(dirty)
            received = self.book_received
            for asset in dirty:
                received[asset] = recv_ts
            # A WebSocket frame vouches for every book (the stream would have carried
            # their changes) only while every shard streams: a frame on one connection
            # says nothing of the books of another that is down. (A tape has no shards.)
            health = self.health
            if source == "ws" and health.ws_shards_live == health.ws_shards:
                self._last_ws_frame = recv_ts
            lots = self.exits.lots
            if lots:
                values = self.values
                for asset in dirty:
                    if asset in lots:
                        self.exits.mark(asset, books.books[asset].best_bid)
                        values.revalue(asset)
            paper = self.paper
            if paper is not None:
                if paper.watching:
                    watched = paper.watched(dirty)
                    if watched:
                        paper.after_frame(watched, self.clock.time())
                if paper.has_fills:
                    self._take_paper_fills()
        if len(books.resolved) != self._resolved_seen:
            self._settle_resolved()
        if len(books.new_markets) != self._listed_seen:
            listed = books.new_markets[self._listed_seen :]
            self._listed_seen = len(books.new_markets)
            for event in listed:
                self.counts["markets_listed"] += 1
                self.feed.market_listed(event)

    def _on_trade(self, asset_id: str, price: int, size: int, taker_side: str) -> None:
        self.contexts.on_trade(asset_id, size, self.clock.monotonic())
        if self.paper is not None:
            self.paper.on_trade(asset_id, price, size, taker_side, self.clock.time())

    def _take_paper_fills(self) -> None:
        assert self.paper is not None
        fills = self.paper.take_fills()
        if not fills:
            return
        touched: dict[str, None] = {}
        for fill in fills:
            tracked = self.tracker.get(fill.order_id)
            strategy = tracked.request.strategy if tracked else ""
            reason = tracked.request.reason if tracked else ""
            self._apply_fill(fill, strategy, reason)
            touched[fill.order_id] = None
        now = self.clock.time()
        for order_id in touched:
            update = self.tracker.after_fills(order_id, now)
            if update is not None:
                self.emit(update)

    # -- decisions ----------------------------------------------------------------------
    @property
    def pending_decisions(self) -> int:
        """Books changed since their last decision (none once the engine stopped
        trading: nothing will decide them, and a runner must not keep asking)."""
        return len(self._dirty) if self.trading else 0

    def decide(self, limit: int | None = None) -> int:
        """One decision pass over the books that changed; returns orders created.

        With `limit`, the pass takes only the first `limit` of them (in the order they
        changed) and leaves the rest for the next call: the live runner slices a pass so
        no loop turn blocks for long, each book decided once on its latest state. A
        backtest passes no limit.
        """
        if not self._dirty or not self.trading:
            return 0
        if limit is None or len(self._dirty) <= limit:
            dirty, self._dirty = self._dirty, {}
        else:
            pending = self._dirty
            dirty = dict.fromkeys(itertools.islice(pending, limit))
            for asset in dirty:
                del pending[asset]
        before = self.counts["orders"]
        clock = self.clock
        now = clock.monotonic()
        wall = clock.time()
        books = self.books.books
        resolved = self.books.resolved
        lots = self.exits.lots
        contexts = self.contexts
        strategies = self.strategies
        for asset_id in dirty:
            market = self.by_token.get(asset_id)
            if market is None or market.condition_id in resolved:
                continue
            book = books.get(asset_id)
            if book is None or not book.has_snapshot or book.needs_snapshot:
                continue
            position = self.portfolio.position(asset_id)
            if position and asset_id in lots and self._exit_due(asset_id, market, book, wall):
                continue
            view = contexts.view(asset_id)
            assert view is not None  # the book exists
            ctx = contexts.build(asset_id, market, view, position, now, wall)
            signals: list[Signal] = []
            for strategy in strategies:
                out = strategy.on_tick(ctx)
                if out is None:
                    continue
                if isinstance(out, Signal):
                    signals.append(out)
                else:
                    self.baskets.on_basket(out)
            if signals:
                self._on_signals(signals, market, book, now)
        return self.counts["orders"] - before

    def on_headlines(self, headlines: Sequence[Headline]) -> int:
        """Headlines a sentiment provider delivered: scored into the sentiment book,
        recorded, and the matched markets' tokens decided on at once; returns how many
        headlines moved a market."""
        book = self.sentiment
        if book is None or not headlines:
            return 0
        at = self.clock.time()
        scored = book.ingest(headlines, self.markets, at)
        moved = 0
        for item in scored:
            headline = item.headline
            self.emit(
                HeadlineScored(
                    at,
                    headline.title,
                    headline.provider,
                    headline.source,
                    headline.url,
                    headline.published_at,
                    float(item.score),
                    float(item.confidence),
                    tuple(item.markets),
                )
            )
            self.counts["headlines"] += 1
            if item.markets:
                moved += 1
                if not self._dirty and self.measure_latency:
                    self._trigger_ns = perf_ns()
                for market_id in item.markets:
                    market = self._markets_by_id.get(market_id)
                    if market is not None:
                        for token in market.token_ids:
                            self._dirty[token] = None
        self.sentiment_version += 1
        return moved

    def book_age(self, asset_id: str) -> float:
        """Seconds since the feed last vouched for this book: a frame that touched it, or
        any message on the live WebSocket that carries it (which would have carried its
        changes). A book no live connection carries ages from its own last frame."""
        received = self.book_received.get(asset_id, -1e18)
        health = self.health
        vouched = health.last_message_for
        if vouched is not None:
            # Sharded: only the connection that carries this book vouches for it (a
            # PONG or any message on it would have carried its changes).
            age = self.clock.time() - received
            seen = vouched(asset_id)
            if seen is not None:
                age = min(age, self.clock.monotonic() - seen)
            return max(0.0, age)
        age = self.clock.time() - max(received, self._last_ws_frame)
        if health.ws_connected and health.last_ws_message is not None:
            age = min(age, self.clock.monotonic() - health.last_ws_message)
        return max(0.0, age)

    def _on_signals(
        self,
        signals: list[Signal],
        market: MarketInfo,
        book: OrderBook,
        now: float,
    ) -> None:
        self.counts["signals"] += len(signals)
        asset = signals[0].asset_id
        combined = self.aggregator.resolve(asset, signals)
        intent = combined.intent
        outcome = "below threshold"
        order_id: str | None = None
        if intent is not None:
            if not intent.is_exit and not self.entries_allowed:
                outcome = "paused: no entries"
            elif not intent.is_exit and now < self._cooldown_until.get(asset, 0.0):
                outcome = "entry cooldown"
            else:
                self.counts["intents"] += 1
                if intent.is_exit or intent.side is Side.SELL:
                    outcome, order_id = self._exit_intent(intent, market, book)
                else:
                    lead = self._lead(intent, signals)
                    outcome, order_id = self._enter(intent, market, book, now, lead)
        latency = self.latency_us() if order_id is not None else None
        at = self.clock.time()
        lead = signals[0]
        self.last_signals[asset] = LastSignal(
            at,
            "+".join(sorted({s.strategy for s in signals})),
            (intent.side if intent is not None else lead.side).value,
            intent.is_exit if intent is not None else lead.is_exit,
            outcome,
            order_id,
        )
        self.signals_version += 1
        stats = self.attribution.of
        for s, decided in zip(signals, combined.decisions, strict=True):
            voter = decided is None
            decision = outcome if voter else decided
            if decision == DETECTED:
                stats(s.strategy).detected += 1
            else:
                stats(s.strategy).signals += 1
            self.emit(
                SignalRaised(
                    at,
                    s.strategy,
                    s.asset_id,
                    s.side,
                    s.strength,
                    s.reason,
                    s.is_exit,
                    decision or outcome,
                    s.edge_bps,
                    json.dumps(dict(s.inputs)) if s.inputs else "{}",
                    s.sentiment_source,
                    latency if voter else None,
                    order_id if voter else None,
                )
            )

    def latency_us(self) -> float | None:
        if not self.measure_latency or not self._trigger_ns:
            return None
        return round((perf_ns() - self._trigger_ns) / 1000, 1)

    def _lead(self, intent: Intent, signals: list[Signal]) -> Signal | None:
        """The voter whose say weighs most: its execution style, size hint and exit
        levels are the entry's."""
        weight = self.aggregator.weight
        voters = [s for s in signals if s.side is intent.side and s.strategy in intent.strategies]
        if not voters:
            return None
        return max(voters, key=lambda s: weight(s.strategy) * s.strength)

    def _exit_intent(
        self, intent: Intent, market: MarketInfo, book: OrderBook
    ) -> tuple[str, str | None]:
        """An exit signal closes its own strategies' lots (and lots of no known owner);
        another strategy's lot is left to that strategy: a hedged basket leg is never sold
        by a bystander's exit."""
        asset = intent.asset_id
        lots = self.exits.of(asset)
        mine = [lot for lot in lots.values() if not lot.strategy or lot.owned_by(intent.strategies)]
        if not mine:
            if lots:
                owners = " and ".join(f"{owner}'s" for owner in lots)
                return f"exit ignored: the lot is {owners}", None
            return "no exit order", None
        sent = [self._exit(asset, intent.reason, market, book, lot.strategy) for lot in mine]
        order_id = next((oid for oid in sent if oid is not None), None)
        return ("order", order_id) if order_id is not None else ("no exit order", None)

    def _exit_due(self, asset: str, market: MarketInfo, book: OrderBook, at: float) -> bool:
        """Sell every lot on this token that reached an exit rule; whether one was sent."""
        sent = False
        for lot in list(self.exits.of(asset).values()):
            if lot.shares < market.min_order_size:
                continue  # dust cannot be sold; settlement will close it
            rule = self.exits.due(lot, book.best_bid, at)
            if rule is not None and self._exit(asset, rule, market, book, lot.strategy):
                sent = True
        return sent

    def _refuse(
        self, asset: str, side: Side, strategy: str, reason: str, wanted: int, rule: str
    ) -> str:
        at = self.clock.time()
        if side is Side.SELL:
            # Exit rules retry on every housekeeping tick: record a held exit once per
            # reason per minute, not ten times a second.
            last = self._exit_refused.get(asset)
            if last is not None and last[0] == rule and at - last[1] < 60.0:
                return f"refused: {rule}: {reason}"
            self._exit_refused[asset] = (rule, at)
        else:
            self.counts["entry_refused"] += 1
        self.emit(IntentRejected(at, asset, side, strategy, reason, wanted, 0))
        self.reject(rule)
        return f"refused: {rule}: {reason}"

    def _enter(
        self,
        intent: Intent,
        market: MarketInfo,
        book: OrderBook,
        now: float,
        lead: Signal | None = None,
    ) -> tuple[str, str | None]:
        cfg = self.config.strategy
        tick = book.tick
        asset = intent.asset_id
        strategy = "+".join(intent.strategies)
        style = lead.execution if lead is not None and lead.execution is not None else None
        rest = (style or cfg.order_style) == Execution.REST
        at = self.clock.time()
        if rest:
            price = book.best_bid
        else:
            best = book.best_ask
            price = None if best is None else min(best + cfg.max_slippage_ticks * tick, ONE - tick)
        base = self.risk.base_size(strategy)
        confidence = abs(intent.score)
        if lead is not None and lead.size_hint is not None and lead.size_hint > 0:
            # The strategy's own size, its conviction already in it: not scaled again by
            # confidence; every cap below still applies.
            base, confidence = lead.size_hint, 1.0
        if price is None:
            rule = "no_price"
            return self._refuse(asset, Side.BUY, strategy, "no price on the book", base, rule), None
        verdict, fallback_scale = self.risk.screen_entry(
            EntryRequest(
                strategy,
                market.condition_id,
                asset,
                Side.BUY,
                price,
                abs(intent.score),
                self.book_age(asset),
                self.health.source,
                at,
            )
        )
        if verdict is not None:
            why, rule = verdict.reason or "", verdict.rule or "risk"
            return self._refuse(asset, Side.BUY, strategy, why, base, rule), None
        inputs = self._sizing_inputs(
            strategy, market, asset, price, confidence, base, fallback_scale, at
        )
        sized = self.risk.size(inputs)
        # Formatting costs more than sizing: keep the parts, format on demand.
        self._last_sizing = (market, inputs, sized, price)
        if sizing_log.isEnabledFor(logging.INFO):
            sizing_log.info("%s", self.last_sizing)
        if sized.size <= 0:
            why = f"sized to zero by {sized.rule or 'confidence'} ({sized.describe()})"
            rule = sized.rule or "sizing"
            return self._refuse(asset, Side.BUY, strategy, why, base, rule), None
        if sized.steps and any(rule != "confidence" for rule, _ in sized.steps):
            # A resize names the rule that resized it (confidence scaling is the strategy's
            # own and not a risk event).
            self.counts["resized"] += 1
            self.emit(
                IntentRejected(
                    at, asset, Side.BUY, strategy, f"resized: {sized.describe()}", base, sized.size
                )
            )
        order = OrderRequest(
            order_id=self.next_order_id(),
            asset_id=asset,
            market=market.condition_id,
            side=Side.BUY,
            price=price,
            size=sized.size,
            order_type=OrderType.GTD if rest else OrderType.FAK,
            strategy=strategy,
            reason=intent.reason,
            created_at=at,
            post_only=rest,
            expires_at=at + cfg.rest_ttl_s if rest else None,
        )
        self._cooldown_until[asset] = now + cfg.entry_cooldown_s
        self.risk.limiter.record(strategy, market.condition_id, Side.BUY, at)
        self.counts["entry_orders"] += 1
        self.decision_mid[order.order_id] = book.mid_price()
        if lead is not None and lead.exits is not None:
            self.order_levels[order.order_id] = lead.exits
        self.submit(order, market)
        return "order", order.order_id

    def _market_by_id(self, market: str) -> MarketInfo | None:
        return self._markets_by_id.get(market) or self._known_markets.get(market)

    @property
    def last_sizing(self) -> str:
        """The latest [sizing] line: every input and each rule that cut the size."""
        if self._last_sizing is None:
            return ""
        market, i, sized, price = self._last_sizing
        return (
            f"[sizing] {i.strategy} {market.outcome_of(i.token)} '{market.question[:40]}' "
            f"conf={i.confidence:.2f} base={format_size(i.base)} price={format_price(price)} "
            f"recovery={i.recovery_scale:.2f} fallback={i.fallback_scale:.2f} "
            f"equity={format_cash(i.equity)} cash={format_cash(i.cash)} "
            f"exposure market/event/total={format_cash(exposure(i.market))}/"
            f"{format_cash(i.event_exposure)}/{format_cash(i.total_exposure)} "
            f"-> {format_size(sized.size)}" + (f" ({sized.describe()})" if sized.steps else "")
        )

    def _sizing_inputs(
        self,
        strategy: str,
        market: MarketInfo,
        token: str,
        price: int,
        confidence: float,
        base: int,
        fallback_scale: float,
        at: float,
    ) -> SizingInputs:
        """Everything sizing weighs for an entry, as the account stands now (open buys
        count as held; exposure and equity are kept current incrementally)."""
        holding, event_exposure, total_exposure = self.exposures.of(market)
        return SizingInputs(
            strategy=strategy,
            token=token,
            price=price,
            confidence=confidence,
            base=base,
            recovery_scale=self.risk.kill_switch.entry_scale(at),
            fallback_scale=fallback_scale,
            position=self.portfolio.position(token) + self.tracker.buying(token),
            equity=self.values.equity(),
            cash=self.portfolio.cash - self.tracker.reserved_cash,
            market=holding,
            event_exposure=event_exposure,
            total_exposure=total_exposure,
            min_size=market.min_order_size,
            fees=market.fees,
        )

    def _unhedge_limit(self, asset: str, market: MarketInfo, size: int) -> int:
        """How much of a sell keeps exposure within the caps. Selling only ever lowers
        exposure, except one leg of a YES/NO hedge: those pairs pay 1 whatever happens, and
        selling a leg turns the other into open risk. Flatten and kill close every leg and
        are not limited."""
        holding, event_exposure, total_exposure = self.exposures.of(market)
        before = exposure(holding)
        limits = self.risk.limits
        room = min(
            limits.max_market_exposure - before,
            limits.max_event_exposure - event_exposure,
            limits.max_total_exposure - total_exposure,
        )
        pos = self.portfolio.positions.get(asset)
        if pos is None or not pos.shares:
            return size

        def delta(sold: int) -> int:
            shares = dict(holding.shares)
            shares[asset] -= sold
            released = pos.cost if sold >= pos.shares else pos.cost * sold // pos.shares
            return exposure(Holding(shares, holding.cost - released)) - before

        if delta(size) <= max(0, room):
            return size
        low, high = 0, size // SHARE_STEP  # the most whole steps that still fit
        while low < high:
            mid = (low + high + 1) // 2
            if delta(mid * SHARE_STEP) <= max(0, room):
                low = mid
            else:
                high = mid - 1
        return low * SHARE_STEP

    def _exit(
        self, asset: str, reason: str, market: MarketInfo, book: OrderBook, strategy: str
    ) -> str | None:
        """Sell the lot `strategy` owns here, what is not already being sold, at the bid
        less the slippage; returns the order's id (None: no order)."""
        lot = self.exits.get(asset, strategy)
        if lot is None:
            return None
        tracker = self.tracker
        sellable = min(
            self.portfolio.position(asset) - tracker.selling(asset),
            lot.shares - tracker.selling_by(asset, strategy),
        )
        if sellable <= 0:
            return None
        if (
            self.config.strategy.stale_book_exits == "hold"
            and self.book_age(asset) > self.config.strategy.max_book_age_s
        ):
            self._refuse(
                asset, Side.SELL, strategy, "stale book: exit held", sellable, "stale_book"
            )
            return None
        best = book.best_bid
        if best is None:
            self._refuse(asset, Side.SELL, strategy, "no bid to sell into", sellable, "no_price")
            return None
        price = max(best - self.config.strategy.max_slippage_ticks * book.tick, book.tick)
        decision = self.risk.check_sell(sellable, sellable, market.min_order_size)
        if not decision.approved:
            self._refuse(
                asset, Side.SELL, strategy, decision.reason or "", sellable, decision.rule or "sell"
            )
            return None
        size = self._unhedge_limit(asset, market, decision.size)
        if size < decision.size:
            why = (
                "exposure: selling this leg alone would unhedge the market past a cap "
                f"(sells {format_size(size)} of {format_size(decision.size)})"
            )
            self._refuse(asset, Side.SELL, strategy, why, decision.size, "exposure")
            if size < market.min_order_size or size <= 0:
                return None
            decision = replace(decision, size=size)
        at = self.clock.time()
        return self.sell(market, asset, price, decision.size, strategy, reason, book, at)

    def next_order_id(self) -> str:
        """The engine's client id: unique across runs of one ledger."""
        self._order_seq += 1
        return f"r{self.run_id}-{self._order_seq}"

    def sell(
        self,
        market: MarketInfo,
        asset: str,
        price: int,
        size: int,
        strategy: str,
        reason: str,
        book: OrderBook,
        at: float,
        order_id: str | None = None,
    ) -> str:
        """Send a closing FAK sell (exits, flatten, kill); returns its order id (the one
        given, when the caller had to know it before a gateway that answers at once)."""
        order = OrderRequest(
            order_id=order_id or self.next_order_id(),
            asset_id=asset,
            market=market.condition_id,
            side=Side.SELL,
            price=price,
            size=size,
            order_type=OrderType.FAK,
            strategy=strategy,
            reason=reason,
            created_at=at,
            is_exit=True,
        )
        self.decision_mid[order.order_id] = book.mid_price()
        self.submit(order, market)
        return order.order_id

    def submit(self, order: OrderRequest, market: MarketInfo | None = None) -> None:
        """Track an order and hand it to the runner (commands use this too)."""
        market = market or self.by_token.get(order.asset_id)
        fees = market.fees if market is not None else None
        self.counts["orders"] += 1
        self.attribution.of(order.strategy).orders += 1
        self.feed.hit(order.asset_id)
        if trades_log.isEnabledFor(logging.INFO):
            trades_log.info(
                "ORDER %s %s %s %s @ %s %s%s '%s' strategy=%s reason=%s",
                order.order_id,
                order.side.value,
                format_size(order.size),
                market.outcome_of(order.asset_id) if market else order.asset_id[:12],
                format_price(order.price),
                order.order_type.value,
                " post-only" if order.post_only else "",
                market.question if market else "",
                order.strategy or "-",
                order.reason or "-",
            )
        # OrderSubmitted is the order's "new" transition in the ledger.
        self.tracker.add(order, fees or FREE)
        self.exposures.touch(order.market)
        self.emit(OrderSubmitted(order.created_at, order))
        self.outbox.append(order)
        if self.on_work is not None:
            self.on_work()

    def reject(self, reason: str) -> None:
        self.counts["rejects"] += 1
        self.rejects[reason] += 1

    def _kill_switch_ready(self, at: float) -> bool:
        """Equity is only worth a baseline (or a trip) once every holding is marked at a
        bid: positions restored before their books arrive would count at cost. A holding
        whose market this run does not list never gets a book: after a grace period it is
        counted at cost, and said so."""
        if not self.values.unmarked:
            return True
        if at - self._started_at_time < RESTORE_MARK_GRACE_S:
            return False
        if not self._warned_unmarked:
            self._warned_unmarked = True
            log.warning(
                "kill switch: %d holding(s) have no book in this run and count at cost",
                len(self.values.unmarked),
            )
        return True

    def _place_replacements(self, at: float) -> None:
        """execution.on_restart = "replace": once a replaced order's book is tradeable,
        its remainder goes back through the risk gate like any new decision."""
        waiting: list[OrderRequest] = []
        for old in self.replacements:
            market = self.by_token.get(old.asset_id)
            book = self.books.books.get(old.asset_id)
            ready = book is not None and book.has_snapshot and not book.needs_snapshot
            if market is None or book is None or not ready:
                if at - self._started_at_time < RESTORE_MARK_GRACE_S:
                    waiting.append(old)
                else:
                    self._refuse(
                        old.asset_id,
                        old.side,
                        old.strategy,
                        f"not replaced: {old.order_id}'s market has no book in this run",
                        old.size,
                        "not_replaced",
                    )
                continue
            reason = f"replaces {old.order_id} after a restart"
            if old.is_exit or old.side is Side.SELL:
                self._exit(old.asset_id, reason, market, book, old.strategy)
                continue
            verdict, scale = self.risk.screen_entry(
                EntryRequest(
                    old.strategy,
                    market.condition_id,
                    old.asset_id,
                    Side.BUY,
                    old.price,
                    1.0,
                    self.book_age(old.asset_id),
                    self.health.source,
                    at,
                )
            )
            if verdict is not None:
                self._refuse(
                    old.asset_id,
                    Side.BUY,
                    old.strategy,
                    f"not replaced: {verdict.reason}",
                    old.size,
                    verdict.rule or "risk",
                )
                continue
            sized = self.risk.size(
                self._sizing_inputs(
                    old.strategy, market, old.asset_id, old.price, 1.0, old.size, scale, at
                )
            )
            if sized.size <= 0:
                self._refuse(
                    old.asset_id,
                    Side.BUY,
                    old.strategy,
                    f"not replaced: sized to zero by {sized.rule}",
                    old.size,
                    "sizing",
                )
                continue
            order = replace(
                old,
                order_id=self.next_order_id(),
                size=sized.size,
                reason=reason,
                created_at=at,
            )
            self.risk.limiter.record(old.strategy, market.condition_id, Side.BUY, at)
            self.counts["entry_orders"] += 1
            self.submit(order, market)
        self.replacements = waiting

    def add_known_markets(self, markets: Iterable[MarketInfo]) -> None:
        """Markets the ledger knows (positions may be held there) that this run may not
        list: exposure still counts them."""
        for m in markets:
            self._known_markets.setdefault(m.condition_id, m)

    # -- commands: flatten, kill, reset ----------------------------------------------------
    def flatten_preview(self, scope: FlattenScope | None = None) -> FlattenPlan:
        """What flatten would do: every cancel and every closing order, with its expected
        price and PnL at the current book, and what it could not close (and why)."""
        scope = scope or FlattenScope()
        cancels = tuple(
            oid
            for oid, t in self.tracker.open.items()
            if scope.covers(t.request.strategy, t.request.market, t.request.asset_id)
        )
        closes: list[PlannedClose] = []
        left: list[tuple[str, int, str]] = []
        ticks = self.config.execution.flatten_max_slippage_ticks
        tracker = self.tracker
        for asset, pos in self.portfolio.positions.items():
            if not pos.shares:
                continue
            # (owner, shares held, shares to sell, their cost): one strategy's lots, or the
            # whole position (owner "": a sell that reduces every lot).
            groups: list[tuple[str, int, int, int]]
            if scope.kind == "strategy":
                groups = [
                    (
                        lot.strategy,
                        lot.shares,
                        lot.shares - tracker.selling_by(asset, lot.strategy),
                        lot.cost,
                    )
                    for lot in self.exits.of(asset).values()
                    if scope.covers(lot.strategy, pos.market, asset)
                ]
            elif scope.covers("", pos.market, asset):
                groups = [("", pos.shares, pos.shares - tracker.selling(asset), pos.cost)]
            else:
                groups = []
            market = self.by_token.get(asset)
            book = self.books.books.get(asset)
            for owner, held, shares, basis in groups:
                if shares <= 0:
                    left.append((asset, held, "already being sold"))
                    continue
                if market is None or book is None or book.best_bid is None:
                    left.append((asset, shares, "no bid to sell into"))
                    continue
                if shares < market.min_order_size:
                    left.append((asset, shares, "below the market's minimum order size"))
                    continue
                limit = max(book.best_bid - ticks * book.tick, book.tick)
                match = match_taker(book, Side.SELL, limit, shares, market.fees)
                filled = match.filled
                expected = int(match.notional // filled) if filled else None
                pnl = match.notional - match.fee - basis * filled // held if filled else None
                closes.append(PlannedClose(asset, shares, limit, expected, pnl, filled, owner))
                if filled < shares:
                    left.append((asset, shares - filled, "not enough bids within the cap"))
        return FlattenPlan(scope, cancels, tuple(closes), tuple(left))

    def flatten(
        self, scope: FlattenScope | None = None, *, who: str = "user", reason: str = "flatten"
    ) -> FlattenPlan:
        """Cancel every open order in scope, then close every position in scope with a
        FAK sell capped at the bid less `execution.flatten_max_slippage_ticks`."""
        plan = self.flatten_preview(scope)
        sent: list[str] = []
        log.warning(
            "flatten (%s, by %s): %d cancels, %d closes",
            reason,
            who,
            len(plan.cancels),
            len(plan.closes),
        )
        for order_id in plan.cancels:
            self.cancel(order_id)
        at = self.clock.time()
        for close in plan.closes:
            order_id = self.sell(
                self.by_token[close.asset_id],
                close.asset_id,
                close.limit_price,
                close.shares,
                close.strategy,
                reason,
                self.books.books[close.asset_id],
                at,
            )
            sent.append(order_id)
        return replace(plan, orders=tuple(sent))

    def flatten_outcome(self, plan: FlattenPlan) -> tuple[tuple[str, int, str], ...]:
        """After an executed flatten: what is still held in its scope, and why."""
        left = {asset: (shares, why) for asset, shares, why in plan.left}
        for close in plan.closes:
            if close.strategy:
                lot = self.exits.get(close.asset_id, close.strategy)
                held = lot.shares if lot is not None else 0
            else:
                held = self.portfolio.position(close.asset_id)
            if held:
                left[close.asset_id] = (held, "not filled within the price cap")
        return tuple((asset, shares, why) for asset, (shares, why) in left.items())

    def kill(self, who: str) -> FlattenPlan:
        """Latch the kill switch (no entries until an explicit reset) and flatten all."""
        self.emit(self.risk.kill_switch.kill(self.clock.time(), who))
        return self.flatten(FlattenScope(), who=who, reason="kill")

    def reset_kill_switch(self, who: str) -> None:
        """Re-arm the kill switch explicitly, with a new baseline; recorded with who."""
        self.emit(self.risk.kill_switch.reset(self.clock.time(), who, self.values.equity()))

    # -- the gateway's answers ------------------------------------------------------------
    def on_order_result(self, order: OrderRequest, result: OrderResult) -> None:
        for fill in result.fills:
            self._apply_fill(fill, order.strategy, order.reason)
        update = self.tracker.on_result(result, self.clock.time())
        self.exposures.touch(order.market)
        if update is not None:
            self.emit(update)
        if not result.status.is_open:
            self.decision_mid.pop(order.order_id, None)
            self.order_levels.pop(order.order_id, None)
        if result.status is OrderStatus.REJECTED:
            self.reject(result.reason or "rejected by the gateway")
            trades_log.info("REJECTED %s: %s", order.order_id, result.reason)
        elif result.status.is_open and order.order_id in self._cancel_requested:
            self.cancel(order.order_id)  # cancelled while it was on its way

    def cancel(self, order_id: str) -> None:
        if self.tracker.get(order_id) is None:
            return
        self._cancel_requested.add(order_id)
        self.cancels.append(order_id)
        if self.on_work is not None:
            self.on_work()

    def on_cancelled(
        self, order_id: str, ok: bool, status: OrderStatus = OrderStatus.CANCELLED, reason: str = ""
    ) -> None:
        """The gateway took the order off the book (ok) or did not have it (not yet, or
        already done): then the order's own result settles it."""
        if not ok:
            return
        self._cancel_requested.discard(order_id)
        tracked = self.tracker.get(order_id)
        if tracked is not None:
            self.exposures.touch(tracked.request.market)
        update = self.tracker.close(order_id, status, reason or "cancelled", self.clock.time())
        if update is not None:
            self.emit(update)

    def _expire(self, order_id: str, reason: str, status: OrderStatus) -> None:
        """Settlement and expiry close an order at once; the gateway is told too."""
        if self.paper is not None:
            self.paper.cancel(order_id)
        else:
            self.cancels.append(order_id)
        tracked = self.tracker.get(order_id)
        if tracked is not None:
            self.exposures.touch(tracked.request.market)
        update = self.tracker.close(order_id, status, reason, self.clock.time())
        if update is not None:
            self.emit(update)

    # -- fills and settlement ------------------------------------------------------------
    def _apply_fill(self, fill: Fill, strategy: str, reason: str) -> None:
        portfolio = self.portfolio
        asset = fill.asset_id
        before = portfolio.positions.get(asset)
        realized_before = before.realized if before is not None else 0
        if fill.side is Side.SELL and fill.size > (before.shares if before else 0):
            # Never happens while the tracker reserves sells; if it does, it is a bug that
            # must not corrupt the account: record it and drop the fill.
            log.error("dropping a sell fill larger than the position: %s", fill)
            self.counts["dropped_fills"] += 1
            return
        pos = portfolio.apply(fill)
        self.tracker.on_fill(fill)
        self.exposures.touch(fill.market)
        self.portfolio_version += 1
        self.counts["fills"] += 1
        self.changed[asset] = None
        mid = self.decision_mid.get(fill.order_id)
        slippage = _slippage_bps(fill, mid)
        self._telemetry(fill, slippage)
        self.attribution.of(strategy).on_fill(fill, mid)
        self.baskets.on_fill(fill)
        self.emit(Filled(fill.at, fill, strategy, reason, mid, slippage))
        self.emit(
            PositionChanged(
                fill.at, asset, fill.market, pos.shares, pos.cost, pos.realized, pos.fees
            )
        )
        market = self.by_token.get(asset)
        if trades_log.isEnabledFor(logging.INFO):
            trades_log.info(
                "FILL %s %s %s %s @ %s fee %s %s '%s' strategy=%s reason=%s",
                fill.fill_id,
                fill.side.value,
                format_size(fill.size),
                market.outcome_of(asset) if market else asset[:12],
                format_price(fill.price),
                format_cash(fill.fee),
                fill.liquidity.value,
                market.question if market else "",
                strategy or "-",
                reason or "-",
            )
        exits = self.exits
        book = self.books.books.get(asset)
        if fill.side is Side.BUY:
            _, opened = exits.buy(asset, fill.market, strategy, fill.price, fill.size, fill.at)
            levels = self.order_levels.get(fill.order_id)
            if levels is not None and opened:
                # The lot this entry opened exits on its strategy's own levels.
                exits.set_levels(
                    asset, strategy, levels.take_profit, levels.stop_loss, levels.max_holding_s
                )
            if book is not None:
                exits.mark(asset, book.best_bid)  # marked at the bid from the start
            self.values.revalue(asset)
            return
        reduced = exits.sell(asset, strategy, fill.size)
        self.values.revalue(asset)
        self.exit_reasons[reason] += 1
        self._closed(fill, reason, reduced, pos.realized - realized_before, slippage)

    def _closed(
        self,
        fill: Fill,
        reason: str,
        reduced: list[Reduced],
        realized: int,
        slippage: float | None,
    ) -> None:
        """A sell closed (part of) one or more lots: each gets its share of the fill's
        realised PnL and fee, by shares (the last the remainder, so they sum exactly), and
        its exit row with its own entry, holding time and excursions."""
        total = sum(r.shares for r in reduced)
        realized_left, fee_left = realized, fill.fee
        for i, r in enumerate(reduced):
            last = i == len(reduced) - 1
            part = realized_left if last else realized * r.shares // total
            fee = fee_left if last else fill.fee * r.shares // total
            realized_left -= part
            fee_left -= fee
            owner = r.lot.strategy
            self.attribution.of(owner).realized += part
            self.emit(
                PositionClosed(
                    fill.at,
                    fill.asset_id,
                    fill.market,
                    owner,
                    reason,
                    r.shares,
                    r.entry_price,
                    fill.price,
                    part,
                    fee,
                    holding_s=round(fill.at - r.opened_at, 3),
                    mae=r.excursions[0],
                    mfe=r.excursions[1],
                    slippage_bps=slippage,
                )
            )

    def _telemetry(self, fill: Fill, slippage: float | None) -> None:
        t = self.telemetry
        t["exits" if fill.side is Side.SELL else "entries"] += 1
        t[fill.liquidity.value] += 1
        t["notional"] += fill.price * fill.size
        t["fees"] += fill.fee
        if slippage is not None:
            t["slippage_fills"] += 1
            t["slippage_bps_x100"] += round(slippage * 100)

    def _settle_resolved(self) -> None:
        resolved = self.books.resolved
        items = list(resolved.items())[self._resolved_seen :]
        self._resolved_seen = len(resolved)
        for market_id, winner in items:
            self.feed.market_resolved(market_id)
            market = self._markets_by_id.get(market_id)
            if market is None:
                continue
            if winner not in market.token_ids:
                self.books.problem(
                    "bad_event", f"market_resolved for {market_id[:12]}… names no token of it"
                )
                continue
            self.settle(market, winner)

    def settle(self, market: MarketInfo, winner: str) -> None:
        """The winning token pays 1, the others 0; open orders there are cancelled."""
        at = self.clock.time()
        for order_id in self.tracker.on_market(market.condition_id):
            self._expire(order_id, "market resolved", OrderStatus.CANCELLED)
        for token in market.token_ids:
            payout = ONE if token == winner else 0
            lots = self.exits.close_all(token)
            shares, cash, realized, avg = self.portfolio.settle(token, payout)
            if not shares:
                continue
            self.portfolio_version += 1
            self.counts["settlements"] += 1
            pos = self.portfolio.positions[token]
            self.emit(
                PositionSettled(at, token, market.condition_id, shares, payout, cash, realized)
            )
            # Each lot settles on its own exit row, its share of the realised PnL by shares.
            owned = [(lot.strategy, lot.shares, lot.entry_price) for lot in lots if lot.shares]
            held = sum(n for _, n, _ in owned)
            if held != shares:  # lots always cover the position; if not, one row says all
                owned, held = [("", shares, avg)], shares
            left = realized
            for i, (owner, n, entry) in enumerate(owned):
                part = left if i == len(owned) - 1 else realized * n // held
                left -= part
                self.attribution.of(owner).realized += part
                self.emit(
                    PositionClosed(
                        at,
                        token,
                        market.condition_id,
                        owner,
                        "settlement",
                        n,
                        entry,
                        payout,
                        part,
                        0,
                    )
                )
            self.emit(
                PositionChanged(
                    at, token, market.condition_id, pos.shares, pos.cost, pos.realized, pos.fees
                )
            )
            self.changed[token] = None
            self.values.revalue(token)
        self.exposures.touch(market.condition_id)

    # -- timers -------------------------------------------------------------------------
    def next_timer_at(self) -> float:
        return self._next_housekeeping

    def on_timer(self) -> None:
        """Periodic jobs: feed-source changes, re-snapshots with backoff, order expiry."""
        now = self.clock.monotonic()
        if now < self._next_housekeeping:
            return
        self._next_housekeeping = now + self.config.housekeeping_interval_s
        source = self.health.source
        if source is not self._last_source:
            previous, self._last_source = self._last_source, source
            self.emit(
                FeedSourceChanged(
                    self.clock.time(), source.value, previous.value, self.health.fallback_reason
                )
            )
        self._resnapshot(now)
        at = self.clock.time()
        for order_id in self.tracker.expired(at):
            self._expire(order_id, "expired (GTD)", OrderStatus.EXPIRED)
        if not self.trading:
            return
        if self.baskets.runs:
            self.baskets.check(at)
        if self.replacements:
            self._place_replacements(at)
        kill_switch = self.risk.kill_switch
        if self._kill_switch_ready(at):
            for change in kill_switch.update(self.values.equity(), at):
                self.emit(change)
                if change.reason == "trip":
                    log.warning(
                        "kill switch tripped: loss %s reached the limit %s",
                        format_cash(change.loss),
                        format_cash(change.limit),
                    )
            if kill_switch.take_flatten():  # flatten_on_trip (asked again after a restart)
                self.flatten(FlattenScope(), who="kill switch", reason="kill switch trip")
        books = self.books.books
        for asset in list(self.exits.lots):
            book = books.get(asset)
            market = self.by_token.get(asset)
            if book is None or market is None or not book.has_snapshot or book.needs_snapshot:
                continue
            self._exit_due(asset, market, book, at)

    def _resnapshot(self, now: float) -> None:
        pending = self._resnap_pending
        for asset in self.books.take_needs_snapshot():
            pending[asset] = None
        attempts = self._resnap_attempts
        if attempts:
            books = self.books.books
            for asset in [a for a in attempts if not books[a].needs_snapshot]:
                del attempts[asset]
                self._resnap_next.pop(asset, None)
        if not pending:
            return
        due = [a for a in pending if self._resnap_next.get(a, 0.0) <= now]
        if not due:
            return
        cfg = self.config
        for asset in due:
            del pending[asset]
            n = attempts[asset] = attempts.get(asset, 0) + 1
            delay = min(cfg.resnapshot_backoff_cap_s, cfg.resnapshot_backoff_base_s * 2 ** (n - 1))
            self._resnap_next[asset] = now + delay
        self.counts["resnapshots"] += len(due)
        self.feed.want_snapshot(due)

    # -- views ----------------------------------------------------------------------------
    def _complement(self, asset_id: str) -> str | None:
        market = self.by_token.get(asset_id)
        return None if market is None else market.complement_of(asset_id)

    def _mark(self, asset_id: str) -> int | None:
        book = self.books.books.get(asset_id)
        if book is None:
            return None
        return book.best_bid if book.best_bid is not None else book.last_trade_price

    def marks(self) -> dict[str, int]:
        """Mark each holding where it could be sold now: best bid, else last trade."""
        marks: dict[str, int] = {}
        books = self.books.books
        for asset, pos in self.portfolio.positions.items():
            if not pos.shares:
                continue
            book = books.get(asset)
            if book is None:
                continue
            mark = book.best_bid if book.best_bid is not None else book.last_trade_price
            if mark is not None:
                marks[asset] = mark
        return marks

    def config_json(self) -> str:
        return json.dumps(self.config.model_dump(mode="json"), sort_keys=True)


def _slippage_bps(fill: Fill, mid: int | None) -> float | None:
    """The fill against the mid at decision, in basis points; positive costs us."""
    if not mid:
        return None
    diff = fill.price - mid if fill.side is Side.BUY else mid - fill.price
    return round(diff * 10_000 / mid, 2)

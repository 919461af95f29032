"""The engine core: the state machine, the decision loop and the timers.

It is synchronous and driven from outside: a runner hands frames to the data intake,
then wakes the core for decisions (``decide()``, as soon as the loop is free after books
changed) and for its timers (``on_timer()``). It never awaits: orders leave through the
order manager for the runner's queue, so a slow gateway never stalls a decision. A live
runner drives it from sockets on the system clock; the backtest runner from tape records
on a simulated clock.

The work is done by components it only drives (see ``engine/runtime/kernel.py`` for how
they are assembled): the data intake (books, what changed, feed health), the strategies
and aggregator, the entry screen and risk gate, the exit desk, the basket desk, the order
manager (the one door for venue reports), the accounting, and flatten. Everything leaves
as a typed event through ``emit``.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Sequence

from engine.clock import Clock
from engine.config import EngineConfig
from engine.decisions import (
    BELOW_THRESHOLD,
    COOLDOWN,
    DETECTED,
    ORDER,
    PAUSED,
    Decision,
    DecisionKind,
)
from engine.events import (
    EngineEvent,
    EngineStateChanged,
    HeadlineScored,
    IntentRejected,
    MarketsLoaded,
    SignalRaised,
)
from engine.execution.flatten import FlattenPlan, FlattenScope
from engine.exit_reasons import ExitReason
from engine.market.book import OrderBook
from engine.market.markets import MarketInfo
from engine.market.sentiment import Headline, ProviderStatus
from engine.orders import OrderRequest, OrderType, Side, StrategyId
from engine.repeats import RepeatFold
from engine.risk.entry import Refusal
from engine.risk.kill_switch import KillSwitchState
from engine.runtime.components import Components, LastSignal
from engine.runtime.latency import LatencyRecorder
from engine.runtime.manual import ManualOrder, ManualOutcome
from engine.runtime.state import EngineState
from engine.strategies.aggregator import Aggregator, Intent
from engine.strategies.base import Execution, Signal, Strategy
from engine.strategies.sentiment import SentimentBook
from engine.venue import TradingMode

_ENTRIES_BLOCKED = (KillSwitchState.TRIPPED, KillSwitchState.COOLDOWN)
# json.dumps with its default settings (the same text, byte for byte), without the
# per-call checks and the copy of a dict: it runs for every signal recorded.
_to_json = json.JSONEncoder().encode
# Decisions a rule made and keeps making while it holds: their signal rows are folded
# into a row a minute per strategy, token, side and rule, with its count (engine.repeats).
_FOLDED = frozenset((DecisionKind.REFUSED, DecisionKind.PAUSED, DecisionKind.COOLDOWN))
# A signal's kind while folded, and what a held one keeps for its row (written when its
# minute ends, or when the run finishes).
_FoldKey = tuple[str, str, Side, bool, DecisionKind, str]
_Held = tuple[float, Signal, Decision]
log = logging.getLogger("engine")


class EngineCore:
    def __init__(
        self,
        config: EngineConfig,
        clock: Clock,
        parts: Components,
        *,
        strategies: Sequence[Strategy],
        aggregator: Aggregator,
        emit: Callable[[EngineEvent], None],
        mode: TradingMode = TradingMode.PAPER,
        venue: str = "polymarket",
        sentiment: SentimentBook | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.parts = parts
        self.intake = parts.intake
        self.registry = parts.registry
        self.oms = parts.oms
        self.accounting = parts.accounting
        self.roster = parts.roster
        self.strategies = parts.roster.strategies  # one list: the roster reads it per pass
        self.aggregator = aggregator
        self.emit = emit
        self.mode = mode
        self.venue = venue
        self.sentiment = sentiment
        self.sentiment_status: ProviderStatus | None = None  # the live source's, if one runs
        self.state = EngineState.STARTING
        self.error: str | None = None
        self.run_id = 0
        self.counts: Counter[str] = Counter()  # signals, intents, entry_orders, headlines
        self.started_at = clock.monotonic()
        self._next_housekeeping = clock.monotonic()
        self.sentiment_version = 0
        # The latest decision on each token (the console's markets pane shows it).
        self.last_signals: dict[str, LastSignal] = {}
        self.signals_version = 0
        self.watched: str | None = None  # the token whose depth the snapshot carries
        # Frame -> order latency, recorded by the runner (the snapshot carries it).
        self.latency = LatencyRecorder()
        self._folded_signals: RepeatFold[_FoldKey, _Held] = RepeatFold()
        parts.intake.on_resolution(self.settle)
        # Bound once: on_trade runs for every trade print.
        self._monotonic = clock.monotonic
        self._flow_on_trade = parts.contexts.on_trade
        self._prints_on_trade = parts.prints.on_trade

    # -- lifecycle ------------------------------------------------------------------------
    def start(self, run_id: int) -> None:
        self.run_id = run_id
        self.oms.start(run_id)
        self.started_at = self.clock.monotonic()
        restart = self.parts.restart
        restart.begin(self.clock.time())
        self._set_state(EngineState.RUNNING)
        # The kill switch takes (or restores) the day's baseline before anything trades;
        # with positions held it waits for their marks.
        self.parts.guard.baseline(self.clock.time())
        restart.close_orphans()

    def pause(self) -> None:
        """No new entries: resting entry orders are cancelled too (one filling after the
        pause would open a position all the same); exits, cancels and settlement go on."""
        if self.state is EngineState.RUNNING:
            self._set_state(EngineState.PAUSED)
            for order_id, tracked in list(self.oms.tracker.open.items()):
                if not tracked.request.is_exit and tracked.request.side is Side.BUY:
                    self.oms.cancel(order_id)

    def resume(self) -> None:
        if self.state is EngineState.PAUSED:
            self._set_state(EngineState.RUNNING)

    def stopping(self) -> None:
        if self.state in (EngineState.RUNNING, EngineState.PAUSED, EngineState.STARTING):
            self._set_state(EngineState.STOPPING)

    def finish(self, error: str | None = None) -> None:
        # Repeats still held are written before the run's last state change.
        self._write_held(self._folded_signals.drain())
        self.parts.refusals.flush()
        self.intake.clear()
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
        return self.state.trading

    # -- market data ------------------------------------------------------------------------
    def on_markets(self, markets: Sequence[MarketInfo]) -> None:
        """The markets to trade (the whole list: a feed calls again when it adds some)."""
        self.intake.on_markets(markets)
        self.emit(MarketsLoaded(self.clock.time(), tuple(self.registry.markets)))

    def on_frame(self, raw: bytes | str, recv_ts: float, source: str = "ws") -> None:
        self.intake.on_frame(raw, recv_ts, source)

    def on_trade(self, asset_id: str, price: int, size: int, taker_side: str) -> None:
        """A trade print (the book store's listener): the token's flow for strategies, and
        the latest prints a watched depth shows."""
        self._flow_on_trade(asset_id, size, self._monotonic())
        self._prints_on_trade(asset_id, price, size, taker_side)

    def settle(self, market: MarketInfo, winner: str) -> None:
        """A market resolved: its open orders are cancelled, its holdings paid."""
        self.oms.close_market(market.condition_id, "market resolved")
        self.accounting.settle(market, winner)

    # -- decisions ------------------------------------------------------------------------------
    @property
    def pending_decisions(self) -> int:
        """Books changed since their last decision (none once the engine stopped
        trading: nothing will decide them, and a runner must not keep asking)."""
        return self.intake.pending if self.trading else 0

    def decide(self, limit: int | None = None) -> int:
        """One decision pass over the books that changed; returns orders created.

        With `limit`, the pass takes only the first `limit` of them (in the order they
        changed) and leaves the rest for the next call: the live runner slices a pass so
        no loop turn blocks for long, each book decided once on its latest state. A
        backtest passes no limit.

        Each book with lots has its exit rules checked; the strategies are asked only
        about the books they name (the roster), with the book's context updated in place.
        """
        intake = self.intake
        if not intake.pending or not self.trading:
            return 0
        logbook = self.parts.logbook
        logbook.hold()  # the pass's log lines once its orders have left
        try:
            return self._decide(intake.take(limit))
        finally:
            logbook.release()

    def _decide(self, dirty: dict[str, None]) -> int:
        intake = self.intake
        before = self.oms.counts["orders"]
        clock = self.clock
        now = clock.monotonic()
        wall = clock.time()
        roster = self.roster
        wanted = roster.plan(dirty, now)
        plain = roster.plain
        lots_matter = roster.lots_matter
        books = intake.books.books
        by_token = self.registry.by_token
        complements = self.registry.complements
        resolved = self.registry.resolved
        lots = self.accounting.lots.lots
        position = self.accounting.portfolio.position
        refresh = self.parts.contexts.refresh
        exits = self.parts.exits
        baskets = self.parts.baskets
        timed = intake.measure_latency
        for asset_id in dirty:
            if timed:
                intake.deciding(asset_id)  # orders from here on are timed from its frame
            named = wanted.get(asset_id)
            # Lots on this book or its complement: exit rules, and strategies whose
            # exits read lots. (Read per book: a fill earlier in this pass may add some.)
            lots_held = bool(lots) and (
                asset_id in lots or complements.get(asset_id, asset_id) in lots
            )
            if named is None and not lots_held and not plain:
                continue
            market = by_token.get(asset_id)
            if market is None or market.condition_id in resolved:
                continue
            book = books.get(asset_id)
            if book is None or not book.has_snapshot or book.needs_snapshot:
                continue
            held = position(asset_id)
            if held and asset_id in lots and exits.due(asset_id, market, book, wall):
                continue
            asked = roster.asked(named, lots_held and lots_matter) if lots_held or plain else named
            if not asked:
                continue
            ctx = refresh(asset_id, market, held, now, wall)
            signals: list[Signal] = []
            for strategy in asked:
                out = strategy.on_tick(ctx)
                if out is None:
                    continue
                if isinstance(out, Signal):
                    signals.append(out)
                else:
                    baskets.on_basket(out)
            if signals:
                self._on_signals(signals, market, book, now)
        if timed:
            intake.deciding(None)
        return self.oms.counts["orders"] - before

    def follow_sentiment(self, status: ProviderStatus) -> None:
        """The live headline source's status, for the snapshot's sentiment section."""
        self.sentiment_status = status

    def on_headlines(self, headlines: Sequence[Headline]) -> int:
        """Headlines a sentiment provider delivered: scored into the sentiment book,
        recorded, and the matched markets' tokens decided on at once; returns how many
        headlines moved a market."""
        book = self.sentiment
        if book is None or not headlines:
            return 0
        at = self.clock.time()
        scored = book.ingest(headlines, self.registry.markets, at)
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
                tokens: list[str] = []
                for market_id in item.markets:
                    market = self.registry.listed(market_id)
                    if market is not None:
                        tokens.extend(market.token_ids)
                self.intake.mark(tokens)
        self.sentiment_version += 1
        return moved

    def book_age(self, asset_id: str) -> float:
        return self.intake.book_age(asset_id)

    def _on_signals(
        self, signals: list[Signal], market: MarketInfo, book: OrderBook, now: float
    ) -> None:
        self.counts["signals"] += len(signals)
        asset = signals[0].asset_id
        combined = self.aggregator.resolve(asset, signals)
        intent = combined.intent
        outcome: Decision = BELOW_THRESHOLD
        order_id: str | None = None
        if intent is not None:
            if not intent.is_exit and not self.entries_allowed:
                outcome = PAUSED
            elif not intent.is_exit and self.parts.screen.cooling(asset, now):
                outcome = COOLDOWN
            else:
                self.counts["intents"] += 1
                if intent.is_exit or intent.side is Side.SELL:
                    outcome, order_id = self.parts.exits.on_intent(intent, market, book)
                else:
                    outcome, order_id = self._enter(intent, market, book, now, signals)
        latency = self.intake.latency_us() if order_id is not None else None
        at = self.clock.time()
        lead = signals[0]
        if len(signals) == 1:
            voted = StrategyId(lead.strategy)
        else:
            voted = StrategyId.of(sorted({s.strategy for s in signals}))
        self.last_signals[asset] = LastSignal(
            at,
            voted,
            intent.side if intent is not None else lead.side,
            intent.is_exit if intent is not None else lead.is_exit,
            outcome,
            order_id,
        )
        self.signals_version += 1
        stats = self.parts.attribution.of
        emit = self.emit
        for s, decided in zip(signals, combined.decisions, strict=True):
            voter = decided is None
            decision = outcome if decided is None else decided
            if decision == DETECTED:
                stats(s.strategy).detected += 1
            else:
                stats(s.strategy).signals += 1
            repeats = 1
            kind = decision.kind
            if kind in _FOLDED:
                key = (s.strategy, s.asset_id, s.side, s.is_exit, kind, decision.rule)
                repeats = self._folded_signals.admit(key, now, (at, s, decision))
                if not repeats:
                    continue  # held: counted into its kind's next row
            emit(
                _signal_row(
                    at,
                    s,
                    decision,
                    latency if voter else None,
                    order_id if voter else None,
                    repeats,
                )
            )

    def _lead(self, intent: Intent, signals: list[Signal]) -> Signal | None:
        """The voter whose say weighs most: its execution style, size hint and exit
        levels are the entry's."""
        weight = self.aggregator.weight
        voters = [s for s in signals if s.side is intent.side and s.strategy in intent.strategies]
        if not voters:
            return None
        return max(voters, key=lambda s: weight(s.strategy) * s.strength)

    def _enter(
        self,
        intent: Intent,
        market: MarketInfo,
        book: OrderBook,
        now: float,
        signals: list[Signal],
    ) -> tuple[Decision, str | None]:
        cfg = self.config.strategy
        asset = intent.asset_id
        strategy = intent.strategy
        lead = self._lead(intent, signals)
        style = lead.execution if lead is not None and lead.execution is not None else None
        rest = (style or cfg.order_style) == Execution.REST
        at = self.clock.time()
        screen = self.parts.screen
        hint = lead.size_hint if lead is not None else None
        ticket = screen.entry(
            strategy, market, book, abs(intent.score), at, rest=rest, size_hint=hint
        )
        if isinstance(ticket, Refusal):
            refusals = self.parts.refusals
            return refusals.refuse_entry(
                asset, strategy, ticket.reason, ticket.wanted, ticket.rule
            ), None
        if ticket.resized is not None:
            self.emit(
                IntentRejected(
                    at, asset, Side.BUY, strategy, ticket.resized, ticket.base, ticket.size
                )
            )
        order = OrderRequest(
            order_id=self.oms.next_order_id(),
            asset_id=asset,
            market=market.condition_id,
            side=Side.BUY,
            price=ticket.price,
            size=ticket.size,
            order_type=OrderType.GTD if rest else OrderType.FAK,
            strategy=strategy,
            reason=intent.reason,
            created_at=at,
            post_only=rest,
            expires_at=at + cfg.rest_ttl_s if rest else None,
        )
        screen.approved(strategy, market, asset, now, at)
        self.counts["entry_orders"] += 1
        levels = lead.exits if lead is not None else None
        self.oms.submit(order, market, decision_mid=book.mid_price(), levels=levels)
        return ORDER, order.order_id

    # -- timers -------------------------------------------------------------------------------
    def _write_repeats(self, now: float) -> None:
        """Held repeats whose minute is over become rows (engine.repeats)."""
        self._write_held(self._folded_signals.due(now))
        self.parts.refusals.write_due(now)

    def _write_held(self, held: list[tuple[int, _Held]]) -> None:
        for repeats, (at, signal, decision) in held:
            self.emit(_signal_row(at, signal, decision, None, None, repeats))

    def next_timer_at(self) -> float:
        return self._next_housekeeping

    def on_timer(self) -> None:
        """Periodic jobs: feed-source changes, re-snapshots with backoff, order expiry,
        baskets' leg protection, replaced orders, the kill switch, exit rules."""
        now = self.clock.monotonic()
        if now < self._next_housekeeping:
            return
        self._next_housekeeping = now + self.config.housekeeping_interval_s
        self._write_repeats(now)
        intake = self.intake
        change = intake.source_change()
        if change is not None:
            self.emit(change)
        intake.resnapshot(now)
        at = self.clock.time()
        self.oms.expire_due(at)
        if not self.trading:
            return
        parts = self.parts
        if parts.baskets.runs:
            parts.baskets.check(at)
        if parts.restart.waiting:
            parts.restart.place(at)
        if parts.guard.tick(at):  # flatten_on_trip (asked again after a restart)
            self.flatten(FlattenScope(), who="kill switch", reason="kill switch trip")
        if parts.flattener.watching:
            if parts.screen.gate.kill_switch.state in _ENTRIES_BLOCKED:
                parts.flattener.sweep()  # an entry that filled before its cancel landed
            else:
                parts.flattener.stop_watching()  # a trip's cooldown ended: entries again
        for asset in list(self.accounting.lots.lots):
            book = intake.tradeable(asset)
            market = self.registry.market_of(asset)
            if book is None or market is None:
                continue
            parts.exits.due(asset, market, book, at)

    # -- commands -------------------------------------------------------------------------------
    def flatten_preview(self, scope: FlattenScope | None = None) -> FlattenPlan:
        """What flatten would do: every cancel and every closing order, with its expected
        price and PnL at the current book, and what it could not close (and why)."""
        return self.parts.flattener.preview(scope)

    def flatten(
        self, scope: FlattenScope | None = None, *, who: str = "user", reason: str = "flatten"
    ) -> FlattenPlan:
        """Cancel every open order in scope, then close every position in scope."""
        kind = ExitReason.KILL_SWITCH if reason == "kill switch trip" else None
        return self.parts.flattener.execute(scope, who=who, reason=reason, kind=kind)

    def flatten_outcome(self, plan: FlattenPlan) -> tuple[tuple[str, int, str], ...]:
        """After an executed flatten: what is still held in its scope, and why."""
        return self.parts.flattener.outcome(plan)

    def kill(self, who: str) -> FlattenPlan:
        """Latch the kill switch (no entries until an explicit reset) and flatten all."""
        self.emit(self.parts.screen.gate.kill_switch.kill(self.clock.time(), who))
        return self.flatten(FlattenScope(), who=who, reason="kill")

    def reset_kill_switch(self, who: str) -> None:
        """Re-arm the kill switch explicitly, with a new baseline; recorded with who."""
        kill_switch = self.parts.screen.gate.kill_switch
        self.emit(kill_switch.reset(self.clock.time(), who, self.accounting.values.equity()))
        self.parts.flattener.stop_watching()

    def manual_preview(self, order: ManualOrder) -> ManualOutcome:
        """What the risk gate says of a person's order, and what the book would give."""
        return self.parts.manual.preview(order)

    def manual_order(self, order: ManualOrder, who: str) -> ManualOutcome:
        """A person's own order, through the same risk gate and gateway (``manual``)."""
        if not self.trading:
            return ManualOutcome(None, "state", f"the engine is {self.state}")
        return self.parts.manual.place(order, who)

    def cancel_order(self, order_id: str, who: str) -> bool:
        """Take one open order off the book (a person's choice); False: not open."""
        if self.oms.get(order_id) is None:
            return False
        log.warning("cancel of %s asked by %s", order_id, who)
        self.oms.cancel(order_id)
        return True

    def cancel_all(self, who: str) -> tuple[str, ...]:
        """Take every open order off the book (a person's choice); the orders asked."""
        open_ids = tuple(self.oms.open_ids())
        log.warning("cancel of all %d open orders asked by %s", len(open_ids), who)
        for order_id in open_ids:
            self.oms.cancel(order_id, f"cancel all (by {who})")
        return open_ids

    def watch(self, asset_id: str | None) -> None:
        """Carry this token's depth (book levels and latest prints) in the snapshot;
        None: no depth."""
        self.watched = asset_id

    def config_json(self) -> str:
        return json.dumps(self.config.model_dump(mode="json"), sort_keys=True)


def _signal_row(
    at: float,
    s: Signal,
    decision: Decision,
    latency_us: float | None,
    order_id: str | None,
    repeats: int,
) -> SignalRaised:
    inputs = s.inputs
    return SignalRaised(
        at,
        s.strategy,
        s.asset_id,
        s.side,
        s.strength,
        s.reason,
        s.is_exit,
        decision.text,
        s.edge_bps,
        _to_json(inputs if type(inputs) is dict else dict(inputs)) if inputs else "{}",
        s.sentiment_source,
        latency_us,
        order_id,
        repeats,
    )

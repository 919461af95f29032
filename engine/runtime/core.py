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

import json
import logging
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from typing import Protocol

from engine.adapters.polymarket.books import BookStore
from engine.clock import Clock
from engine.config import EngineConfig
from engine.events import (
    EngineEvent,
    EngineStateChanged,
    FeedSourceChanged,
    Filled,
    IntentRejected,
    MarketsLoaded,
    OrderSubmitted,
    OrderUpdated,
    PositionChanged,
    PositionClosed,
    PositionSettled,
    SignalRaised,
)
from engine.execution.lifecycle import OrderTracker
from engine.execution.paper import PaperVenue
from engine.execution.portfolio import Portfolio
from engine.fixed import ONE, SHARE_STEP, SIZE_DIGITS, decimal_to_fixed
from engine.market.book import OrderBook
from engine.market.fees import FREE
from engine.market.health import FeedHealth
from engine.market.markets import MarketInfo
from engine.orders import Fill, OrderRequest, OrderResult, OrderStatus, OrderType, Side
from engine.risk.gate import RiskGate
from engine.strategies.aggregator import Aggregator, Intent
from engine.strategies.base import MarketContext, Signal, Strategy

log = logging.getLogger("engine")


class EngineState(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"  # no new entries; exits, cancels and settlement go on
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


class FeedControl(Protocol):
    """What the core may ask of its market feed (a tape ignores both)."""

    def want_snapshot(self, asset_ids: Iterable[str]) -> None: ...

    def hit(self, asset_id: str) -> None: ...


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
        health: FeedHealth,
        feed: FeedControl,
        emit: Callable[[EngineEvent], None],
        paper: PaperVenue | None = None,
        mode: str = "paper",
        venue: str = "polymarket",
    ) -> None:
        self.config = config
        self.clock = clock
        self.books = books
        self.strategies = list(strategies)
        self.aggregator = aggregator
        self.risk = risk
        self.portfolio = portfolio
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
        self.tracker = OrderTracker()
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
        self._order_size = decimal_to_fixed(config.strategy.order_size, SIZE_DIGITS)
        self._cooldown_until: dict[str, float] = {}
        self._cancel_requested: set[str] = set()
        self._resolved_seen = 0
        self._last_source = health.source
        self._next_housekeeping = clock.monotonic()
        self._resnap_pending: dict[str, None] = {}
        self._resnap_attempts: dict[str, int] = {}
        self._resnap_next: dict[str, float] = {}
        self.portfolio_version = 0
        # Orders the ledger says are open but no venue holds (a paper order from before a
        # restart): (order id, filled); recorded as cancelled when the run starts.
        self.orphans: list[tuple[str, int]] = []
        books.trade_listeners.append(self._on_trade)

    # -- lifecycle ------------------------------------------------------------------
    def start(self, run_id: int) -> None:
        self.run_id = run_id
        self.started_at = self.clock.monotonic()
        self._set_state(EngineState.RUNNING)
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

    def restore(self, fills: Iterable[Fill], settlements: Iterable[PositionSettled]) -> int:
        """Rebuild cash and positions from the ledger (fills and settlements in time order)."""
        merged: list[tuple[float, int, Fill | PositionSettled]] = [(f.at, 0, f) for f in fills] + [
            (s.at, 1, s) for s in settlements
        ]
        merged.sort(key=lambda item: (item[0], item[1]))
        for _, _, item in merged:
            if isinstance(item, Fill):
                self.portfolio.apply(item)
            else:
                self.portfolio.settle(item.asset_id, item.payout_price)
        self.portfolio_version += 1
        return len(merged)

    def pause(self) -> None:
        if self.state is EngineState.RUNNING:
            self._set_state(EngineState.PAUSED)

    def resume(self) -> None:
        if self.state is EngineState.PAUSED:
            self._set_state(EngineState.RUNNING)

    def stopping(self) -> None:
        if self.state in (EngineState.RUNNING, EngineState.PAUSED, EngineState.STARTING):
            self._set_state(EngineState.STOPPING)

    def finish(self, error: str | None = None) -> None:
        self.error = error or self.error
        self._set_state(EngineState.FAILED if error else EngineState.STOPPED)

    def _set_state(self, state: EngineState) -> None:
        if state is self.state:
            return
        previous, self.state = self.state, state
        self.emit(EngineStateChanged(self.clock.time(), state.value, previous.value))

    @property
    def trading(self) -> bool:
        return self.state in (EngineState.RUNNING, EngineState.PAUSED)

    # -- market data (the MarketDataSink the feed delivers to) -------------------------
    def on_markets(self, markets: Sequence[MarketInfo]) -> None:
        usable = [m for m in markets if all(m.token_ids)]
        self.markets = usable
        self.by_token = {t: m for m in usable for t in m.token_ids}
        for m in usable:
            for token in m.token_ids:
                book = self.books.book(token, m.condition_id)
                book.tick = m.tick
                book.tick_known = True
                book.min_order_size = m.min_order_size
                self.changed[token] = None
        if self.paper is not None:
            self.paper.add_markets(usable)
        self.emit(MarketsLoaded(self.clock.time(), tuple(usable)))

    def on_frame(self, raw: bytes | str, recv_ts: float, source: str = "ws") -> None:
        """Apply one frame. `recv_ts` is when it arrived (clock time); the decision it
        triggers runs when the runner next calls decide()."""
        books = self.books
        self.counts["messages"] += books.apply_frame(raw)
        if books.dirty:
            dirty = books.take_dirty()
            self._dirty.update(dirty)
            self.changed.update(dirty)
            paper = self.paper
            if paper is not None:
                watched = [a for a in dirty if paper.watches(a)]
                if watched:
                    paper.after_frame(watched, self.clock.time())
                self._take_paper_fills()
        if len(books.resolved) != self._resolved_seen:
            self._settle_resolved()

    def _on_trade(self, asset_id: str, price: int, size: int, taker_side: str) -> None:
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
    def decide(self) -> int:
        """One decision pass over the books that changed; returns orders created."""
        if not self._dirty or not self.trading:
            return 0
        dirty, self._dirty = self._dirty, {}
        before = self.counts["orders"]
        now = self.clock.monotonic()
        books = self.books.books
        resolved = self.books.resolved
        for asset_id in dirty:
            market = self.by_token.get(asset_id)
            if market is None or market.condition_id in resolved:
                continue
            book = books.get(asset_id)
            if book is None or not book.has_snapshot or book.needs_snapshot:
                continue
            ctx = MarketContext(asset_id, market, book, self.portfolio.position(asset_id), now)
            signals = [s for strat in self.strategies if (s := strat.on_tick(ctx)) is not None]
            if signals:
                self._on_signals(signals, market, book, ctx.position, now)
        return self.counts["orders"] - before

    def _on_signals(
        self,
        signals: list[Signal],
        market: MarketInfo,
        book: OrderBook,
        position: int,
        now: float,
    ) -> None:
        self.counts["signals"] += len(signals)
        intent = self.aggregator.combine(signals[0].asset_id, signals)
        decision = "below threshold"
        if intent is not None:
            if not intent.is_exit and self.state is not EngineState.RUNNING:
                decision = "paused: no entries"
            elif not intent.is_exit and now < self._cooldown_until.get(intent.asset_id, 0.0):
                decision = "entry cooldown"
            else:
                self.counts["intents"] += 1
                decision = self._act(intent, market, book, position, now)
        at = self.clock.time()
        for s in signals:
            self.emit(
                SignalRaised(
                    at, s.strategy, s.asset_id, s.side, s.strength, s.reason, s.is_exit, decision
                )
            )

    def _act(
        self, intent: Intent, market: MarketInfo, book: OrderBook, position: int, now: float
    ) -> str:
        cfg = self.config.strategy
        tick = book.tick
        slip = cfg.max_slippage_ticks * tick
        asset = intent.asset_id
        rest = cfg.order_style == "rest" and not intent.is_exit
        strategy = "+".join(intent.strategies)
        if intent.side is Side.BUY:
            if rest:
                price = book.best_bid if book.best_bid is not None else None
            else:
                best = book.best_ask
                price = None if best is None else min(best + slip, ONE - tick)
            if price is None:
                return "no price on the book"
            wanted = int(self._order_size * min(1.0, abs(intent.score)))
            wanted -= wanted % SHARE_STEP
            decision = self.risk.check_buy(
                wanted,
                price,
                position + self.tracker.buying(asset),
                self.portfolio.cash - self.tracker.reserved_cash,
                market.min_order_size,
                self.health.source,
                market.fees,
            )
        else:
            best = book.best_bid
            if best is None:
                return "no bid to sell into"
            price = max(best - slip, tick)
            sellable = position - self.tracker.selling(asset)
            wanted = sellable if intent.is_exit else int(self._order_size * abs(intent.score))
            decision = self.risk.check_sell(wanted, sellable, market.min_order_size)
        size = decision.size
        if size <= 0 or decision.reason:
            self.emit(
                IntentRejected(
                    self.clock.time(),
                    asset,
                    intent.side,
                    strategy,
                    decision.reason or "sized to zero",
                    wanted,
                    max(size, 0),
                )
            )
        if size <= 0:
            self._reject(decision.reason or "sized to zero")
            return f"rejected: {decision.reason or 'sized to zero'}"
        at = self.clock.time()
        self._order_seq += 1
        order = OrderRequest(
            order_id=f"r{self.run_id}-{self._order_seq}",
            asset_id=asset,
            market=market.condition_id,
            side=intent.side,
            price=price,
            size=size,
            order_type=OrderType.GTD if rest else OrderType.FAK,
            strategy=strategy,
            reason=intent.reason,
            created_at=at,
            post_only=rest,
            expires_at=at + cfg.rest_ttl_s if rest else None,
            is_exit=intent.is_exit,
        )
        if not intent.is_exit:
            self._cooldown_until[asset] = now + cfg.entry_cooldown_s
        self.submit(order, market)
        return "order"

    def submit(self, order: OrderRequest, market: MarketInfo | None = None) -> None:
        """Track an order and hand it to the runner (commands use this too)."""
        market = market or self.by_token.get(order.asset_id)
        fees = market.fees if market is not None else None
        self.counts["orders"] += 1
        self.feed.hit(order.asset_id)
        # OrderSubmitted is the order's "new" transition in the ledger.
        self.tracker.add(order, fees or FREE, order.created_at)
        self.emit(OrderSubmitted(order.created_at, order))
        self.outbox.append(order)
        if self.on_work is not None:
            self.on_work()

    def _reject(self, reason: str) -> None:
        self.counts["rejects"] += 1
        self.rejects[reason] += 1

    # -- the gateway's answers ------------------------------------------------------------
    def on_order_result(self, order: OrderRequest, result: OrderResult) -> None:
        for fill in result.fills:
            self._apply_fill(fill, order.strategy, order.reason)
        update = self.tracker.on_result(result, self.clock.time())
        if update is not None:
            self.emit(update)
        if result.status is OrderStatus.REJECTED:
            self._reject(result.reason or "rejected by the gateway")
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
        update = self.tracker.close(order_id, status, reason or "cancelled", self.clock.time())
        if update is not None:
            self.emit(update)

    def _expire(self, order_id: str, reason: str, status: OrderStatus) -> None:
        """Settlement and expiry close an order at once; the gateway is told too."""
        if self.paper is not None:
            self.paper.cancel(order_id)
        else:
            self.cancels.append(order_id)
        update = self.tracker.close(order_id, status, reason, self.clock.time())
        if update is not None:
            self.emit(update)

    # -- fills and settlement ------------------------------------------------------------
    def _apply_fill(self, fill: Fill, strategy: str, reason: str) -> None:
        portfolio = self.portfolio
        before = portfolio.positions.get(fill.asset_id)
        avg_before = before.avg_price() if before is not None else None
        realized_before = before.realized if before is not None else 0
        if fill.side is Side.SELL and fill.size > (before.shares if before else 0):
            # Never happens while the tracker reserves sells; if it does, it is a bug that
            # must not corrupt the account: record it and drop the fill.
            log.error("dropping a sell fill larger than the position: %s", fill)
            self.counts["dropped_fills"] += 1
            return
        pos = portfolio.apply(fill)
        self.tracker.on_fill(fill)
        self.portfolio_version += 1
        self.counts["fills"] += 1
        self.changed[fill.asset_id] = None
        self.emit(Filled(fill.at, fill, strategy, reason))
        self.emit(
            PositionChanged(
                fill.at, fill.asset_id, fill.market, pos.shares, pos.cost, pos.realized, pos.fees
            )
        )
        if fill.side is Side.SELL:
            self.emit(
                PositionClosed(
                    fill.at,
                    fill.asset_id,
                    fill.market,
                    strategy,
                    reason,
                    fill.size,
                    avg_before or 0,
                    fill.price,
                    pos.realized - realized_before,
                    fill.fee,
                )
            )

    def _settle_resolved(self) -> None:
        resolved = self.books.resolved
        items = list(resolved.items())[self._resolved_seen :]
        self._resolved_seen = len(resolved)
        for market_id, winner in items:
            market = next((m for m in self.markets if m.condition_id == market_id), None)
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
            shares, cash, realized, avg = self.portfolio.settle(token, payout)
            if not shares:
                continue
            self.portfolio_version += 1
            self.counts["settlements"] += 1
            pos = self.portfolio.positions[token]
            self.emit(
                PositionSettled(at, token, market.condition_id, shares, payout, cash, realized)
            )
            self.emit(
                PositionClosed(
                    at,
                    token,
                    market.condition_id,
                    "",
                    "settlement",
                    shares,
                    avg,
                    payout,
                    realized,
                    0,
                )
            )
            self.emit(
                PositionChanged(
                    at, token, market.condition_id, pos.shares, pos.cost, pos.realized, pos.fees
                )
            )
            self.changed[token] = None

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

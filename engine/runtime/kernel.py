"""The kernel: the one place an engine is assembled, for every face.

A face gives it the configuration and the ports -- a clock, a ledger, its market feed's
control (or none: a tape), an order gateway (or none: the paper gateway built here), and
what a resumed ledger holds -- and gets back the same engine everyone runs: the core and
its components, the event router, the snapshot builder and hub, and the runners over
them. Only the kernel knows every concrete component; they meet through the ports it
hands each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from msgspec.structs import replace

from engine.adapters.polymarket.books import BookStore
from engine.adapters.polymarket.wire.market import NewMarketEvent
from engine.clock import Clock, SimClock
from engine.config import EngineConfig
from engine.execution.accounting import Accounting
from engine.execution.attribution import Attribution
from engine.execution.flatten import Flattener
from engine.execution.lifecycle import OrderTracker
from engine.execution.lots import LotBook
from engine.execution.oms import OrderManager
from engine.execution.paper import PaperExchange, PaperGateway
from engine.execution.portfolio import Portfolio
from engine.fixed import CASH_DIGITS, decimal_to_fixed
from engine.ledger.errors import LedgerError
from engine.ledger.reader import AccountState, LedgerReader
from engine.logbook import Logbook
from engine.market.book import OrderBook
from engine.market.health import FeedHealth, FeedSource
from engine.market.markets import MarketInfo
from engine.market.prints import RecentPrints
from engine.market.quotes import QuoteBoard
from engine.market.registry import MarketRegistry
from engine.orders import OrderRequest, OrderStatus, Side
from engine.ports import (
    FeedControl,
    Ledger,
    MarketFeed,
    OrderGateway,
    SentimentSource,
    VenueBalance,
)
from engine.risk.entry import EntryScreen
from engine.risk.exposure import ExposureBook
from engine.risk.gate import RiskGate
from engine.risk.kill_switch import KillSwitch
from engine.risk.live_limits import LiveLimits
from engine.risk.rate_limits import OrderRateLimiter
from engine.risk.refusals import Refusals
from engine.runtime.account import AccountView
from engine.runtime.backtest import BacktestRunner, ProgressSink
from engine.runtime.baskets import BasketDesk
from engine.runtime.components import Components
from engine.runtime.contexts import ContextFactory
from engine.runtime.core import EngineCore
from engine.runtime.data import DataIntake
from engine.runtime.exits import ExitDesk
from engine.runtime.guard import KillSwitchWatch
from engine.runtime.live import LiveRunner
from engine.runtime.manual import ManualDesk
from engine.runtime.restart import Restart
from engine.runtime.roster import Roster
from engine.runtime.router import EventRouter
from engine.runtime.snapshot import SnapshotHub
from engine.runtime.snapshot_builder import SnapshotBuilder
from engine.runtime.stream import EventStream
from engine.strategies.aggregator import Aggregator
from engine.strategies.base import Strategy
from engine.strategies.registry import build_strategies
from engine.strategies.sentiment import SentimentBook
from engine.venue import TradingMode, VenueReport


class NullFeed:
    """A feed that cannot be asked anything (a tape, a test): every request a no-op."""

    def want_snapshot(self, asset_ids: Iterable[str]) -> None:
        return None

    def hit(self, asset_id: str) -> None:
        return None

    def market_listed(self, event: NewMarketEvent) -> None:
        return None

    def market_resolved(self, condition_id: str) -> None:
        return None


NULL_FEED: FeedControl = NullFeed()


@runtime_checkable
class MarketWatcher(Protocol):
    """A gateway that prices against the engine's market data as it arrives (the paper
    exchange; a live gateway's paper shadow): the kernel hands it listings, each frame's
    changed books and every trade print."""

    def on_markets(self, markets: Sequence[MarketInfo]) -> None: ...

    def on_books(self, changed: dict[str, None], now: float) -> None: ...

    def on_trade(self, asset_id: str, price: int, size: int, taker_side: str) -> None: ...


@runtime_checkable
class ResolutionWatcher(Protocol):
    """A gateway that acts when a market resolves (a live venue's redemption)."""

    def on_resolved(self, market: MarketInfo, winner: str) -> None: ...


@runtime_checkable
class Steppable(Protocol):
    """A gateway a backtest can step on its simulated clock (``SimulatedGateway``)."""

    def latency(self) -> float: ...

    def place(self, order: OrderRequest, now: float) -> Sequence[VenueReport]: ...

    def withdraw(
        self, order_id: str, now: float, reason: str = "cancelled"
    ) -> Sequence[VenueReport]: ...


class _Markets:
    """What a gateway may read of the engine: market state (``MarketLookup``) and, for a
    live venue's reconciliation, the holdings and cash (``AccountLookup``)."""

    def __init__(self, registry: MarketRegistry, books: BookStore, portfolio: Portfolio) -> None:
        self._registry = registry
        self._books = books
        self._portfolio = portfolio

    def holdings(self) -> dict[str, int]:
        return {a: p.shares for a, p in self._portfolio.positions.items() if p.shares}

    def cash(self) -> int:
        return self._portfolio.cash

    def market_of(self, asset_id: str) -> MarketInfo | None:
        return self._registry.market_of(asset_id)

    def book(self, asset_id: str) -> OrderBook | None:
        return self._books.books.get(asset_id)

    def is_resolved(self, condition_id: str) -> bool:
        return self._registry.is_resolved(condition_id)


# -- what a resumed ledger holds -------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Resume:
    """What a run on an existing ledger picks up: the account, the rate windows' recent
    orders, which strategy placed each order (for the lots it holds), and every market
    the ledger knows (positions may be there)."""

    state: AccountState
    recent_orders: list[tuple[float, str, str, Side]]
    strategies: dict[str, str]
    markets: list[MarketInfo]
    sent: tuple[tuple[float, int], ...] = ()  # entries of the last day: (time, notional)


def read_resume(path: Path, window_s: float, now: float) -> Resume:
    reader = LedgerReader(path)
    state = reader.load_state()
    orders = reader.orders()
    recent = [
        (o.order.created_at, o.order.strategy, o.order.market, o.order.side)
        for o in orders
        if o.order.created_at >= now - window_s and not o.order.is_exit
    ]
    # Entries that left for the venue in the last day (live limits count a day's notional).
    sent = tuple(
        (o.order.created_at, o.order.price * o.order.size)
        for o in orders
        if o.order.created_at >= now - 86_400
        and not o.order.is_exit
        and o.venue_id is not None
        and o.status is not OrderStatus.REJECTED
    )
    strategies = {r.event.fill.order_id: r.event.strategy for r in reader.fills()}
    markets = [MarketInfo(m.condition_id, m.question, m.slug, m.outcomes) for m in reader.markets()]
    return Resume(state, recent, strategies, markets, sent)


async def load_resume(path: Path, window_s: float, now: float) -> Resume:
    """What an (opened, migrated) ledger holds; empty for a new ledger."""
    return await asyncio.to_thread(read_resume, path, window_s, now)


def rate_window_s(config: EngineConfig) -> float:
    """The longest order-rate window: how far back a resumed run reloads its orders."""
    trading = config.trading
    return max(
        [trading.order_frequency.interval_seconds]
        + [s.interval_seconds for s in trading.strategy_order_frequency.values()]
        + [
            w.interval_seconds
            for s in trading.strategy_order_frequency.values()
            for w in (s.window("market"), s.window("side"), s.window("market_side"))
            if w is not None
        ]
    )


# -- building blocks ---------------------------------------------------------------------------
def strategies_for(config: EngineConfig) -> list[Strategy]:
    return build_strategies(config.strategies, config.strategy.spread_volume_tiers)


def sentiment_book_for(config: EngineConfig) -> SentimentBook | None:
    """The sentiment book the core scores headlines into (None: sentiment is off)."""
    cfg = config.sentiment
    if not cfg.enabled:
        return None
    return SentimentBook(
        max_age_s=cfg.max_age_seconds,
        blend_half_life_s=cfg.blend_half_life_s,
        min_keyword_hits=cfg.min_keyword_hits,
        recent_max=cfg.recent_max,
    )


def replay_health() -> FeedHealth:
    """Feed health for a tape: the source is the replay, and it never changes."""
    health = FeedHealth()
    health.set_source(FeedSource.REPLAY, 0.0)
    return health


@dataclass(slots=True)
class Engine:
    """An assembled engine: what the runners and faces hold."""

    core: EngineCore
    router: EventRouter
    builder: SnapshotBuilder
    hub: SnapshotHub
    stream: EventStream
    gateway: OrderGateway
    starting_cash: int  # cash units: the account's, or the config's for a new ledger
    restored: int  # fills, reversals and settlements replayed from the ledger

    @property
    def mode(self) -> TradingMode:
        return self.gateway.mode

    def live_runner(
        self,
        feed: MarketFeed,
        ledger: Ledger,
        *,
        sentiment: SentimentSource | None = None,
    ) -> LiveRunner:
        return LiveRunner(
            self.core,
            feed,
            self.gateway,
            ledger,
            self.router,
            self.builder,
            hub=self.hub,
            stream=self.stream,
            sentiment=sentiment,
        )

    def backtest_runner(
        self,
        clock: SimClock,
        ledger: Ledger,
        *,
        progress: ProgressSink | None = None,
        commit_every: int = 5000,
    ) -> BacktestRunner:
        gateway = self.gateway
        if not isinstance(gateway, Steppable):
            raise TypeError("a backtest steps a simulated venue: build the engine with one")
        return BacktestRunner(
            self.core,
            clock,
            gateway,
            ledger,
            self.router,
            self.builder,
            hub=self.hub,
            progress=progress,
            commit_every=commit_every,
        )


def build_engine(
    config: EngineConfig,
    clock: Clock,
    ledger: Ledger,
    *,
    venue: str,
    feed: FeedControl = NULL_FEED,
    health: FeedHealth | None = None,
    gateway: OrderGateway | None = None,
    seed: int = 0,
    resume: Resume | None = None,
    strategies: list[Strategy] | None = None,
) -> Engine:
    """Assemble an engine. Without `gateway`, orders go to the paper exchange (seeded
    latency from `seed`); `resume` (from :func:`load_resume`) picks up the account a
    ledger holds."""
    health = health or FeedHealth()
    state = resume.state if resume is not None else None
    starting_cash = decimal_to_fixed(config.paper.starting_cash, CASH_DIGITS)
    if state is not None and state.starting_cash is not None:
        starting_cash = state.starting_cash
    try:
        kill_switch = KillSwitch(
            config.trading, restored=state.kill_switch if state is not None else None
        )
    except ValueError as exc:
        raise LedgerError(
            f"the ledger's kill switch state cannot be restored ({exc}); pass another "
            "--ledger, or reset it there"
        ) from exc
    strategies = strategies if strategies is not None else strategies_for(config)
    aggregator = Aggregator({s.name: s.weight for s in strategies}, config.strategy.threshold)
    limiter = OrderRateLimiter(config.trading)

    books = BookStore()
    registry = MarketRegistry()
    live_limits = None
    if gateway is not None and gateway.mode is TradingMode.LIVE:
        live_limits = LiveLimits(
            config.live,
            config.trading.daily_loss_reset_hour,
            registry.market,
            resume.sent if resume is not None else (),
        )
    gate = RiskGate(config, kill_switch, limiter, live_limits)
    stream = EventStream()
    router = EventRouter(ledger, stream, registry.describe)
    emit = router.emit
    portfolio = Portfolio(starting_cash)
    lots = LotBook(config.exits)
    attribution = Attribution()
    tracker = OrderTracker()
    exposure = ExposureBook(portfolio.positions, tracker, registry.market)
    logbook = Logbook()  # log lines of a decision pass wait until its orders have left
    accounting = Accounting(
        clock,
        emit,
        portfolio,
        lots,
        attribution,
        books=books.books,
        market_of=registry.market_of,
        complement=registry.complement,
        touched=exposure.touch,
        logbook=logbook,
    )
    refusals = Refusals(clock, emit)
    oms = OrderManager(
        clock,
        emit,
        accounting,
        attribution,
        tracker=tracker,
        market_of=registry.market_of,
        touched=exposure.touch,
        hit=feed.hit,
        rejected=refusals.reject,
        durable=router.wait_committed,
        venue_statuses=gateway is not None and gateway.mode is TradingMode.LIVE,
        logbook=logbook,
    )
    intake = DataIntake(config, clock, books, registry, health, feed)
    account = AccountView(
        accounting,
        tracker,
        exposure,
        venue_cash=gateway.venue_cash if isinstance(gateway, VenueBalance) else None,
    )
    screen = EntryScreen(
        config, gate, account, health, intake.book_age, lambda: oms.blocked, logbook
    )
    exits = ExitDesk(config, clock, oms, lots, account, screen, gate, refusals, intake.book_age)
    flattener = Flattener(
        clock,
        oms,
        accounting,
        books=books.books,
        market_of=registry.market_of,
        slippage_ticks=config.execution.flatten_max_slippage_ticks,
    )
    core_ref: list[EngineCore] = []
    baskets = BasketDesk(
        config,
        clock,
        emit,
        oms=oms,
        screen=screen,
        gate=gate,
        refusals=refusals,
        account=account,
        registry=registry,
        books=books.books,
        attribution=attribution,
        weight=aggregator.weight,
        entries_allowed=lambda: core_ref[0].entries_allowed,
        latency_us=intake.latency_us,
        book_age=intake.book_age,
    )
    orphans: list[tuple[str, int]] = []
    replacements = []
    if gateway is None:
        exchange = PaperExchange(books.books.get, registry.market_of, registry.is_resolved)
        gateway = PaperGateway(
            exchange,
            clock,
            config.paper.latency_ms / 1000,
            config.paper.latency_jitter_ms / 1000,
            seed,
        )
    if state is not None and not gateway.keeps_orders:
        # Orders the ledger says are open but no venue holds (they ended with their run).
        orphans = [(o.order.order_id, o.filled) for o in state.open_orders]
        if config.execution.on_restart == "replace":
            replacements = [
                replace(o.order, size=o.order.size - o.filled)
                for o in state.open_orders
                if o.order.size > o.filled
            ]
    restart = Restart(
        clock,
        emit,
        oms=oms,
        screen=screen,
        exits=exits,
        refusals=refusals,
        registry=registry,
        tradeable=intake.tradeable,
        orphans=orphans,
        replacements=replacements,
    )
    sentiment = sentiment_book_for(config)
    contexts = ContextFactory(books.books, lots, registry, sentiment)
    board = QuoteBoard(books.books)
    roster = Roster(strategies, board, registry, sentiment)
    prints = RecentPrints(clock.time)
    manual = ManualDesk(
        clock,
        oms=oms,
        screen=screen,
        refusals=refusals,
        account=account,
        registry=registry,
        tradeable=intake.tradeable,
    )
    parts = Components(
        intake=intake,
        registry=registry,
        oms=oms,
        accounting=accounting,
        attribution=attribution,
        screen=screen,
        refusals=refusals,
        exits=exits,
        flattener=flattener,
        baskets=baskets,
        restart=restart,
        contexts=contexts,
        prints=prints,
        manual=manual,
        guard=KillSwitchWatch(kill_switch, accounting, emit, restart.in_grace),
        roster=roster,
        logbook=logbook,
    )
    core = EngineCore(
        config,
        clock,
        parts,
        strategies=strategies,
        aggregator=aggregator,
        emit=emit,
        mode=gateway.mode,
        venue=venue,
        sentiment=sentiment,
    )
    core_ref.append(core)

    # Who hears what, in order: a frame's changed books mark the lots first, then reach a
    # gateway that prices against the books (the paper exchange reports its fills there).
    intake.add_book_listener(accounting.on_books)
    books.trade_listeners.append(core.on_trade)
    # The strategies' own view of the market: listings, and the tops that moved.
    roster.watch(books.books)
    intake.add_market_listener(roster.on_markets)
    intake.add_book_listener(roster.on_books)
    intake.add_flag_listener(roster.on_books)
    if isinstance(gateway, MarketWatcher):
        intake.add_market_listener(gateway.on_markets)
        intake.add_book_listener(gateway.on_books)
        books.trade_listeners.append(gateway.on_trade)
    accounting.add_fill_listener(baskets.on_fill)
    if isinstance(gateway, ResolutionWatcher):
        watcher = gateway

        def resolved(market: MarketInfo, winner: str) -> None:
            core.settle(market, winner)
            watcher.on_resolved(market, winner)

        intake.on_resolution(resolved)
    if live_limits is not None:
        oms.add_submit_listener(live_limits.record)
    gateway.bind(oms, _Markets(registry, books, portfolio))

    restored = 0
    if resume is not None:
        registry.add_known(resume.markets)
    if state is not None:
        assert resume is not None
        restored = accounting.restore(
            state.history(), resume.strategies, state.basket_orders, state.unsettled
        )
        oms.seen([f.fill_id for f in state.fills])
        oms.unsettled({f.fill_id: f.order_id for f in state.fills if f.fill_id in state.unsettled})
        limiter.restore(resume.recent_orders, clock.time())
    return Engine(
        core=core,
        router=router,
        builder=SnapshotBuilder(core, router),
        hub=SnapshotHub(),
        stream=stream,
        gateway=gateway,
        starting_cash=starting_cash,
        restored=restored,
    )

"""The one place an engine is assembled, for every face.

The engine constructs no default gateway, strategy or feed itself: the headless run, the
console and a backtest each call :func:`build_engine` with their clock, ledger and feed
control, and get the same core, router, snapshot builder and paper venue. Only the data
source, the clock and the order gateway differ between faces.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from engine.adapters.polymarket.books import BookStore
from engine.clock import Clock
from engine.config import EngineConfig
from engine.execution.exits import ExitBook
from engine.execution.paper import PaperGateway, PaperVenue
from engine.execution.portfolio import Portfolio
from engine.fixed import CASH_DIGITS, decimal_to_fixed
from engine.ledger.errors import LedgerError
from engine.ledger.reader import AccountState
from engine.market.health import FeedHealth
from engine.market.markets import MarketInfo
from engine.orders import Side
from engine.ports import Ledger, SentimentSource
from engine.risk.gate import RiskGate
from engine.risk.kill_switch import KillSwitch
from engine.risk.rate_limits import OrderRateLimiter
from engine.runtime.core import EngineCore, FeedControl
from engine.runtime.router import EventRouter
from engine.runtime.snapshot import SnapshotHub
from engine.runtime.snapshot_builder import SnapshotBuilder
from engine.runtime.stream import EventStream
from engine.strategies.aggregator import Aggregator
from engine.strategies.base import Strategy
from engine.strategies.registry import build_strategies
from engine.strategies.sentiment import SentimentBook
from polyterm.faces.headlines import SentimentSetupError, build_sentiment_source
from polyterm.settings.config import ConfigError
from polyterm.settings.credentials import Credentials


@dataclass(slots=True)
class EngineParts:
    core: EngineCore
    router: EventRouter
    builder: SnapshotBuilder
    hub: SnapshotHub
    stream: EventStream
    venue: PaperVenue
    gateway: PaperGateway
    starting_cash: int  # cash units: the account's, or the config's for a new ledger
    restored: int  # fills and settlements replayed from the ledger


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


def sentiment_source_for(config: EngineConfig, clock: Clock, *, offline: bool) -> SentimentSource:
    """The headline source a live face runs (a disabled one says why when none fits);
    a setting it cannot work with is a one-line ConfigError."""
    try:
        return build_sentiment_source(
            config.sentiment,
            offline=offline,
            news_url=config.feed.news_url,
            clock=clock,
            credentials=Credentials(),
        )
    except SentimentSetupError as exc:
        raise ConfigError(str(exc)) from exc


def build_engine(
    config: EngineConfig,
    clock: Clock,
    ledger: Ledger,
    *,
    feed: FeedControl,
    health: FeedHealth,
    mode: str,
    venue: str,
    seed: int = 0,
    state: AccountState | None = None,
    strategies: list[Strategy] | None = None,
    restore_rates: list[tuple[float, str, str, Side]] | None = None,
    lot_strategies: dict[str, str] | None = None,
    known_markets: list[MarketInfo] | None = None,
) -> EngineParts:
    """A paper engine; `state` (from the ledger reader) resumes the account it holds."""
    books = BookStore()
    starting_cash = decimal_to_fixed(config.paper.starting_cash, CASH_DIGITS)
    if state is not None and state.starting_cash is not None:
        starting_cash = state.starting_cash
    portfolio = Portfolio(starting_cash)
    strategies = strategies if strategies is not None else strategies_for(config)
    aggregator = Aggregator({s.name: s.weight for s in strategies}, config.strategy.threshold)
    try:
        kill_switch = KillSwitch(
            config.trading, restored=state.kill_switch if state is not None else None
        )
    except ValueError as exc:
        raise LedgerError(
            f"the ledger's kill switch state cannot be restored ({exc}); pass another "
            "--ledger, or reset it there"
        ) from exc
    limiter = OrderRateLimiter(config.trading)
    risk = RiskGate(config, kill_switch, limiter)
    exits = ExitBook(config.exits)
    stream = EventStream()
    core_ref: list[EngineCore] = []

    def describe(asset_id: str) -> tuple[str, str]:
        market = core_ref[0].by_token.get(asset_id) if core_ref else None
        return (market.question, market.outcome_of(asset_id)) if market else ("", "?")

    router = EventRouter(ledger, stream, describe)
    paper = PaperVenue(
        books.books.get,
        lambda asset: core_ref[0].by_token.get(asset),
        lambda market: market in books.resolved,
    )
    core = EngineCore(
        config,
        clock,
        books=books,
        strategies=strategies,
        aggregator=aggregator,
        risk=risk,
        portfolio=portfolio,
        exits=exits,
        health=health,
        feed=feed,
        emit=router.emit,
        paper=paper,
        mode=mode,
        venue=venue,
        sentiment=sentiment_book_for(config),
    )
    core_ref.append(core)
    restored = 0
    if known_markets:
        core.add_known_markets(known_markets)
    if state is not None:
        core.lot_strategies = lot_strategies or {}
        core.basket_leg_orders = state.basket_orders
        restored = core.restore(state.history())
        core.orphans = [(o.order.order_id, o.filled) for o in state.open_orders]
        if config.execution.on_restart == "replace":
            core.replacements = [
                replace(o.order, size=o.order.size - o.filled)
                for o in state.open_orders
                if o.order.size > o.filled
            ]
        if restore_rates is not None:
            limiter.restore(restore_rates, clock.time())
    gateway = PaperGateway(
        paper,
        clock,
        config.paper.latency_ms / 1000,
        config.paper.latency_jitter_ms / 1000,
        seed,
    )
    return EngineParts(
        core=core,
        router=router,
        builder=SnapshotBuilder(core, router),
        hub=SnapshotHub(),
        stream=stream,
        venue=paper,
        gateway=gateway,
        starting_cash=starting_cash,
        restored=restored,
    )

"""The engine a live face runs, assembled once for the headless run and the console.

``open_live_engine`` aims the engine at its venue (the in-process emulator when offline,
Polymarket otherwise), opens the ledger and resumes the paper account it holds (cash,
positions and their lots, the kill switch, the order-rate windows), builds the engine
with the Polymarket feed and the configured sentiment source, and yields it with its
runner; leaving it stops the emulator and closes the ledger. The run itself is
``runner.run(...)``: the face decides how it is watched and stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

from engine.adapters.polymarket.feed import PolymarketFeed
from engine.clock import SystemClock
from engine.config import EngineConfig
from engine.ledger.reader import AccountState, LedgerReader
from engine.ledger.writer import SqliteLedger
from engine.market.markets import MarketInfo
from engine.orders import Side
from engine.runtime.live import LiveRunner
from polyterm.faces.wiring import build_engine, sentiment_source_for
from polyterm.settings import locations
from polyterm.settings.config import AppConfig

log = logging.getLogger("polyterm.live")


@contextlib.asynccontextmanager
async def venue(app: AppConfig) -> AsyncIterator[tuple[EngineConfig, str]]:
    """Yield engine settings aimed at the venue: the in-process emulator when offline.

    The emulator is imported only here, only when offline: a live run never loads it.
    """
    if not app.offline:
        yield app.engine, "polymarket"
        return
    from polyterm.emulator.server import EmulatorOptions, ExchangeEmulator

    emulator = ExchangeEmulator(
        EmulatorOptions(
            seed=app.emulator_seed,
            markets=app.emulator_markets,
            recorded=locations.recorded_dir(),
        )
    )
    urls = await emulator.start()
    log.info("offline: exchange emulator on %s", urls.clob)
    try:
        feed = app.engine.feed.model_copy(
            update={
                "clob_rest_url": urls.clob,
                "market_ws_url": urls.market_ws,
                "user_ws_url": urls.user_ws,
                "gamma_url": urls.gamma,
                "news_url": urls.news,
                "offline": True,
            }
        )
        yield app.engine.model_copy(update={"feed": feed}), "emulator"
    finally:
        await emulator.stop()


Venue = Callable[[AppConfig], AbstractAsyncContextManager[tuple[EngineConfig, str]]]


@dataclass(frozen=True, slots=True)
class Resume:
    """What a run on an existing ledger picks up: the account, the rate windows' recent
    orders, and which strategy opened each fill's order (for the lots it holds)."""

    state: AccountState
    recent_orders: list[tuple[float, str, str, Side]]
    strategies: dict[str, str]
    markets: list[MarketInfo]  # every market the ledger knows (positions may be there)


def _resume(path: Path, window_s: float, now: float) -> Resume:
    reader = LedgerReader(path)
    state = reader.load_state()
    recent = [
        (o.order.created_at, o.order.strategy, o.order.market, o.order.side)
        for o in reader.orders()
        if o.order.created_at >= now - window_s and not o.order.is_exit
    ]
    strategies = {r.event.fill.order_id: r.event.strategy for r in reader.fills()}
    markets = [MarketInfo(m.condition_id, m.question, m.slug, m.outcomes) for m in reader.markets()]
    return Resume(state, recent, strategies, markets)


async def load_account(path: Path, window_s: float, now: float) -> Resume:
    """What an (opened, migrated) ledger holds; empty for a new ledger."""
    return await asyncio.to_thread(_resume, path, window_s, now)


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


@dataclass(frozen=True, slots=True)
class LiveEngine:
    runner: LiveRunner
    starting_cash: int  # cash units: the account's, or the config's for a new ledger
    venue: str  # "emulator" | "polymarket" | what `venue_for` named
    ledger_path: Path


@contextlib.asynccontextmanager
async def open_live_engine(
    app: AppConfig, ledger_path: Path | None = None, *, venue_for: Venue = venue
) -> AsyncIterator[LiveEngine]:
    """`venue_for` aims the engine at its venue (by default the in-process emulator when
    offline, Polymarket otherwise; a benchmark points it at an emulator process)."""
    path = ledger_path or app.ledger or locations.default_ledger_path()
    clock = SystemClock()
    ledger = await SqliteLedger(path).open()
    try:
        resume = await load_account(path, rate_window_s(app.engine), clock.time())
        async with venue_for(app) as (config, venue_name):
            feed = PolymarketFeed(config.feed, config.hot_assets, clock)
            parts = build_engine(
                config,
                clock,
                ledger,
                feed=feed,
                health=feed.health,
                mode="paper",
                venue=venue_name,
                seed=app.emulator_seed,
                state=resume.state,
                restore_rates=resume.recent_orders,
                lot_strategies=resume.strategies,
                known_markets=resume.markets,
            )
            if parts.restored:
                log.info("resumed the paper account in %s (%d records)", path, parts.restored)
            runner = LiveRunner(
                parts.core,
                feed,
                parts.gateway,
                ledger,
                parts.router,
                parts.builder,
                hub=parts.hub,
                sentiment=sentiment_source_for(config, clock, offline=app.offline)
                if parts.core.sentiment is not None
                else None,
            )
            yield LiveEngine(runner, parts.starting_cash, venue_name, path)
    finally:
        await ledger.close()

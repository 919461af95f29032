"""The engine a live face runs, assembled once for the headless run and the console.

``open_live_engine`` aims the engine at its venue (the in-process emulator when offline,
Polymarket otherwise), opens the ledger and resumes the account it holds (cash, positions
and their lots, the kill switch, the order-rate windows), has the kernel build the engine
with the Polymarket feed and the configured sentiment source, and yields it with its
runner; leaving it stops the emulator and closes the ledger. The run itself is
``runner.run(...)``: the face decides how it is watched and stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

from engine.adapters.polymarket.feed import FeedError, PolymarketFeed
from engine.clock import SystemClock
from engine.config import EngineConfig
from engine.ledger.writer import SqliteLedger
from engine.runtime.kernel import Resume, build_engine, load_resume, rate_window_s
from engine.runtime.live import LiveRunner
from polyterm.faces.headlines import sentiment_source_for
from polyterm.settings import locations
from polyterm.settings.config import AppConfig

log = logging.getLogger("polyterm.live")

# Kept for the faces that imported them from here before the kernel held them.
load_account = load_resume
__all__ = [
    "LiveEngine",
    "Resume",
    "Venue",
    "emulator_process",
    "load_account",
    "open_live_engine",
    "rate_window_s",
]


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
        yield _aimed(app, urls.as_dict()), "emulator"
    finally:
        await emulator.stop()


# How long an emulator process may take to start (a loaded machine), and to stop.
EMULATOR_START_S = 120.0
EMULATOR_STOP_S = 10.0


@contextlib.asynccontextmanager
async def emulator_process(app: AppConfig) -> AsyncIterator[tuple[EngineConfig, str]]:
    """As :func:`venue`, with the offline emulator in a process of its own: its order flow
    then runs on the other core, not between the engine's frames (``polyterm --no-ui``).

    The child serves until its stdin closes, so it ends with this run even when the run
    is killed; a child that cannot start is one line (FeedError), its last words in it.
    """
    if not app.offline:
        yield app.engine, "polymarket"
        return
    recorded = locations.recorded_dir()
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "polyterm.emulator.child",
        str(app.emulator_seed),
        str(app.emulator_markets),
        *([str(recorded)] if recorded is not None else []),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # a Ctrl-C stops the run, which then ends the child
    )
    assert child.stdin is not None
    assert child.stdout is not None
    assert child.stderr is not None
    said: list[str] = []
    talk = asyncio.create_task(_relay(child.stderr, said), name="emulator-stderr")
    try:
        try:
            async with asyncio.timeout(EMULATOR_START_S):
                line = await child.stdout.readline()
        except TimeoutError:
            line = b""
        if not line:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(EMULATOR_STOP_S):
                    await talk
            last = said[-1] if said else f"exit code {child.returncode}"
            raise FeedError(f"the exchange emulator process did not start: {last}")
        urls = json.loads(line)
        log.info("offline: exchange emulator on %s (process %d)", urls["clob"], child.pid)
        yield _aimed(app, urls), "emulator"
    finally:
        child.stdin.close()
        try:
            async with asyncio.timeout(EMULATOR_STOP_S):
                await child.wait()
        except TimeoutError:
            child.kill()
            await child.wait()
        talk.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await talk


async def _relay(stream: asyncio.StreamReader, said: list[str]) -> None:
    """The emulator's stderr into this process's log (its last lines kept for an error)."""
    async for raw in stream:
        line = raw.decode(errors="replace").rstrip()
        if line:
            said[:] = [*said[-4:], line]
            log.info("emulator: %s", line)


def _aimed(app: AppConfig, urls: Mapping[str, str]) -> EngineConfig:
    """The engine's settings with its feed aimed at an emulator's `urls`."""
    feed = app.engine.feed.model_copy(
        update={
            "clob_rest_url": urls["clob"],
            "market_ws_url": urls["market_ws"],
            "user_ws_url": urls["user_ws"],
            "gamma_url": urls["gamma"],
            "news_url": urls["news"],
            "offline": True,
        }
    )
    return app.engine.model_copy(update={"feed": feed})


Venue = Callable[[AppConfig], AbstractAsyncContextManager[tuple[EngineConfig, str]]]


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
        resume = await load_resume(path, rate_window_s(app.engine), clock.time())
        async with venue_for(app) as (config, venue_name), contextlib.AsyncExitStack() as stack:
            gateway = None
            if not config.dry_run:
                # Live: orders go to the venue through the official SDK (never imported
                # for a paper run).
                from polyterm.faces.live_trading import live_gateway

                setup = await stack.enter_async_context(
                    live_gateway(app, config, clock, path, resume)
                )
                gateway, config = setup.gateway, setup.config
                log.warning(
                    "LIVE trading: wallet %s (signer %s) on %s",
                    setup.wallet,
                    setup.signer,
                    venue_name,
                )
            feed = PolymarketFeed(config.feed, config.hot_assets, clock, watch=app.watch)
            engine = build_engine(
                config,
                clock,
                ledger,
                venue=venue_name,
                feed=feed,
                health=feed.health,
                gateway=gateway,
                seed=app.emulator_seed,
                resume=resume,
            )
            if engine.restored:
                log.info("resumed the account in %s (%d records)", path, engine.restored)
            sentiment = (
                sentiment_source_for(config, clock, offline=app.offline)
                if config.sentiment.enabled
                else None
            )
            runner = engine.live_runner(feed, ledger, sentiment=sentiment)
            yield LiveEngine(runner, engine.starting_cash, venue_name, path)
    finally:
        await ledger.close()

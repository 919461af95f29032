"""What the console tests share: a seeded tape, the console on a replay of it, and
waiting for what is on screen (conditions, never sleeps)."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from pathlib import Path

from rich.console import Console, RenderableType
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Static

from engine.config import EngineConfig
from engine.runtime.backtest import ReplayRecord
from engine.runtime.snapshot import EngineSnapshot
from polyterm.emulator.export import export_tape
from polyterm.emulator.server import ExchangeEmulator
from polyterm.faces.replay import ReplayBackend, open_replay_session
from polyterm.faces.session import open_live_session
from polyterm.settings.config import AppConfig, load_config
from polyterm.tui.app import PolytermApp
from tests.kit.feed import FAST_HOT, fast_feed_config
from widgets.format import PriceStyle

SIZE = (160, 50)
SEED = 7
MARKETS = 6
SECONDS = 120.0  # enough for fills, open positions and exits; the kill switch stays armed


def make_tape(path: Path, seconds: float = SECONDS, *, busy: bool = False) -> Path:
    """The seeded emulator's flow as a tape: the same bytes on every machine (synthetic
    markets only, so the recorded data beside the checkout does not change it).

    By default the realistic offline market (market makers keep spreads and depth in the
    ranges of recorded books), as a trader sees it offline: the snapshots show it. A
    realistic market closes most positions within the two minutes; `busy` is the bare
    flow (wide books, no market makers), which leaves many open, for the tests of what
    flatten and the positions table do with several positions in several markets."""
    export_tape(
        path,
        seed=SEED,
        markets=MARKETS,
        duration_s=seconds,
        recorded=None,
        market_makers=not busy,
    )
    return path


def app_config(env: Mapping[str, str] | None = None) -> AppConfig:
    # Defaults only (and `env`): no config file, no environment of the developer's.
    return load_config(None, env=dict(env or {}))


def console(
    tape: Path,
    tmp: Path,
    *,
    theme: str = "polyterm-dark",
    records: Iterable[ReplayRecord] | None = None,
    config_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    prices: PriceStyle = "cents",
) -> PolytermApp:
    """The console on a replay of `tape` into a new ledger in `tmp`; `env` sets settings
    by their environment names (e.g. TRADING_ORDER_FREQUENCY_MAX_ORDERS)."""
    config = app_config(env)
    ledger = tmp / "console.sqlite"
    return PolytermApp(
        lambda: open_replay_session(config, [tape], ledger, records=records),
        venue="replay",
        theme=theme,
        config_path=config_path,
        prices=prices,
    )


async def until(pilot: Pilot[int], predicate: Callable[[], bool], within: float = 30.0) -> None:
    """Let the app run until `predicate` holds (fails after `within` seconds)."""
    async with asyncio.timeout(within):
        while not predicate():
            await pilot.pause(0.02)


def plain(widget: Widget) -> str:
    """What a Static-based pane shows, as plain text."""
    assert isinstance(widget, Static)
    console = Console(width=widget.size.width or SIZE[0], file=io.StringIO(), color_system=None)
    with console.capture() as captured:
        content = widget.content
        console.print(content if isinstance(content, RenderableType) else str(content))
    return captured.get()


def backend(app: PolytermApp) -> ReplayBackend:
    assert isinstance(app.backend, ReplayBackend)
    return app.backend


def truth(app: PolytermApp) -> EngineSnapshot:
    """The engine's state now, built afresh (not what a pane shows, nor the last
    snapshot published)."""
    return backend(app).runner.builder.build()


async def replayed(pilot: Pilot[int]) -> PolytermApp:
    """Until the tape is in and its last snapshot is on screen."""
    app = pilot.app
    assert isinstance(app, PolytermApp)

    def ready() -> bool:
        b = app.backend
        return (
            isinstance(b, ReplayBackend)
            and b.replayed.is_set()
            and app.bridge.latest is not None
            and app.bridge.latest is b.hub.latest
            and app.shown_snapshot is app.bridge.latest
        )

    await until(pilot, ready)
    await pilot.pause()
    # The tape is in: fit every table to its final rows and pane. (Which snapshots a
    # loaded machine showed on the way decides when the last fit ran, and a pane can
    # be two columns off until its next change: the picture must not depend on that.)
    width, height = app.size
    await pilot.resize_terminal(width - 1, height)
    await pilot.pause()
    await pilot.resize_terminal(width, height)
    await settled(pilot)
    return app


async def settled(pilot: Pilot[int], rounds: int = 40) -> None:
    """Until the screen's layout stops moving: tables fit their columns to content a
    refresh after the data arrives, so on a loaded machine a picture taken at once can
    catch a pane before its last re-fit (two columns of background in a snapshot)."""
    app = pilot.app

    def layout() -> tuple[object, ...]:
        return tuple(
            (w.id, w.region, w.virtual_size, w.show_vertical_scrollbar)
            for w in app.screen.query("*")
            if w.display
        )

    last = layout()
    calm = 0
    for _ in range(rounds):
        await pilot.pause(0.05)
        now = layout()
        calm = calm + 1 if now == last else 0
        if calm >= 3:
            return
        last = now


def live_console(
    emulator: ExchangeEmulator,
    tmp: Path,
    *,
    max_markets: int = 2,
    watch: tuple[str, ...] = (),
    env: Mapping[str, str] | None = None,
) -> PolytermApp:
    """The console's live session (the same assembly `polyterm` runs) on a test's own
    emulator, with short feed timers: the top `max_markets`, or the `watch` list."""
    assert emulator.urls is not None
    config = app_config(env)
    engine = config.engine.model_copy(
        update={
            "feed": fast_feed_config(emulator.urls, max_markets=max_markets),
            "hot_assets": FAST_HOT,
        }
    )
    config = config.model_copy(update={"watch": watch, "engine": engine})

    @contextlib.asynccontextmanager
    async def on_test_emulator(app: AppConfig) -> AsyncIterator[tuple[EngineConfig, str]]:
        yield engine, "emulator"

    return PolytermApp(
        lambda: open_live_session(config, tmp / "live.sqlite", venue_for=on_test_emulator),
        venue="emulator",
    )

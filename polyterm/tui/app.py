"""PolytermApp: the Textual console around the engine.

The engine runs in this app's own event loop, in a worker (``exit_on_error=False``): a
failure becomes a visible state in the header, a toast and a log line, never a traceback
on screen. Two more workers follow the engine's snapshot hub and event stream into the
bridge; a timer refreshes the panes from the latest snapshot about ten times a second,
however fast the books move. Commands (pause, flatten, kill, reset) go to the engine
through the backend, behind confirmations where they trade.

Quitting (``q``, ``ctrl+q``, the palette, SIGTERM) stops the engine the way SIGINT stops
a headless run: resting paper orders cancelled, the ledger flushed, the final snapshot
published; then the app exits and Textual restores the terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.content import Content
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from engine.events import Filled
from engine.fixed import cash_decimal, price_decimal, size_decimal
from engine.orders import Side
from engine.ports import MarketChoiceError
from engine.runtime.commands import EngineState, FlattenReport, FlattenScope, KillSwitchState
from engine.venue import TradingMode
from polyterm.faces.backend import EngineBackend
from polyterm.settings.config import DEFAULT_THEME, ConfigError, save_theme
from polyterm.tui import messages
from polyterm.tui.bridge import EngineBridge, Frame, LogTap
from polyterm.tui.commands import MarketCommands, PolytermCommands
from polyterm.tui.notices import DEFAULT_TIMEOUT_S, Notice, NoticeBoard
from polyterm.tui.screens import Watching
from polyterm.tui.screens.confirm import ConfirmScreen
from polyterm.tui.screens.dashboard import DashboardScreen
from polyterm.tui.screens.detail import MarketDetailScreen
from polyterm.tui.screens.flatten import FlattenScreen
from polyterm.tui.screens.help import HelpScreen
from polyterm.tui.screens.order import OrderScreen, describe_order, mentions
from polyterm.tui.screens.reports import ReportsScreen
from themes.themes import STYLESHEET, THEMES
from widgets.format import (
    PriceStyle,
    market_label,
    money,
    price,
    set_palette,
    set_price_style,
    short,
    size,
)
from widgets.markets_table import MarketsTable
from widgets.positions import OrdersTable

log = logging.getLogger("polyterm.console")

Session = Callable[[], AbstractAsyncContextManager[EngineBackend]]
REFRESH_S = 0.1  # the panes' cadence: ten refreshes a second, never one per tick
STOP_WITHIN_S = 15.0  # how long quitting waits for the engine to wind down
NOTICE_LEVELS = {"information": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
# Signals that stop the console cleanly, exiting 128 + the signal (130, 143, 129), as the
# headless face and `polyterm serve` do.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class PolytermApp(App[int]):
    TITLE = "polyterm"
    CSS_PATH = STYLESHEET
    COMMANDS = App.COMMANDS | {PolytermCommands, MarketCommands}
    BINDINGS = [
        Binding(
            "p",
            "toggle_pause",
            "Pause/resume",
            id="toggle-pause",
            tooltip="Pause or resume entries (exits, cancels and settlement go on)",
        ),
        Binding(
            "f",
            "flatten",
            "Flatten",
            id="flatten",
            tooltip="Flatten: preview every cancel and close (scope all / selected market / "
            "a strategy), confirm with y",
        ),
        Binding(
            "k",
            "kill",
            "Kill",
            id="kill",
            tooltip="Kill: latch the kill switch and flatten everything (confirm with y)",
        ),
        Binding(
            "r",
            "reset_kill_switch",
            "Reset",
            id="reset",
            tooltip="Reset the kill switch: re-arm with a new baseline (confirm with y)",
        ),
        Binding(
            "b",
            "order('buy')",
            "Buy",
            id="buy",
            tooltip="Order form to buy the selected market (preview, risk gate, enter sends)",
        ),
        Binding(
            "s",
            "order('sell')",
            "Sell",
            id="sell",
            tooltip="Order form to sell the selected market (preview, risk gate, enter sends)",
        ),
        Binding(
            "X",
            "cancel_all",
            "Cancel all",
            show=False,
            id="cancel-all",
            tooltip="Cancel every open order (confirm with y); x on an order cancels that one",
        ),
        Binding(
            "slash",
            "filter",
            "Filter",
            id="filter",
            tooltip="Filter the markets pane (enter keeps it, esc clears it)",
        ),
        Binding(
            "enter",
            "detail",
            "Detail",
            id="detail",
            tooltip="Market detail: depth ladder, price sparkline, trades, our orders, complement",
        ),
        Binding("question_mark", "help", "Help", id="help", tooltip="Every key, and the palette"),
        Binding(
            "t",
            "toggle_theme",
            "Theme",
            id="theme",
            tooltip="Switch between the dark and light themes (saved in config.toml)",
        ),
        Binding("l", "toggle_log", "Log", id="toggle-log", tooltip="Show or hide the log pane"),
        Binding(
            "e",
            "reports",
            "Reports",
            show=False,  # in the help and the palette; the footer is full
            id="reports",
            tooltip="Reports: the ledger's summary, as `polyterm report summary` (u refreshes)",
        ),
        Binding("q", "quit", "Quit", id="quit", tooltip="Stop the engine cleanly and exit"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="quit-ctrl"),
    ]
    ENGINE_ACTIONS = frozenset(
        {"toggle_pause", "flatten", "kill", "reset_kill_switch", "order", "cancel_all"}
    )

    def __init__(
        self,
        session: Session,
        *,
        venue: str = "emulator",
        theme: str = DEFAULT_THEME,
        config_path: Path | None = None,
        duration: float | None = None,
        refresh_s: float = REFRESH_S,
        ledger_path: Path | None = None,
        prices: PriceStyle = "cents",
    ) -> None:
        """`session` opens the engine (in the worker); `config_path` is where a theme
        change is saved (None: not saved); `duration` quits after that many seconds;
        `ledger_path` is what the Reports screen reads (None: no report); `prices` is
        the price convention (``[console] prices``)."""
        super().__init__()
        set_price_style(prices)
        self.prices: PriceStyle = prices
        self._session = session
        self.venue = venue
        self._start_theme = theme
        self._saved_theme = theme  # what config.toml says (the save thread updates it)
        self._save_lock = threading.Lock()  # one save at a time, each of the latest choice
        self.config_path = config_path
        self.duration = duration
        self.refresh_s = refresh_s
        self.ledger_path = ledger_path
        self.backend: EngineBackend | None = None
        self.bridge = EngineBridge()
        self.log_tap = LogTap()
        self.engine_error: str | None = None
        self.engine_done = False
        self.refreshes = 0  # refreshes that had something new to show
        self._engine: Worker[None] | None = None
        self._quitting = False
        self._signal_code = 0
        self._painted_theme = theme
        self.notices = NoticeBoard()  # what the notice line shows (and showed)
        self._notice_shown: tuple[object, ...] = ()
        self._bindings_for_running = False  # what the footer last showed of the engine
        self._shown: tuple[object, ...] = ()
        for theme_ in THEMES:
            self.register_theme(theme_)

    # -- start ----------------------------------------------------------------------------
    def get_default_screen(self) -> Screen[None]:
        return DashboardScreen()

    def on_mount(self) -> None:
        logging.getLogger().addHandler(self.log_tap)
        # What the console itself did (commands, failures) always reaches the log pane;
        # the engine's own records follow the verbosity the command line set.
        log.setLevel(logging.INFO)
        self.theme = self._start_theme
        self._painted_theme = self._start_theme
        self._apply_palette(self.current_theme)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.set_interval(self.refresh_s, self.flush, name="refresh")
        self._engine = self.run_engine()
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            # Not on the main thread (a test) or no signals here: q still quits cleanly.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._signalled, sig)
        if self.duration is not None:
            self.set_timer(self.duration, self.action_quit)

    async def on_unmount(self) -> None:
        engine = self._engine
        if engine is not None and not engine.is_finished:
            # Closing without a quit (Textual cancels every worker): the engine worker
            # is stopping the engine cleanly; let it finish before the loop goes.
            with contextlib.suppress(WorkerCancelled, WorkerFailed, TimeoutError):
                async with asyncio.timeout(STOP_WITHIN_S):
                    await engine.wait()
        logging.getLogger().removeHandler(self.log_tap)
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)

    def _signalled(self, sig: signal.Signals) -> None:
        self._signal_code = 128 + sig
        self.call_later(self.action_quit)

    @work(group="engine", exclusive=True, exit_on_error=False, description="the engine")
    async def run_engine(self) -> None:
        async with self._session() as backend:
            self.backend = backend
            self.venue = backend.venue
            self._follow(backend)
            self.post_message(messages.EngineStarted(backend.venue))
            self.refresh_bindings()
            run = asyncio.create_task(backend.run(), name="engine-run")
            try:
                await asyncio.shield(run)
            except asyncio.CancelledError:
                # The app is closing without a quit (its terminal went away, a test
                # ended): stop the engine the same clean way before the session closes.
                backend.stop()
                await asyncio.wait({run}, timeout=STOP_WITHIN_S)
                raise

    def _follow(self, backend: EngineBackend) -> None:
        self.run_worker(
            self.bridge.follow_snapshots(backend), group="bridge", description="snapshots"
        )
        self.run_worker(self.bridge.follow_events(backend), group="bridge", description="events")

    # -- the engine's state -----------------------------------------------------------------
    @property
    def engine_running(self) -> bool:
        return self.backend is not None and not self.engine_done and self.backend.state.trading

    @property
    def engine_state(self) -> EngineState:
        """The engine's state as the console shows it (a failure also in engine_error)."""
        if self.engine_error is not None:
            return EngineState.FAILED
        if self.backend is None:
            return EngineState.STOPPED if self.engine_done else EngineState.STARTING
        return self.backend.state

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._engine:
            return
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            why = _one_line(error)
            self.engine_error = why
            self.engine_done = True
            log.error("the engine failed: %s", why, exc_info=error)
            self.notify(why, title="Engine failed", severity="error", timeout=30)
            dashboard = self._dashboard()
            if dashboard is not None and not dashboard.query_one("#log").display:
                dashboard.toggle_log()
        elif event.state in (WorkerState.SUCCESS, WorkerState.CANCELLED):
            self.engine_done = True
            if not self._quitting:
                self.notify("the engine stopped", title="Engine", severity="warning")
        if event.state in (WorkerState.ERROR, WorkerState.SUCCESS, WorkerState.CANCELLED):
            self.refresh_bindings()
            self.flush()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.ENGINE_ACTIONS and not self.engine_running:
            return None  # shown greyed out: there is no running engine to command
        return True

    # -- refresh ----------------------------------------------------------------------------
    def frame(self) -> Frame:
        backend = self.backend
        return Frame(
            snap=self.bridge.latest,
            engine_state=self.engine_state,
            engine_error=self.engine_error,
            venue=self.venue,
            backend=backend,
            history=backend.history if backend is not None else None,
        )

    @property
    def shown_snapshot(self) -> object:
        """The snapshot the panes show now (None before the first)."""
        return self._shown[0] if self._shown else None

    @property
    def shown_screen(self) -> object:
        """The top screen as of the last refresh that showed something (None before)."""
        return self._shown[-1] if self._shown else None

    def flush(self) -> None:
        """The refresh: the latest snapshot into the visible screens, the events since
        the last refresh into toasts, new log lines into the log pane."""
        for message in self.bridge.take_messages():
            self.post_message(message)
        lines = self.log_tap.take()
        dashboard = self._dashboard()
        if lines and dashboard is not None:
            dashboard.add_log(lines)
        self._show_notice()
        frame = self.frame()
        running = self.engine_running
        if running != self._bindings_for_running:
            # Engine commands grey out while no engine runs (check_action): the footer
            # and palette follow the engine's state as it moves, not only its worker's.
            self._bindings_for_running = running
            self.refresh_bindings()
        history = frame.history.version if frame.history is not None else -1
        key = (frame.snap, frame.engine_state, frame.engine_error, history, self.screen)
        if key == self._shown:
            return
        screens = [s for s in self._visible_screens() if isinstance(s, Watching)]
        if not all(s.is_mounted for s in screens):
            return  # a screen just pushed: the next refresh shows it whole
        self._shown = key
        self.refreshes += 1
        with self.batch_update():
            for screen in screens:
                try:
                    screen.show(frame)
                except NoMatches:
                    # Its panes are still being composed, or already torn down (the app
                    # is closing): nothing to show now; the next refresh shows it whole.
                    self._shown = ()

    # -- notices (instead of toasts over the panes) -----------------------------------------
    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification (ours and Textual's) goes to the notice line, coalesced,
        and to the log; never to a toast over a pane. Safe from any thread."""
        if markup and "[/" in message:
            # Not markup after all: shown as written.
            with contextlib.suppress(Exception):
                message = Content.from_markup(message).plain
        notice = Notice(message, title, severity, timeout or DEFAULT_TIMEOUT_S)
        self.post_message(messages.NoticePosted(notice))

    def on_notice_posted(self, message: messages.NoticePosted) -> None:
        notice = message.notice
        log.log(NOTICE_LEVELS.get(notice.severity, logging.INFO), "%s", notice.line)
        self.notices.post(notice, time.monotonic())
        self._show_notice()

    def _show_notice(self) -> None:
        now = time.monotonic()
        board = self.notices
        board.tick(now)
        key = (board.version, board.fresh(now), tuple(map(id, self.screen_stack)))
        if key == self._notice_shown:
            return
        current = board.current
        line = current.line if current is not None else None
        severity = current.severity if current is not None else "information"
        shown = True
        for screen in self.screen_stack:
            show = getattr(screen, "show_notice", None)
            if show is None or not screen.is_mounted:
                continue
            try:
                show(line, severity, key[1])
            except NoMatches:
                shown = False  # still composing: the next refresh shows it
        if shown:
            self._notice_shown = key

    def _visible_screens(self) -> list[Screen[object]]:
        """The top screen, and the ones beneath it down to the first that is not a
        modal (a modal dims, but does not hide, what is under it)."""
        out: list[Screen[object]] = []
        for screen in reversed(self.screen_stack):
            out.append(screen)
            if not screen.is_modal:
                break
        return out

    def _dashboard(self) -> DashboardScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, DashboardScreen):
                return screen
        return None

    # -- themes -----------------------------------------------------------------------------
    def _apply_palette(self, theme: Theme) -> None:
        variables = theme.variables
        set_palette(
            variables.get("pnl-up", theme.success or "green"),
            variables.get("pnl-down", theme.error or "red"),
            theme.warning or "yellow",
        )

    def _theme_changed(self, theme: Theme) -> None:
        if theme.name == self._painted_theme:
            return  # the start-up theme (already painted), or no change
        self._painted_theme = theme.name
        self._apply_palette(theme)
        for screen in self.screen_stack:
            if isinstance(screen, Watching) and screen.is_mounted:
                screen.repaint()
        self._shown = ()
        if self.config_path is not None:
            self._save_theme(self.config_path)

    @work(thread=True, group="config", exit_on_error=False)
    def _save_theme(self, path: Path) -> None:
        """Save the theme shown when this save gets its turn: saves run one at a time,
        and a quick second switch is saved after (not lost behind) a slow first one."""
        with self._save_lock:
            name = self.theme
            if name == self._saved_theme:
                return
            try:
                save_theme(path, name)
            except ConfigError as exc:
                self.notify(str(exc), title="Theme not saved", severity="warning")
                log.warning("console: %s", exc)
                return
            self._saved_theme = name
        log.info("theme %s saved in %s", name, path)

    def set_theme(self, name: str) -> None:
        self.theme = name

    def action_toggle_theme(self) -> None:
        self.theme = "polyterm-light" if self.theme == "polyterm-dark" else "polyterm-dark"

    # -- commands ---------------------------------------------------------------------------
    def action_toggle_pause(self) -> None:
        backend = self.backend
        if backend is None:
            return
        if backend.paused:
            backend.resume()
            self.notify("entries resumed", title="Running")
            log.info("console: entries resumed")
        else:
            backend.pause()
            self.notify("no new entries; exits, cancels and settlement go on", title="Paused")
            log.info("console: entries paused")
        self.flush()

    def _selected_asset(self) -> str | None:
        screen = self.screen
        if isinstance(screen, MarketDetailScreen):
            return screen.asset_id
        dashboard = self._dashboard()
        return dashboard.selected_asset if dashboard is not None else None

    def action_flatten(self) -> None:
        scope = FlattenScope("market", "") if isinstance(self.screen, MarketDetailScreen) else None
        self.open_flatten(scope)

    def _confirming(self) -> bool:
        """A flatten, kill or reset confirmation is already open (the palette can be
        opened over one): say so rather than stack a second, stale one."""
        if any(
            isinstance(s, FlattenScreen | ConfirmScreen | OrderScreen) for s in self.screen_stack
        ):
            self.notify("answer the open confirmation first", title="Not now", timeout=3)
            return True
        return False

    def open_flatten(self, scope: FlattenScope | None = None) -> None:
        backend = self.backend
        if backend is None or not self.engine_running or self._confirming():
            return
        selected_market = scope is not None and scope.kind == "market" and not scope.value
        if selected_market and self._selected_asset() is None:
            # Never widen a "selected market" flatten to everything.
            self.notify("no market is selected", title="Flatten", timeout=3)
            return
        snap = self.bridge.latest
        modal = FlattenScreen(
            backend,
            selected_asset=self._selected_asset(),
            scope=scope,
            orders=snap.orders if snap is not None else (),
        )
        self.push_screen(modal, callback=self._flatten_answered)

    def _flatten_answered(self, scope: FlattenScope | None) -> None:
        if scope is None:
            self.notify("nothing was sent", title="Flatten cancelled")
            return
        self._run_command("flatten", self._flatten(scope))

    async def _flatten(self, scope: FlattenScope) -> str:
        assert self.backend is not None
        log.warning(
            "console: flatten %s", scope.kind if not scope.value else f"{scope.kind} {scope.value}"
        )
        report = await self.backend.flatten(scope)
        return _report(report)

    def action_kill(self) -> None:
        backend = self.backend
        if backend is None or not self.engine_running or self._confirming():
            return
        plan = backend.flatten_preview(FlattenScope())
        body = Text()
        body.append("Latch the kill switch and flatten everything.\n\n", style="bold")
        body.append(
            f"{len(plan.cancels)} open orders will be cancelled and {len(plan.closes)} "
            f"positions closed with FAK sells (at most "
            f"{backend.flatten_slippage_ticks} ticks under the bid).\n"
            "No new entries until the kill switch is reset (r)."
        )
        self.push_screen(
            ConfirmScreen("Kill switch", body, "kill and flatten"), callback=self._kill_answered
        )

    def _kill_answered(self, yes: bool | None) -> None:
        if not yes:
            self.notify("the kill switch was not touched", title="Kill cancelled")
            return
        self._run_command("kill", self._kill())

    async def _kill(self) -> str:
        assert self.backend is not None
        log.warning("console: kill")
        return "kill switch latched; " + _report(await self.backend.kill())

    def action_reset_kill_switch(self) -> None:
        backend = self.backend
        snap = self.bridge.latest
        if backend is None or not self.engine_running or self._confirming():
            return
        body = Text()
        body.append("Re-arm the kill switch.\n\n", style="bold")
        if snap is not None:
            ks = snap.kill_switch
            state = "KILLED" if ks.killed_by else ks.state.upper()
            body.append(
                f"It is {state} now (loss {money(ks.loss)} of a {money(ks.limit)} limit).\n"
                f"The trading day's baseline becomes the current equity, {money(snap.equity)}, "
                "and entries are allowed again. The reset is recorded with who and when."
            )
        self.push_screen(
            ConfirmScreen("Reset the kill switch", body, "reset", danger=False),
            callback=self._reset_answered,
        )

    def _reset_answered(self, yes: bool | None) -> None:
        if not yes or self.backend is None:
            self.notify("the kill switch was not touched", title="Reset cancelled")
            return
        self.backend.reset()
        log.warning("console: kill switch reset")
        self.post_message(messages.CommandFinished("reset", "the kill switch is armed again"))

    def _run_command(self, name: str, work: object) -> None:
        async def run() -> None:
            try:
                summary = await work  # type: ignore[misc]
            except Exception as exc:  # noqa: BLE001 - a failed command is shown, not raised
                self.post_message(messages.CommandFinished(name, _one_line(exc), ok=False))
                log.error("console: %s failed: %s", name, exc)
                return
            self.post_message(messages.CommandFinished(name, summary))

        self.run_worker(run(), group="command", description=name, exit_on_error=False)

    # -- manual orders -------------------------------------------------------------------
    @property
    def live(self) -> bool:
        snap = self.bridge.latest
        return snap is not None and snap.mode is TradingMode.LIVE

    def action_order(self, side: str) -> None:
        """The order form on the selected market (`b` buys, `s` sells)."""
        backend = self.backend
        if backend is None or not self.engine_running or self.screen.is_modal:
            return
        asset = self._selected_asset()
        if asset is None:
            self.notify("no market is selected: pick one in the markets pane", timeout=3)
            return
        chosen = Side.BUY if side == "buy" else Side.SELL
        form = OrderScreen(backend, asset, chosen, live=self.live)
        self.push_screen(form, callback=self._order_answered)

    def _order_answered(self, order_id: str | None) -> None:
        if order_id is None:
            return
        self.run_worker(self._announce(order_id), group="command", exit_on_error=False)

    async def _announce(self, order_id: str) -> None:
        """Say where a sent order stands once a snapshot shows it (the venue's status)."""
        if self.backend is None:
            return
        # Through the console's one snapshot subscription (the bridge's), not another.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                await self.bridge.snapshot_where(lambda snap: mentions(order_id, snap))
        log.info("console: manual order %s", order_id)
        self.notify(describe_order(order_id, self.bridge.latest), title="Order")

    @on(OrdersTable.CancelAsked)
    def _cancel_asked(self, event: OrdersTable.CancelAsked) -> None:
        backend = self.backend
        if backend is None or not self.engine_running:
            return
        if backend.cancel_order(event.order_id):
            log.warning("console: cancel of %s", event.order_id)
            self.notify(f"cancel of {event.order_id} sent", title="Cancel")
        else:
            self.notify(f"{event.order_id} is no longer open", title="Cancel", severity="warning")

    def action_cancel_all(self) -> None:
        backend = self.backend
        snap = self.bridge.latest
        if backend is None or not self.engine_running or self._confirming():
            return
        n = len(snap.orders) if snap is not None else 0
        if not n:
            self.notify("no open orders", title="Cancel all", timeout=3)
            return
        body = Text(f"Cancel every open order ({n}), strategies' and manual ones alike.\n")
        body.append("Positions stay as they are (f flattens them).", style="dim")
        self.push_screen(
            ConfirmScreen("Cancel all orders", body, "cancel them all", danger=False),
            callback=self._cancel_all_answered,
        )

    def _cancel_all_answered(self, yes: bool | None) -> None:
        if not yes or self.backend is None:
            self.notify("no order was touched", title="Cancel all cancelled")
            return
        n = self.backend.cancel_all()
        log.warning("console: cancel all (%d orders)", n)
        self.post_message(messages.CommandFinished("cancel all", f"{n} cancels sent"))

    # -- markets by name ------------------------------------------------------------------
    def add_market(self, ref: str) -> None:
        """Trade one more market (from the palette): subscribed at once."""
        if self.backend is None or not self.engine_running:
            return
        self.run_worker(self._choose(ref, add=True), group="markets", exit_on_error=False)

    def remove_market(self, condition_id: str) -> None:
        """Stop trading a market (from the palette)."""
        if self.backend is None or not self.engine_running:
            return
        self.run_worker(self._choose(condition_id, add=False), group="markets", exit_on_error=False)

    async def _choose(self, ref: str, *, add: bool) -> None:
        backend = self.backend
        assert backend is not None
        try:
            if add:
                market = await backend.add_market(ref)
                words = f"now trading “{short(market.question, 60)}”"
            else:
                market = await backend.remove_market(ref)
                words = f"no longer trading “{short(market.question, 60)}”"
        except MarketChoiceError as exc:
            title = "Not watched" if add else "Still watched"
            self.notify(str(exc), title=title, severity="warning")
            return
        self.notify(words, title="Markets")

    def action_filter(self) -> None:
        if isinstance(self.screen, MarketDetailScreen):
            self.pop_screen()
        dashboard = self._dashboard()
        if dashboard is not None and self.screen is dashboard:
            dashboard.open_filter()

    def action_detail(self) -> None:
        asset = self._selected_asset()
        if asset is None:
            self.notify("no market selected yet", timeout=2)
            return
        if not isinstance(self.screen, MarketDetailScreen):
            self.open_detail(asset)

    @on(MarketsTable.MarketSelected)
    def _market_selected(self, event: MarketsTable.MarketSelected) -> None:
        self.open_detail(event.asset_id)

    def open_detail(self, asset_id: str) -> None:
        # The next refresh shows it (the refresh key includes the screen on top).
        self.push_screen(MarketDetailScreen(asset_id))

    def sort_markets(self, column: str) -> None:
        dashboard = self._dashboard()
        if dashboard is not None:
            dashboard.query_one(MarketsTable).sort_by(column)

    def action_toggle_log(self) -> None:
        dashboard = self._dashboard()
        if dashboard is not None:
            dashboard.toggle_log()

    def action_reports(self) -> None:
        self.push_screen(ReportsScreen(self.ledger_path))

    def action_help(self) -> None:
        self.push_screen(
            HelpScreen(
                [
                    ("Everywhere", self.BINDINGS),
                    ("Markets pane", MarketsTable.BINDINGS),
                    ("Dashboard", DashboardScreen.BINDINGS),
                    ("Market detail", MarketDetailScreen.BINDINGS),
                    ("Orders table", OrdersTable.BINDINGS),
                    ("Order form", OrderScreen.BINDINGS),
                    ("Flatten preview", FlattenScreen.BINDINGS),
                    ("Confirmations (kill, reset)", ConfirmScreen.BINDINGS),
                ]
            )
        )

    async def action_quit(self) -> None:
        """Stop the engine cleanly, then exit; a second quit while it stops exits now."""
        if self._quitting:
            code = self._exit_code()
            self.exit(code, return_code=code)
            return
        self._quitting = True
        engine = self._engine
        if engine is None or engine.is_finished:
            code = self._exit_code()
            self.exit(code, return_code=code)
            return
        self.notify("stopping the engine: cancelling resting orders, flushing the ledger")
        self.run_worker(self._stop_engine(engine), group="quit", exclusive=True)

    async def _stop_engine(self, engine: Worker[None]) -> None:
        if self.backend is not None:
            self.backend.stop()
        else:
            engine.cancel()  # still opening the session: nothing trades yet
        try:
            async with asyncio.timeout(STOP_WITHIN_S):
                await engine.wait()
        except (WorkerFailed, WorkerCancelled):
            pass  # the engine worker's own handler has shown why
        except TimeoutError:
            log.error("the engine did not stop within %.0f s; exiting anyway", STOP_WITHIN_S)
            engine.cancel()
        code = self._exit_code()
        self.exit(code, return_code=code)

    def _exit_code(self) -> int:
        """128 + the signal that stopped it; 1 after an engine failure; else 0."""
        if self._signal_code:
            return self._signal_code
        return 1 if self.engine_error is not None else 0

    # -- discrete events as toasts -------------------------------------------------------
    def on_engine_started(self, message: messages.EngineStarted) -> None:
        log.info("engine started (%s)", message.venue)

    def on_fills_arrived(self, message: messages.FillsArrived) -> None:
        # The fills of one refresh in one notice; the notice line coalesces further (a
        # busy run fills many orders a second).
        fills = message.fills
        latest = fills[-1]
        title = f"Fill ({latest.strategy})" if len(fills) == 1 else f"{len(fills)} fills"
        self.notify(_fill_line(self, latest), title=title, timeout=4)

    def on_kill_switch_moved(self, message: messages.KillSwitchMoved) -> None:
        change = message.change
        if change.reason in ("trip", "kill"):
            what = "killed by " + change.who if change.reason == "kill" else "tripped"
            self.notify(
                f"kill switch {what}: loss {money(cash_decimal(change.loss))} against a limit "
                f"of {money(cash_decimal(change.limit))}; no entries",
                title="Kill switch",
                severity="error",
                timeout=15,
            )
        elif change.reason in ("cooldown", "re-armed", "reset", "new day"):
            self.notify(
                f"kill switch {change.state} ({change.reason})",
                title="Kill switch",
                severity="warning" if change.state != KillSwitchState.ARMED else "information",
            )

    def on_feed_source_switched(self, message: messages.FeedSourceSwitched) -> None:
        healthy = message.source == "ws_live"
        why = f": {message.reason}" if message.reason and not healthy else ""
        self.notify(
            f"{message.previous} → {message.source}{why}",
            title="Feed",
            severity="information" if healthy else "warning",
        )

    def on_trading_block_moved(self, message: messages.TradingBlockMoved) -> None:
        change = message.change
        if change.blocked:
            self.notify(
                f"no new orders ({change.reason}): {change.detail}; cancels still go out",
                title="Trading blocked",
                severity="error",
                timeout=30,
            )
        else:
            self.notify(f"new orders may go out again ({change.reason})", title="Trading")

    def on_engine_error_raised(self, message: messages.EngineErrorRaised) -> None:
        self.notify(f"{message.where}: {message.message}", title="Engine error", severity="error")

    def on_market_settled(self, message: messages.MarketSettled) -> None:
        s = message.settlement
        question, outcome = self.backend.describe(s.asset_id) if self.backend else (s.asset_id, "")
        self.notify(
            f"{short(question, 50)} {outcome}: paid {price(price_decimal(s.payout_price))} "
            f"a share, realized {money(cash_decimal(s.realized), signed=True)}",
            title="Settled",
        )

    def on_command_finished(self, message: messages.CommandFinished) -> None:
        self.notify(
            message.summary,
            title=message.command.capitalize(),
            severity="information" if message.ok else "error",
            timeout=10,
        )
        self.flush()


def _one_line(error: BaseException | None) -> str:
    if error is None:
        return "unknown error"
    if isinstance(error, BaseExceptionGroup) and error.exceptions:
        return _one_line(error.exceptions[0])
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:200]


def _fill_line(app: PolytermApp, event: Filled) -> str:
    fill = event.fill
    question, outcome = app.backend.describe(fill.asset_id) if app.backend else ("", "")
    return (
        f"{fill.side.value.lower()} {size(size_decimal(fill.size))} @ "
        f"{price(price_decimal(fill.price))} · {market_label(question, outcome, 44)}"
    )


def _report(report: FlattenReport) -> str:
    plan = report.plan
    text = f"{len(plan.cancels)} cancels, {len(plan.orders)} closing orders sent"
    if report.left:
        text += f"; still held: {len(report.left)} ({report.left[0][2]})"
    else:
        text += "; nothing left in scope"
    return text

"""The console face: ``polyterm`` (and ``polyterm --offline|--online``) opens the Textual
console on the same engine the headless face runs.

Diagnostics cannot go to stderr while the console owns the terminal: log records go to
the log pane (``l``) and to ``console.log`` in the platformdirs log dir (rotated at
1 MB, three files kept, all 0600), so what happened is still there after the console closes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from polyterm.faces.ops import OpsOptions
from polyterm.settings import locations
from polyterm.settings.config import AppConfig, ConfigError

if TYPE_CHECKING:
    from polyterm.faces.session import LiveBackend

LOG_FILE = "console.log"


@dataclass(frozen=True, slots=True)
class ConsoleOptions:
    ledger: Path | None = None
    config_path: Path | None = None  # where the theme choice is saved (default config)
    duration: float | None = None
    ops: OpsOptions = OpsOptions()  # ctl socket, metrics, alerts, systemd


def check_terminal() -> None:
    """The console draws on a terminal (or, under ``polyterm serve``, a browser)."""
    served = bool(os.environ.get("TEXTUAL_DRIVER"))
    if not served and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise ConfigError(
            "the console needs a terminal: run it in one, or use --no-ui for the headless face"
        )


def check_theme(app: AppConfig) -> None:
    from textual.theme import BUILTIN_THEMES

    from themes.themes import THEMES

    names = [t.name for t in THEMES]
    known = set(names) | set(BUILTIN_THEMES)
    if app.console.theme not in known:
        raise ConfigError(
            f"config console.theme: {app.console.theme!r} is not a theme: use "
            f"{' or '.join(names)} (or one of Textual's: {', '.join(sorted(BUILTIN_THEMES))})"
        )


def watch_server(served_by: str | None, every_s: float = 0.5) -> threading.Thread | None:
    """A console that ``polyterm serve`` started stops (as on SIGTERM: the engine stops
    cleanly) once that server is gone, so a server stopped abruptly leaves no session
    trading on its own. `served_by` is the server's pid, from its environment."""
    if not served_by or not served_by.isdigit():
        return None
    server = int(served_by)

    def watch() -> None:
        while os.getppid() == server:
            time.sleep(every_s)
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=watch, name="served-by", daemon=True)
    thread.start()
    return thread


def log_to_file() -> Path | None:
    """Send log records to the console's log file instead of stderr; None if the log
    directory cannot be written (the log pane still has them)."""
    from polyterm.settings.logs import log_file

    return log_file(locations.log_dir() / LOG_FILE, replace=True, max_bytes=1_000_000, keep=3)


@contextlib.asynccontextmanager
async def console_session(app: AppConfig, options: ConsoleOptions) -> AsyncIterator[LiveBackend]:
    """The live session with the same services beside it as a headless run (ctl first)."""
    from polyterm.faces.ops import operations
    from polyterm.faces.session import open_live_session

    ledger = options.ledger or app.ledger or locations.default_ledger_path()
    async with (
        open_live_session(app, options.ledger) as backend,
        operations(backend.runner, ledger, "console", options.ops),
    ):
        yield backend


def run_console(app: AppConfig, options: ConsoleOptions) -> int:
    """Run the console until it is quit; returns the exit code (0, or 143/129 when a
    signal stopped it)."""
    check_terminal()
    check_theme(app)
    from polyterm.faces.browser import SERVED_BY
    from polyterm.tui.app import PolytermApp

    log_to_file()
    watch_server(os.environ.get(SERVED_BY) if os.environ.get("TEXTUAL_DRIVER") else None)
    console = PolytermApp(
        lambda: console_session(app, options),
        venue="emulator" if app.offline else "polymarket",
        theme=app.console.theme,
        config_path=options.config_path or locations.config_file(),
        duration=options.duration,
        ledger_path=options.ledger or app.ledger or locations.default_ledger_path(),
        prices=app.console.prices,
    )
    code = console.run()
    return code if isinstance(code, int) else 0

"""What every ``polyterm`` command shares: exit codes, one-line errors, signals and
the event loop commands run on, config loading and path checks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import traceback
from collections.abc import Callable, Coroutine, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TypeVarTuple, Unpack

import click

log = logging.getLogger("polyterm")

EXIT_INCOMPLETE = 1
EXIT_USAGE = 2
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOP_WITHIN_S = 1.0  # how long a stopping command waits for its feed to wind down

_Ts = TypeVarTuple("_Ts")


def signal_exit(sig: int) -> int:
    """The shell's convention: 128 + the signal number (130 for SIGINT, 143 for SIGTERM)."""
    return 128 + sig


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """One line on stderr (a multi-line message is joined with '; '), then exit."""
    line = "; ".join(part.strip() for part in message.splitlines() if part.strip())
    click.echo(f"polyterm: error: {line}", err=True)
    sys.exit(code)


class _StopAwareLoop(asyncio.SelectorEventLoop):
    """The event loop :func:`run_command` runs commands on.

    Commands stop cleanly on SIGINT/SIGTERM through ``loop.add_signal_handler``; this loop
    notes the first such signal, so :func:`run_command` can exit 130/143 even for a command that
    returns 0 after a signalled stop, and turns a second SIGINT into KeyboardInterrupt:
    if a clean stop ever hangs, Ctrl-C again still ends the process.
    """

    stopped_by: int | None = None

    def add_signal_handler(
        self, sig: int, callback: Callable[[Unpack[_Ts]], object], *args: *_Ts
    ) -> None:
        def noted(*call_args: *_Ts) -> None:
            if sig == signal.SIGINT and self.stopped_by is not None:
                raise KeyboardInterrupt
            if self.stopped_by is None and sig in (*STOP_SIGNALS, signal.SIGHUP):
                self.stopped_by = sig
            callback(*call_args)

        super().add_signal_handler(sig, noted, *args)


def run_command(main: Callable[[], Coroutine[Any, Any, int]], verbose: int) -> int:
    """Run a command's coroutine; returns the exit code (see the module docstring).

    The coroutine's own code stands, except that 0 after a SIGINT/SIGTERM stop becomes
    130/143. KeyboardInterrupt is 130. An expected error is one line (``-vv``: after its
    traceback) and exit 2; anything else is a bug and keeps its traceback (exit 1).
    """
    loop = _StopAwareLoop()
    try:
        with asyncio.Runner(loop_factory=lambda: loop) as runner:
            code = runner.run(main())
    except KeyboardInterrupt:
        return signal_exit(signal.SIGINT)
    except BaseException as exc:
        found = _find(exc, _expected_errors())
        if found is None:
            raise
        if verbose > 1:
            traceback.print_exception(exc)
        fail(str(found))
    if code == 0 and loop.stopped_by is not None:
        return signal_exit(loop.stopped_by)
    return code


def _expected_errors() -> tuple[type[BaseException], ...]:
    """The errors a command reports in one line. Imported only once one was raised: at
    start-up they would load the network stack (httpx, websockets) into every command,
    a backtest's included."""
    from engine.adapters.net.http import VenueError
    from engine.adapters.net.loopback import OfflineViolation
    from engine.adapters.polymarket.feed import FeedError
    from engine.adapters.tape.tape import TapeError
    from engine.ledger.writer import LedgerError
    from polyterm.faces.live_errors import LiveError
    from polyterm.settings.config import ConfigError

    return (
        ConfigError,
        LiveError,
        LedgerError,
        FeedError,
        OfflineViolation,
        TapeError,
        VenueError,
        OSError,
    )


class StopRequest:
    """What :func:`stop_signals` yields: ``await stop.wait()``; ``stop.signal`` says which."""

    def __init__(self) -> None:
        self.signal: signal.Signals | None = None
        self._event = asyncio.Event()

    def set(self, sig: signal.Signals) -> None:
        if self.signal is None:
            self.signal = sig
        self._event.set()

    async def wait(self) -> None:
        await self._event.wait()


@contextlib.contextmanager
def stop_signals() -> Iterator[StopRequest]:
    """While inside, SIGINT and SIGTERM ask the running command to stop (cleanly)."""
    loop = asyncio.get_running_loop()
    stop = StopRequest()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set, sig)
    try:
        yield stop
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)


def _find(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> BaseException | None:
    """The first expected error, looking inside task-group exception groups."""
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _find(inner, kinds)
            if found is not None:
                return found
        return None
    return exc if isinstance(exc, kinds) else None


def overrides(
    offline: bool | None,
    seed: int | None,
    markets: int | None,
    watch: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Command-line values in the config tree's shape (they win over file and env)."""
    overrides: dict[str, Any] = {}
    if watch:
        overrides["watch"] = list(watch)
    if offline is not None:
        overrides["offline"] = offline
    if seed is not None:
        overrides["emulator_seed"] = seed
    if markets is not None:
        overrides["emulator_markets"] = markets
        overrides["engine"] = {"feed": {"max_markets": markets}}
    return overrides


def load_app(config_path: Path | None, overrides: dict[str, Any]) -> Any:
    """The validated settings of a command that runs (one line and exit 2 if they are
    bad); polyterm's own directories are made private first, even ones made before.
    Here, not in the group: `polyterm CMD --help` touches no file and loads no engine."""
    from polyterm.settings.config import ConfigError, load_config
    from polyterm.settings.locations import tighten_dirs

    tighten_dirs()

    try:
        return load_config(config_path, overrides=overrides)
    except ConfigError as exc:
        fail(str(exc))


def check_writable(flag: str, path: Path, *, make_parents: bool) -> None:
    """Fail up front, with one line naming `flag`, unless `path` can be written.

    ``make_parents``: the command creates missing directories itself (tapes, ledgers), so
    the nearest existing ancestor must be a writable directory; otherwise the directory
    itself must exist and be writable. Checked before anything runs, so a long run never
    ends in an error about a file it could never have written.
    """
    parent = path.parent
    if make_parents:
        existing = parent
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            fail(
                f"{flag} {path}: cannot create directory {parent}: {existing} is not a "
                "directory (pick another path)"
            )
        if not os.access(existing, os.W_OK | os.X_OK):
            fail(
                f"{flag} {path}: cannot create directory {parent}: {existing} is not "
                "writable (pick another path)"
            )
        return
    if not parent.exists():
        fail(f"{flag} {path}: directory {parent} does not exist (create it or pick another path)")
    if not parent.is_dir():
        fail(f"{flag} {path}: {parent} is not a directory (pick another path)")
    if not os.access(parent, os.W_OK | os.X_OK):
        fail(
            f"{flag} {path}: directory {parent} is not writable "
            "(change its permissions or pick another path)"
        )


def _usage_line(exc: click.UsageError) -> str:
    """Click's usage error as our one line: the message and where help is."""
    command = exc.ctx.command_path if exc.ctx is not None else "polyterm"
    return f"{' '.join(exc.format_message().split())} (see {command} --help)"


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    # Before a command installs its own handler (and for the synchronous ones) SIGTERM
    # unwinds like Ctrl-C does, so `finally` blocks run and half-written files go.
    raise SystemExit(signal_exit(signum))


class PolytermGroup(click.Group):
    """The ``polyterm`` group: every usage error is one line and exit 2, Ctrl-C is 130.

    Click's own reporting (``Usage: ...`` / ``Try ...`` / blank / ``Error: ...``) is four
    lines; commands and tests read one: ``polyterm: error: <message> (see polyterm
    --help)``.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
            installed = True
        except ValueError:  # not the main thread (an embedding test runner): leave it
            installed = False
        try:
            code = super().main(
                args, prog_name or "polyterm", complete_var, standalone_mode=False, **extra
            )
        except click.UsageError as exc:
            fail(_usage_line(exc))
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code)
        except click.Abort:  # Ctrl-C before or after a command's own handling
            sys.exit(signal_exit(signal.SIGINT))
        finally:
            if installed:
                signal.signal(signal.SIGTERM, previous)
        sys.exit(code if isinstance(code, int) else 0)

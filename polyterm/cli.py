"""The ``polyterm`` command line.

``polyterm`` runs the engine (offline against the local emulator unless told
otherwise); ``polyterm backtest`` replays tapes through the same engine on a simulated
clock; ``polyterm exchange``, ``record`` and ``book`` are the tools around it.
Data goes to stdout, diagnostics to stderr.

Exit codes, the same for every command:

- 0: done.
- 1: done but incomplete (``book`` on a truncated tape prints the books it could rebuild
  and a one-line warning), or a bug (a traceback).
- 2: a usage error or an expected failure (a bad flag, config or path, an unreachable
  venue, an unreadable tape or ledger): one line on stderr, ``polyterm: error: ...``,
  naming the fix, and no traceback (``-vv`` prints the traceback first; still 2).
- 130 / 143: stopped by SIGINT (Ctrl-C) / SIGTERM. A stop is clean and takes under a
  second: the command still prints its summary and closes its tape or ledger. A second
  Ctrl-C while it shuts down stops at once (130, no traceback).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import traceback
from collections.abc import Callable, Coroutine, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVarTuple, Unpack

import click

from polyterm import __version__

if TYPE_CHECKING:
    from engine.adapters.polymarket.books import BookStore

log = logging.getLogger("polyterm")

EXIT_INCOMPLETE = 1
EXIT_USAGE = 2
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOP_WITHIN_S = 1.0  # how long a stopping command waits for its feed to wind down

_Ts = TypeVarTuple("_Ts")


def _signal_exit(sig: int) -> int:
    """The shell's convention: 128 + the signal number (130 for SIGINT, 143 for SIGTERM)."""
    return 128 + sig


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """One line on stderr (a multi-line message is joined with '; '), then exit."""
    line = "; ".join(part.strip() for part in message.splitlines() if part.strip())
    click.echo(f"polyterm: error: {line}", err=True)
    sys.exit(code)


class _StopAwareLoop(asyncio.SelectorEventLoop):
    """The event loop :func:`_run` runs commands on.

    Commands stop cleanly on SIGINT/SIGTERM through ``loop.add_signal_handler``; this loop
    notes the first such signal, so :func:`_run` can exit 130/143 even for a command that
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


def _run(main: Callable[[], Coroutine[Any, Any, int]], verbose: int) -> int:
    """Run a command's coroutine; returns the exit code (see the module docstring).

    The coroutine's own code stands, except that 0 after a SIGINT/SIGTERM stop becomes
    130/143. KeyboardInterrupt is 130. An expected error is one line (``-vv``: after its
    traceback) and exit 2; anything else is a bug and keeps its traceback (exit 1).
    """
    from engine.adapters.net.http import VenueError
    from engine.adapters.net.loopback import OfflineViolation
    from engine.adapters.polymarket.feed import FeedError
    from engine.adapters.tape.tape import TapeError
    from engine.ledger.writer import LedgerError
    from polyterm.config import ConfigError

    expected = (
        ConfigError,
        LedgerError,
        FeedError,
        OfflineViolation,
        TapeError,
        VenueError,
        OSError,
    )
    loop = _StopAwareLoop()
    try:
        with asyncio.Runner(loop_factory=lambda: loop) as runner:
            code = runner.run(main())
    except KeyboardInterrupt:
        return _signal_exit(signal.SIGINT)
    except BaseException as exc:
        found = _find(exc, expected)
        if found is None:
            raise
        if verbose > 1:
            traceback.print_exception(exc)
        _fail(str(found))
    if code == 0 and loop.stopped_by is not None:
        return _signal_exit(loop.stopped_by)
    return code


class _Stop:
    """What :func:`_stop_signals` yields: ``await stop.wait()``; ``stop.signal`` says which."""

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
def _stop_signals() -> Iterator[_Stop]:
    """While inside, SIGINT and SIGTERM ask the running command to stop (cleanly)."""
    loop = asyncio.get_running_loop()
    stop = _Stop()
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


def _overrides(offline: bool | None, seed: int | None, markets: int | None) -> dict[str, Any]:
    """Command-line values in the config tree's shape (they win over file and env)."""
    overrides: dict[str, Any] = {}
    if offline is not None:
        overrides["offline"] = offline
    if seed is not None:
        overrides["emulator_seed"] = seed
    if markets is not None:
        overrides["emulator_markets"] = markets
        overrides["engine"] = {"feed": {"max_markets": markets}}
    return overrides


def _load(config_path: Path | None, overrides: dict[str, Any]) -> Any:
    from polyterm.config import ConfigError, load_config

    try:
        return load_config(config_path, overrides=overrides)
    except ConfigError as exc:
        _fail(str(exc))


def _check_writable(flag: str, path: Path, *, make_parents: bool) -> None:
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
            _fail(
                f"{flag} {path}: cannot create directory {parent}: {existing} is not a "
                "directory (pick another path)"
            )
        if not os.access(existing, os.W_OK | os.X_OK):
            _fail(
                f"{flag} {path}: cannot create directory {parent}: {existing} is not "
                "writable (pick another path)"
            )
        return
    if not parent.exists():
        _fail(f"{flag} {path}: directory {parent} does not exist (create it or pick another path)")
    if not parent.is_dir():
        _fail(f"{flag} {path}: {parent} is not a directory (pick another path)")
    if not os.access(parent, os.W_OK | os.X_OK):
        _fail(
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
    raise SystemExit(_signal_exit(signum))


class _Polyterm(click.Group):
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
            _fail(_usage_line(exc))
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.Abort:  # Ctrl-C before or after a command's own handling
            sys.exit(_signal_exit(signal.SIGINT))
        finally:
            if installed:
                signal.signal(signal.SIGTERM, previous)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(
    cls=_Polyterm,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--offline/--online",
    default=None,
    help="Trade against the local exchange emulator (the default) or Polymarket's live data.",
)
@click.option("--no-ui", is_flag=True, help="Run headless: status lines and a summary on stdout.")
@click.option(
    "--duration",
    type=click.FloatRange(min=0, min_open=True),
    help="Stop after this many seconds (default: run until Ctrl-C).",
)
@click.option(
    "--ledger",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite ledger file (default: in the platform data dir).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="config.toml to use instead of the default one.",
)
@click.option("--seed", type=int, help="Emulator seed (offline only).")
@click.option("--markets", type=click.IntRange(1, 200), help="How many markets to trade.")
@click.option(
    "--json",
    "json_summary",
    is_flag=True,
    help="Print the final summary as one JSON line (no status lines).",
)
@click.option(
    "--status-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep a JSON status file up to date while running.",
)
@click.option(
    "-v", "--verbose", count=True, help="More diagnostics on stderr (-vv: debug and tracebacks)."
)
@click.version_option(__version__, prog_name="polyterm")
@click.pass_context
def main(
    ctx: click.Context,
    offline: bool | None,
    no_ui: bool,
    duration: float | None,
    ledger: Path | None,
    config_path: Path | None,
    seed: int | None,
    markets: int | None,
    json_summary: bool,
    status_file: Path | None,
    verbose: int,
) -> None:
    """Terminal trading console and bot for Polymarket's CLOB."""
    from polyterm.logs import setup_logging

    setup_logging(verbose)
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    if ctx.invoked_subcommand is not None:
        return
    if status_file is not None:
        _check_writable("--status-file", status_file, make_parents=False)
    if ledger is not None:
        _check_writable("--ledger", ledger, make_parents=True)
    app = _load(config_path, _overrides(offline, seed, markets))
    if not app.engine.dry_run:
        _fail(
            "live trading is not available in this release; unset POLY_DRY_RUN (paper trading only)"
        )
    if not no_ui:
        click.echo(
            "polyterm: the Textual console is not part of this release yet; "
            "running headless (--no-ui).",
            err=True,
        )
    from polyterm.headless import RunOptions, run_headless

    options = RunOptions(
        duration=duration, ledger=ledger, json_summary=json_summary, status_file=status_file
    )
    sys.exit(_run(lambda: run_headless(app, options), verbose))


@main.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback)."
)
@click.option(
    "--port",
    default=0,
    type=click.IntRange(0, 65535),
    show_default=True,
    help="Port; 0 picks a free one.",
)
@click.option(
    "--seed", default=7, type=int, show_default=True, help="Seed of the order-flow model."
)
@click.option(
    "--markets",
    default=8,
    type=click.IntRange(1, 200),
    show_default=True,
    help="How many markets to list.",
)
@click.option(
    "--events-per-second",
    default=12.0,
    type=click.FloatRange(min=0),
    show_default=True,
    help="Order-flow events per market per second.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="NAME=VALUE",
    help="Start with a fault on, e.g. --fault http_429=3 (see README).",
)
@click.option(
    "--export-tape",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write S simulated seconds of the order flow to this tape (.jsonl or .jsonl.zst) "
    "and exit; no server starts. Needs --duration.",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=0, min_open=True),
    help="With --export-tape: simulated seconds to export. Otherwise: serve this many "
    "seconds, then stop (default: until Ctrl-C).",
)
@click.pass_context
def exchange(
    ctx: click.Context,
    host: str,
    port: int,
    seed: int,
    markets: int,
    events_per_second: float,
    faults: tuple[str, ...],
    export_tape: Path | None,
    duration: float | None,
) -> None:
    """Run the local exchange emulator; prints one JSON line with its URLs.

    With --export-tape it serves nothing: it steps the same seeded order flow on a
    simulated clock, writes what a recorder would have captured to the tape, prints one
    JSON line (tape, frames, messages, markets, seconds, seed) and exits 0.
    """
    from engine.adapters.net.loopback import is_loopback_host
    from polyterm import locations

    if export_tape is not None:
        if duration is None:
            raise click.UsageError("--export-tape needs --duration S (simulated seconds)", ctx)
        if faults:
            raise click.UsageError("--fault applies to a served emulator, not --export-tape", ctx)
        _check_writable("--export-tape", export_tape, make_parents=True)
        _export(export_tape, seed, markets, duration, events_per_second, locations.recorded_dir())
        return

    from polyterm.emulator.server import EmulatorOptions, ExchangeEmulator

    if not is_loopback_host(host):
        _fail(f"--host {host} is not a loopback address; the emulator only serves 127.0.0.1 or ::1")
    fault_spec: dict[str, Any] = {}
    for item in faults:
        name, sep, value = item.partition("=")
        if not sep:
            _fail(f"--fault {item!r}: write NAME=VALUE, e.g. http_429=3")
        fault_spec[name] = (
            json.loads(value)
            if value.replace(".", "", 1).isdigit() or value in ("true", "false")
            else value
        )

    async def serve() -> int:
        emulator = ExchangeEmulator(
            EmulatorOptions(
                host=host,
                port=port,
                seed=seed,
                markets=markets,
                events_per_second=events_per_second,
                recorded=locations.recorded_dir(),
            )
        )
        try:
            emulator.faults.apply(fault_spec)
        except ValueError as exc:
            _fail(f"--fault: {exc}")
        with _stop_signals() as stop:
            urls = await emulator.start()
            try:
                click.echo(json.dumps({**urls.as_dict(), "seed": seed, "markets": markets}))
                sys.stdout.flush()
                stopping = asyncio.create_task(stop.wait(), name="exchange-stop")
                await asyncio.wait({stopping}, timeout=duration)
                stopping.cancel()
            finally:
                await emulator.stop()
        return 0

    sys.exit(_run(serve, ctx.obj["verbose"]))


def _export(
    path: Path,
    seed: int,
    markets: int,
    duration: float,
    events_per_second: float,
    recorded: Path | None,
) -> None:
    """``exchange --export-tape``: the tape from the emulator's model, no server, no wait."""
    try:
        from polyterm.emulator.export import export_tape
    except ImportError as exc:
        _fail(f"--export-tape is not available in this build ({exc})")
    try:
        result = export_tape(
            path,
            seed=seed,
            markets=markets,
            duration_s=duration,
            events_per_second=events_per_second,
            recorded=recorded,
        )
    except ValueError as exc:
        _fail(f"--export-tape: {exc}")
    except OSError as exc:
        _fail(f"--export-tape {path}: {exc.strerror or exc}")
    click.echo(json.dumps(result, default=str))


@main.command()
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Tape file (.jsonl, or .jsonl.zst for zstd).",
)
@click.option(
    "--duration",
    default=60.0,
    type=click.FloatRange(min=0, min_open=True),
    show_default=True,
    help="Seconds to record.",
)
@click.option(
    "--offline/--online",
    default=None,
    help="Record the local emulator (default) or Polymarket's live feed.",
)
@click.option("--seed", type=int, help="Emulator seed (offline only).")
@click.option("--markets", type=click.IntRange(1, 200), help="How many markets to record.")
@click.pass_context
def record(
    ctx: click.Context,
    out_path: Path,
    duration: float,
    offline: bool | None,
    seed: int | None,
    markets: int | None,
) -> None:
    """Record raw market frames with receive times to a tape.

    Ends after --duration, or at once on Ctrl-C / SIGTERM (exit 130 / 143). Either way
    the tape is closed whole and one JSON line is printed: tape, frames, markets, seconds,
    and what stopped it ("duration", "SIGINT" or "SIGTERM").
    """
    _check_writable("--out", out_path, make_parents=True)
    app = _load(None, _overrides(offline, seed, markets))

    async def go() -> int:
        from engine.adapters.net.tasks import cancel_and_wait
        from engine.adapters.polymarket.feed import PolymarketFeed
        from engine.adapters.tape.tape import RecordingSink, TapeWriter
        from engine.clock import SystemClock
        from polyterm.headless import venue

        with _stop_signals() as stop:
            clock = SystemClock()
            writer = TapeWriter(out_path)
            sink = RecordingSink(writer, clock)
            started = clock.monotonic()
            try:
                async with venue(app) as (config, _):
                    feed = PolymarketFeed(config.feed, config.hot_assets, clock)
                    task = asyncio.create_task(feed.run(sink), name="record-feed")
                    stopping = asyncio.create_task(stop.wait(), name="record-stop")
                    try:
                        await asyncio.wait(
                            {task, stopping}, timeout=duration, return_when=asyncio.FIRST_COMPLETED
                        )
                    finally:
                        stopping.cancel()
                        # Stop the feed before the emulator under it goes, or it would
                        # reconnect to it for ever.
                        if not await cancel_and_wait(task, within=STOP_WITHIN_S):
                            log.warning(
                                "the feed did not stop in %gs; closing the tape", STOP_WITHIN_S
                            )
                    if task.done() and not task.cancelled():
                        task.result()  # the feed failed (or ended): say why
            finally:
                writer.close()
            seconds = clock.monotonic() - started
        click.echo(
            json.dumps(
                {
                    "tape": str(out_path),
                    "frames": writer.frames,
                    "markets": len(sink.markets),
                    "seconds": round(seconds, 1),
                    "stopped": stop.signal.name if stop.signal is not None else "duration",
                }
            )
        )
        sys.stdout.flush()
        return _signal_exit(stop.signal) if stop.signal is not None else 0

    sys.exit(_run(go, ctx.obj["verbose"]))


@main.command()
@click.option(
    "--tape",
    "tapes",
    required=True,
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Tape to replay (repeat for several, replayed in order).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="config.toml to use instead of the default one.",
)
@click.option("--seed", default=0, type=int, show_default=True, help="Seed of the paper latency.")
@click.option(
    "--ledger",
    type=click.Path(dir_okay=False, path_type=Path),
    help="New SQLite ledger for the results (default: a new file under the data dir).",
)
@click.option("--json", "json_summary", is_flag=True, help="Print the summary as one JSON line.")
@click.option("--no-progress", is_flag=True, help="No progress bar on stderr.")
@click.pass_context
def backtest(
    ctx: click.Context,
    tapes: tuple[Path, ...],
    config_path: Path | None,
    seed: int,
    ledger: Path | None,
    json_summary: bool,
    no_progress: bool,
) -> None:
    """Replay tapes through the engine on a simulated clock, with the paper venue.

    As fast as the CPU allows, with a progress bar (messages/s, ETA) on stderr and the
    run's summary on stdout. The same tapes, config and seed give the same ledger, byte
    for byte. A tape cut short replays what it holds, prints the summary and a warning,
    and exits 1.
    """
    if ledger is not None:
        _check_writable("--ledger", ledger, make_parents=True)
    app = _load(config_path, {})

    async def go() -> int:
        from .backtest import BacktestOptions, run_backtest

        options = BacktestOptions(
            tapes=tapes,
            ledger=ledger,
            seed=seed,
            json_summary=json_summary,
            progress=not no_progress and sys.stderr.isatty(),
        )
        return await run_backtest(app, options)

    sys.exit(_run(go, ctx.obj["verbose"]))


@main.command()
@click.argument("tape", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the books as one JSON document.")
@click.option(
    "--levels", default=0, type=click.IntRange(min=0), help="Levels per side to print (0 = all)."
)
def book(tape: Path, as_json: bool, levels: int) -> None:
    """Rebuild books from a tape or recorded messages and print each token's final book.

    A tape cut short (a recorder killed mid-write) still prints the books its whole
    frames rebuild, then one warning line on stderr, and exits 1: the output is real but
    incomplete. A file that cannot be read as frames at all is one error line, exit 2.
    """
    from engine.adapters.polymarket.books import BookStore
    from engine.adapters.tape.tape import TapeError, TapeTruncated, read_frames

    problems: list[str] = []
    store = BookStore(on_problem=problems.append)
    truncated: TapeTruncated | None = None
    try:
        for frame in read_frames(tape):
            store.apply_frame(frame)
    except TapeTruncated as exc:
        truncated = exc
    except TapeError as exc:
        _fail(str(exc))
    for line in problems:
        click.echo(f"polyterm: {line}", err=True)
    _print_books(store, as_json, levels)
    if truncated is not None:
        sys.stdout.flush()
        click.echo(f"polyterm: warning: {truncated}", err=True)
        sys.exit(EXIT_INCOMPLETE)


def _print_books(store: BookStore, as_json: bool, levels: int) -> None:
    books = [b.to_dict(levels or None) for b in store.books.values()]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "books": books,
                    "frames": store.counts["frames"],
                    "events": {k: v for k, v in store.counts.items() if k != "frames"},
                    "problems": dict(store.problems),
                }
            )
        )
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for b in books:
        table = Table(title=f"{b['asset_id']}  (tick {b['tick_size']})", title_justify="left")
        for col in ("bid size", "bid", "ask", "ask size"):
            table.add_column(col, justify="right")
        bids, asks = b["bids"], b["asks"]
        assert isinstance(bids, list)
        assert isinstance(asks, list)
        for i in range(max(len(bids), len(asks))):
            bid = bids[i] if i < len(bids) else {"price": "", "size": ""}
            ask = asks[i] if i < len(asks) else {"price": "", "size": ""}
            table.add_row(bid["size"], bid["price"], ask["price"], ask["size"])
        console.print(table)
        console.print(
            f"best bid {b['best_bid']}  best ask {b['best_ask']}  spread {b['spread']}  "
            f"last trade {b['last_trade_price']} ({b['last_trade_side']})"
            + ("  [needs re-snapshot]" if b["needs_snapshot"] else "")
        )

"""The ``polyterm`` command line.

``polyterm`` runs the engine (offline against the local emulator unless told
otherwise); ``polyterm exchange``, ``record`` and ``book`` are the tools around it.
Every expected failure ends in one line on stderr naming the fix, never a traceback
(add ``-vv`` to see one).
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, NoReturn

import click

from polyterm import __version__

log = logging.getLogger("polyterm")


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"polyterm: error: {message}", err=True)
    sys.exit(code)


def _run(main: Callable[[], Coroutine[Any, Any, int]], verbose: int) -> int:
    """Run a coroutine, turning every expected failure into one line on stderr."""
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
    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return 130
    except BaseException as exc:
        found = _find(exc, expected)
        if found is None or verbose > 1:
            raise
        _fail(str(found))


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


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
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
@click.pass_context
def exchange(
    ctx: click.Context,
    host: str,
    port: int,
    seed: int,
    markets: int,
    events_per_second: float,
    faults: tuple[str, ...],
) -> None:
    """Run the local exchange emulator; prints one JSON line with its URLs."""
    from engine.adapters.net.loopback import is_loopback_host
    from polyterm import locations
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
        urls = await emulator.start()
        click.echo(json.dumps({**urls.as_dict(), "seed": seed, "markets": markets}), nl=True)
        sys.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await emulator.stop()
        return 0

    sys.exit(_run(serve, ctx.obj["verbose"]))


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
    """Record raw market frames with receive times to a tape."""
    app = _load(None, _overrides(offline, seed, markets))

    async def go() -> int:
        from engine.adapters.polymarket.feed import PolymarketFeed
        from engine.adapters.tape.tape import RecordingSink, TapeWriter
        from engine.clock import SystemClock
        from polyterm.headless import venue

        writer = TapeWriter(out_path)
        started = time.monotonic()
        try:
            async with venue(app) as (config, _):
                feed = PolymarketFeed(config.feed, config.hot_assets, SystemClock())
                sink = RecordingSink(writer)
                task = asyncio.create_task(feed.run(sink))
                done, _ = await asyncio.wait({task}, timeout=duration)
                if task in done:
                    task.result()
                else:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
        finally:
            writer.close()
        click.echo(
            json.dumps(
                {
                    "tape": str(out_path),
                    "frames": writer.frames,
                    "markets": len(sink.markets),
                    "seconds": round(time.monotonic() - started, 1),
                }
            )
        )
        return 0

    sys.exit(_run(go, ctx.obj["verbose"]))


@main.command()
@click.argument("tape", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the books as one JSON document.")
@click.option(
    "--levels", default=0, type=click.IntRange(min=0), help="Levels per side to print (0 = all)."
)
def book(tape: Path, as_json: bool, levels: int) -> None:
    """Rebuild books from a tape or recorded messages and print each token's final book."""
    from engine.adapters.polymarket.books import BookStore
    from engine.adapters.tape.tape import TapeError, read_frames

    problems: list[str] = []
    store = BookStore(on_problem=problems.append)
    try:
        for frame in read_frames(tape):
            store.apply_frame(frame)
    except TapeError as exc:
        _fail(str(exc))
    for line in problems:
        click.echo(f"polyterm: {line}", err=True)
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

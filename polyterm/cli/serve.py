"""``polyterm serve``: the console in a browser, through textual-serve.

Every browser tab that opens the page starts its own ``polyterm`` console process (the
same engine, the same options) and sees the same screen a terminal would. Loopback by
default: the console trades, so serving it beyond this machine is a deliberate choice.
"""

from __future__ import annotations

import asyncio
import shlex
import sys
from pathlib import Path

import click

from polyterm.cli.common import STOP_SIGNALS, check_writable, fail, signal_exit


def console_command(
    offline: bool | None,
    ledger: Path | None,
    config_path: Path | None,
    seed: int | None,
    markets: int | None,
) -> str:
    """The shell command each browser session runs: this Python, this polyterm."""
    args = [sys.executable, "-m", "polyterm"]
    if offline is not None:
        args.append("--offline" if offline else "--online")
    if ledger is not None:
        args += ["--ledger", str(ledger.resolve())]
    if config_path is not None:
        args += ["--config", str(config_path.resolve())]
    if seed is not None:
        args += ["--seed", str(seed)]
    if markets is not None:
        args += ["--markets", str(markets)]
    return shlex.join(args)


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to serve on (loopback unless you mean to share the console).",
)
@click.option(
    "--port", default=8000, type=click.IntRange(1, 65535), show_default=True, help="Port."
)
@click.option(
    "--offline/--online",
    default=None,
    help="The console's venue: the local exchange emulator (the default) or Polymarket.",
)
@click.option(
    "--ledger",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite ledger the console uses (default: in the platform data dir).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="config.toml to use instead of the default one.",
)
@click.option("--seed", type=int, help="Emulator seed (offline only).")
@click.option("--markets", type=click.IntRange(1, 1000), help="How many markets to trade.")
def serve(
    host: str,
    port: int,
    offline: bool | None,
    ledger: Path | None,
    config_path: Path | None,
    seed: int | None,
    markets: int | None,
) -> None:
    """Serve the console to a browser at http://HOST:PORT (Ctrl-C stops)."""
    from engine.adapters.net.loopback import is_loopback_host
    from polyterm.cli.common import load_app, overrides

    if ledger is not None:
        check_writable("--ledger", ledger, make_parents=True)
    if config_path is not None and not config_path.is_file():
        fail(f"--config {config_path}: no such config file")
    load_app(config_path, overrides(offline, seed, markets))  # a bad config fails here, once
    if not is_loopback_host(host):
        click.echo(
            f"polyterm: warning: serving the console on {host}: anyone who can reach "
            f"{host}:{port} can trade this account",
            err=True,
        )
    command = console_command(offline, ledger, config_path, seed, markets)
    stopped_by = _serve(command, host, port)
    if stopped_by is not None:
        sys.exit(signal_exit(stopped_by))


def _serve(command: str, host: str, port: int) -> int | None:
    """Serve until SIGINT or SIGTERM; returns the signal that stopped it."""
    from aiohttp import web
    from aiohttp.web_runner import GracefulExit
    from textual_serve.server import Server

    class _Server(Server):
        async def on_startup(self, app: web.Application) -> None:
            click.echo(f"polyterm serve: {self.public_url} (Ctrl-C stops)", err=True)

    server = _Server(command, host=host, port=port, title="polyterm")
    stopped: list[int] = []

    def stop(sig: int) -> None:
        stopped.append(sig)
        raise GracefulExit

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop, sig)
    try:
        web.run_app(
            server._make_app(),
            host=host,
            port=port,
            handle_signals=False,
            loop=loop,
            print=None,
        )
    except OSError as exc:
        fail(f"cannot serve on {host}:{port}: {exc.strerror or exc} (pick another --port)")
    finally:
        if not loop.is_closed():
            loop.close()
    return stopped[0] if stopped else None

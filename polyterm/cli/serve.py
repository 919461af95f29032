"""``polyterm serve``: the console in a browser, through textual-serve.

Every browser tab that opens the page starts its own ``polyterm`` console process (the
same engine, the same options) and sees the same screen a terminal would. Loopback by
default, and behind a random access token in the URL it prints, checked on the page and
on the WebSocket, with the Origin checked too (see :mod:`polyterm.faces.browser`): the
console trades, so no other page the user opens may drive it.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from engine.limits import MAX_MARKETS
from polyterm.cli.common import check_writable, fail, run_command, stop_signals


def console_command(
    offline: bool | None,
    ledger: Path | None,
    config_path: Path | None,
    seed: int | None,
    markets: int | None,
    watch: tuple[str, ...] = (),
) -> str:
    """The shell command each browser session runs: this Python, this polyterm. ``exec``
    makes the console the server's own child, so it can tell when its server is gone."""
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
    for ref in watch:
        args += ["--watch", ref]
    return "exec " + shlex.join(args)


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
@click.option("--markets", type=click.IntRange(1, MAX_MARKETS), help="How many markets to trade.")
@click.option(
    "--watch",
    multiple=True,
    metavar="SLUG_OR_ID",
    help="Trade this market (slug, condition id or token id; repeatable).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    offline: bool | None,
    ledger: Path | None,
    config_path: Path | None,
    seed: int | None,
    markets: int | None,
    watch: tuple[str, ...],
) -> None:
    """Serve the console to a browser (Ctrl-C stops).

    Prints the URL to open: it carries a random access token, without which (or from
    another origin) every request is refused.
    """
    from engine.adapters.net.loopback import is_loopback_host
    from polyterm.cli.common import load_app, overrides

    if ledger is not None:
        check_writable("--ledger", ledger, make_parents=True)
    if config_path is not None and not config_path.is_file():
        fail(f"--config {config_path}: no such config file")
    load_app(config_path, overrides(offline, seed, markets, watch))  # a bad config fails here
    if not is_loopback_host(host):
        click.echo(
            f"polyterm: warning: serving the console on {host}: whoever reaches "
            f"{host}:{port} with the printed URL can trade this account (plain HTTP: the "
            "network path can read it)",
            err=True,
        )
    command = console_command(offline, ledger, config_path, seed, markets, watch)

    async def go() -> int:
        from polyterm.faces.browser import new_token, serve_console

        def ready(url: str) -> None:
            click.echo(f"polyterm serve: {url} (Ctrl-C stops)", err=True)

        with stop_signals() as stop:
            await serve_console(command, host, port, new_token(), stop.wait, ready)
        return 0  # 130 / 143 after the signal that stopped it

    sys.exit(run_command(go, ctx.obj["verbose"]))

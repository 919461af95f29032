"""The ``polyterm`` group and its default command: run the engine (console or headless)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from engine.limits import MAX_MARKETS
from polyterm import __version__
from polyterm.cli.auth import auth
from polyterm.cli.backtest import backtest
from polyterm.cli.book import book
from polyterm.cli.common import (
    PolytermGroup,
    check_writable,
    fail,
    load_app,
    overrides,
    run_command,
)
from polyterm.cli.config import config
from polyterm.cli.ctl import ctl
from polyterm.cli.doctor import doctor
from polyterm.cli.exchange import exchange
from polyterm.cli.ledger import ledger as ledger_command
from polyterm.cli.order import order
from polyterm.cli.record import record
from polyterm.cli.redeem import redeem
from polyterm.cli.report import report
from polyterm.cli.serve import serve


@click.group(
    cls=PolytermGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--offline/--online",
    default=None,
    help="Trade against the local exchange emulator (the default) or Polymarket's live data.",
)
@click.option(
    "--no-ui",
    is_flag=True,
    help="Run headless: status lines and a summary on stdout (--json and --status-file imply it).",
)
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
@click.option(
    "--live",
    is_flag=True,
    help="Trade with real money through the venue (needs credentials; asks you to type live).",
)
@click.option("--yes", is_flag=True, help="With --live: start without asking (unattended runs).")
@click.option("--seed", type=int, help="Emulator seed (offline only).")
@click.option(
    "--markets",
    type=click.IntRange(1, MAX_MARKETS),
    help="How many markets to trade, the top by 24h volume (offline: how many the emulator makes).",
)
@click.option(
    "--watch",
    multiple=True,
    metavar="SLUG_OR_ID",
    help="Trade this market (a slug, condition id or token id; repeat for several) instead "
    "of the top --markets. Config: watch = [...].",
)
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
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines for people (text) or one JSON object a line (json): stderr and log files.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    help="Serve Prometheus metrics at http://HOST:PORT/metrics while running.",
)
@click.option(
    "--metrics-host",
    default="127.0.0.1",
    show_default=True,
    help="Address for --metrics-port (beyond loopback only with POLYTERM_METRICS_TOKEN set).",
)
@click.version_option(__version__, "-V", "--version", prog_name="polyterm")
@click.pass_context
def main(
    ctx: click.Context,
    offline: bool | None,
    no_ui: bool,
    duration: float | None,
    ledger: Path | None,
    config_path: Path | None,
    live: bool,
    yes: bool,
    seed: int | None,
    markets: int | None,
    watch: tuple[str, ...],
    json_summary: bool,
    status_file: Path | None,
    verbose: int,
    log_format: str,
    metrics_port: int | None,
    metrics_host: str,
) -> None:
    """Terminal trading console and bot for Polymarket's CLOB.

    Without a command, opens the console (offline, on the local exchange emulator, unless
    --online); --no-ui runs the same engine headless.
    """
    from polyterm.settings.logs import setup_logging

    setup_logging(verbose, fmt="json" if log_format == "json" else "text")
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    if ctx.invoked_subcommand is not None:
        return
    if status_file is not None:
        check_writable("--status-file", status_file, make_parents=False)
    if ledger is not None:
        check_writable("--ledger", ledger, make_parents=True)
    settings = overrides(offline, seed, markets, watch)
    if live:
        settings.setdefault("engine", {})["dry_run"] = False
    app = load_app(config_path, settings)
    if not app.engine.dry_run:
        confirm_live(app, yes)
    from polyterm.faces.ops import OpsOptions

    if metrics_port is not None:
        from polyterm.faces.metrics import MetricsError, check_host, metrics_token

        try:
            check_host(metrics_host, metrics_token())
        except MetricsError as exc:
            fail(str(exc))
    ops = OpsOptions(metrics_port=metrics_port, metrics_host=metrics_host, alerts=app.alerts)
    if not no_ui and not json_summary and status_file is None:
        from polyterm.faces.console import ConsoleOptions, run_console
        from polyterm.settings.config import ConfigError

        options_ = ConsoleOptions(
            ledger=ledger, config_path=config_path, duration=duration, ops=ops
        )
        try:
            sys.exit(run_console(app, options_))
        except ConfigError as exc:
            fail(str(exc))
    from polyterm.faces.headless import RunOptions, run_headless
    from polyterm.settings.locations import log_dir
    from polyterm.settings.logs import log_file

    log_file(log_dir() / "headless.log")
    options = RunOptions(
        duration=duration,
        ledger=ledger,
        json_summary=json_summary,
        status_file=status_file,
        ops=ops,
    )
    sys.exit(run_command(lambda: run_headless(app, options), verbose))


def confirm_live(app: object, yes: bool) -> None:
    """Live trading starts only after the person types ``live`` (or ``--yes``)."""
    from polyterm.faces.live_errors import CONFIRM_WORD

    if yes:
        click.echo("polyterm: LIVE trading with real money (--yes)", err=True)
        return
    venue = "the offline emulator" if getattr(app, "offline", True) else "the configured venue"
    click.echo(
        f"polyterm: LIVE trading with real money on {venue}: orders are signed with your key "
        f"and sent for real. Type {CONFIRM_WORD} to start: ",
        err=True,
        nl=False,
    )
    answer = sys.stdin.readline()
    if answer.strip() != CONFIRM_WORD:
        click.echo("", err=True)
        fail(f"live trading not started: type {CONFIRM_WORD} to confirm, or pass --yes")


for _command in (
    exchange,
    record,
    backtest,
    book,
    serve,
    report,
    ctl,
    order,
    ledger_command,
    config,
    auth,
    doctor,
    redeem,
):
    main.add_command(_command)

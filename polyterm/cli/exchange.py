"""``polyterm exchange``: the local exchange emulator, served or exported as a tape."""

from __future__ import annotations

import asyncio
import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from engine.limits import MAX_MARKETS
from polyterm.cli.common import check_writable, fail, run_command, stop_signals


@click.command()
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
    type=click.IntRange(1, MAX_MARKETS),
    show_default=True,
    help="How many markets to list (neg-risk events' outcome markets included).",
)
@click.option(
    "--events-per-second",
    default=12.0,
    type=click.FloatRange(min=0),
    show_default=True,
    help="Order-flow events per market per second.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    help="Market-channel messages per second across all markets (a load source): the "
    "flow model topped up with level-size churn. Default: the flow model alone.",
)
@click.option(
    "--frame-messages",
    default=1,
    type=click.IntRange(1, 1000),
    show_default=True,
    help="Messages per WebSocket frame at most (1 = one object per frame, as the venue).",
)
@click.option(
    "--ws-token-cap",
    default=500,
    type=click.IntRange(min=1),
    show_default=True,
    help="Tokens one market WebSocket connection is served, as the venue: past it, updates "
    "for the extra tokens silently never come (shard larger subscriptions).",
)
@click.option(
    "--mispricings-per-hour",
    default=600.0,
    type=click.FloatRange(min=0),
    show_default=True,
    help="Seeded YES/NO and basket mispricings opened per hour (0: none).",
)
@click.option(
    "--burst",
    is_flag=True,
    help="Send each step's market messages (every 0.1 s) in one burst, every market's "
    "together, instead of across the step as a venue's arrive (a load test of bursts).",
)
@click.option(
    "--no-pacing",
    is_flag=True,
    help="Lift the venue's per-endpoint request limits (answered 429 past them otherwise).",
)
@click.option(
    "--fund",
    default="10000",
    show_default=True,
    metavar="USD",
    help="pUSD a wallet holds when the emulator first sees it (change one with "
    "POST {admin}/wallets/{address}/fund).",
)
@click.option(
    "--no-approvals",
    is_flag=True,
    help="Fresh wallets start without trading approvals (to test an allowance refusal).",
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
    rate: float | None,
    frame_messages: int,
    ws_token_cap: int,
    mispricings_per_hour: float,
    burst: bool,
    no_pacing: bool,
    fund: str,
    no_approvals: bool,
    faults: tuple[str, ...],
    export_tape: Path | None,
    duration: float | None,
) -> None:
    """Run the local exchange emulator; prints one JSON line with its URLs and the
    admin token (send it as Authorization: Bearer <token> to the admin routes).

    With --export-tape it serves nothing: it steps the same seeded order flow on a
    simulated clock, writes what a recorder would have captured to the tape, prints one
    JSON line (tape, frames, messages, markets, seconds, seed) and exits 0.
    """
    from engine.adapters.net.loopback import is_loopback_host
    from polyterm.settings import locations

    if export_tape is not None:
        if duration is None:
            raise click.UsageError("--export-tape needs --duration S (simulated seconds)", ctx)
        if faults:
            raise click.UsageError("--fault applies to a served emulator, not --export-tape", ctx)
        if rate is not None:
            raise click.UsageError("--rate applies to a served emulator, not --export-tape", ctx)
        check_writable("--export-tape", export_tape, make_parents=True)
        _export(export_tape, seed, markets, duration, events_per_second, locations.recorded_dir())
        return

    from polyterm.emulator.server import EmulatorOptions, ExchangeEmulator

    try:
        starting = Decimal(fund)
        if not starting.is_finite() or starting < 0:
            raise InvalidOperation
    except InvalidOperation:
        fail(f"--fund {fund!r}: give a dollar amount >= 0, e.g. --fund 10")
    if not is_loopback_host(host):
        fail(f"--host {host} is not a loopback address; the emulator only serves 127.0.0.1 or ::1")
    fault_spec: dict[str, Any] = {}
    for item in faults:
        name, sep, value = item.partition("=")
        if not sep:
            fail(f"--fault {item!r}: write NAME=VALUE, e.g. http_429=3")
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
                rate=rate,
                frame_messages=frame_messages,
                ws_token_cap=ws_token_cap,
                mispricings_per_hour=mispricings_per_hour,
                rate_limits={} if no_pacing else None,
                spread=not burst,
                starting_balance=starting,
                default_approvals=not no_approvals,
            )
        )
        try:
            emulator.faults.apply(fault_spec)
        except ValueError as exc:
            fail(f"--fault: {exc}")
        with stop_signals() as stop:
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

    sys.exit(run_command(serve, ctx.obj["verbose"]))


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
        fail(f"--export-tape is not available in this build ({exc})")
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
        fail(f"--export-tape: {exc}")
    except OSError as exc:
        fail(f"--export-tape {path}: {exc.strerror or exc}")
    click.echo(json.dumps(result, default=str))

"""``polyterm backtest``: tapes through the engine on a simulated clock."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from polyterm.cli.common import check_writable, fail, load_app, run_command


@click.command()
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
    and exits 1. A hostile frame in a tape is counted as a bad frame and the replay goes
    on; an empty tape, or a file that is no tape, is refused in one line.
    """
    from engine.adapters.tape.tape import TapeError, check_tape

    for tape in tapes:  # an empty recording or another file is refused, not replayed as nothing
        try:
            check_tape(tape)
        except TapeError as exc:
            fail(f"--tape {exc}")
    if ledger is not None:
        check_writable("--ledger", ledger, make_parents=True)
    app = load_app(config_path, {})

    async def go() -> int:
        from polyterm.faces.backtest import BacktestOptions, run_backtest

        options = BacktestOptions(
            tapes=tapes,
            ledger=ledger,
            seed=seed,
            json_summary=json_summary,
            progress=not no_progress and sys.stderr.isatty(),
        )
        return await run_backtest(app, options)

    sys.exit(run_command(go, ctx.obj["verbose"]))

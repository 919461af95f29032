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
@click.option(
    "--sweep",
    "sweeps",
    multiple=True,
    metavar="KEY=a,b,c",
    help="Sweep a config key over values (repeat for more keys: every combination runs).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Variants run at once (default: one per core, at most one per variant).",
)
@click.option(
    "--ledger-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="New or empty folder for a sweep's ledgers (default: a new one in the data dir).",
)
@click.option(
    "--cluster",
    metavar="ADDRESS|local",
    help="Run a sweep's variants on a Dask cluster (its scheduler's address) or a local one.",
)
@click.pass_context
def backtest(
    ctx: click.Context,
    tapes: tuple[Path, ...],
    config_path: Path | None,
    seed: int,
    ledger: Path | None,
    json_summary: bool,
    no_progress: bool,
    sweeps: tuple[str, ...],
    jobs: int | None,
    ledger_dir: Path | None,
    cluster: str | None,
) -> None:
    """Replay tapes through the engine on a simulated clock, with the paper venue.

    As fast as the CPU allows, with a progress bar (messages/s, ETA) on stderr and the
    run's summary on stdout. The same tapes, config and seed give the same ledger, byte
    for byte. A tape cut short replays what it holds, prints the summary and a warning,
    and exits 1. A hostile frame in a tape is counted as a bad frame and the replay goes
    on; an empty tape, or a file that is no tape, is refused in one line.

    With --sweep, every combination of the swept values replays the same tapes into its
    own ledger in --ledger-dir, in parallel processes (--jobs) or on a cluster
    (--cluster), and the variants' comparison table (`polyterm report sweep`) is printed.
    """
    from engine.adapters.tape.tape import TapeError, check_tape

    for tape in tapes:  # an empty recording or another file is refused, not replayed as nothing
        try:
            check_tape(tape)
        except TapeError as exc:
            fail(f"--tape {exc}")
    if sweeps:
        if ledger is not None:
            fail("--ledger is for one backtest; a sweep writes a ledger per variant: --ledger-dir")
        _sweep(
            tapes, config_path, seed, json_summary, no_progress, sweeps, jobs, ledger_dir, cluster
        )
        return
    for flag, value in (("--jobs", jobs), ("--ledger-dir", ledger_dir), ("--cluster", cluster)):
        if value is not None:
            fail(f"{flag} needs --sweep KEY=a,b,c (it runs a sweep's variants)")
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


def _sweep(
    tapes: tuple[Path, ...],
    config_path: Path | None,
    seed: int,
    json_out: bool,
    no_progress: bool,
    specs: tuple[str, ...],
    jobs: int | None,
    ledger_dir: Path | None,
    cluster: str | None,
) -> None:
    import json

    from engine.adapters.tape.tape import TapeError
    from engine.ledger.errors import LedgerError
    from polyterm.faces.sweep import SweepError, SweepOptions, run_sweep, tidy
    from polyterm.reports.registry import build_many
    from polyterm.reports.render.data import document
    from polyterm.reports.render.text import to_rich
    from polyterm.reports.scope import parse_scope
    from polyterm.settings.config import load_config

    if ledger_dir is not None:
        check_writable("--ledger-dir", ledger_dir / "x", make_parents=True)
    options = SweepOptions(
        tapes=tapes,
        specs=specs,
        ledger_dir=ledger_dir,
        jobs=jobs,
        cluster=cluster,
        seed=seed,
        json_out=json_out,
        progress=not no_progress and sys.stderr.isatty(),
    )
    try:
        code, folder = run_sweep(options, lambda o: load_config(config_path, overrides=o))
        scope = parse_scope(None, None, None)
        report = build_many("sweep", [folder], scope)
        tidy(folder)
    except (SweepError, TapeError, LedgerError, OSError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        sys.exit(130)
    if json_out:
        print(json.dumps(document(report, scope)), flush=True)
    else:
        to_rich(report, scope, sys.stdout, width=160)
    sys.exit(code)

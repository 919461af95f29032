"""``polyterm ledger backup|vacuum|migrate|check``: care of a ledger file.

``backup`` and ``check`` work while a run writes the ledger (they only read);
``vacuum`` and ``migrate`` rewrite it and are refused while a run has it (its control
socket, or the writer's lock, says so). The ledger is ``--ledger PATH``, else the
config's ``ledger``, else the default one in the data dir.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from polyterm.cli.common import fail

LEDGER_HELP = "The ledger (default: the config's `ledger`, else the one in the data dir)."


def _ledger(path: Path | None, config_path: Path | None) -> Path:
    if path is not None:
        return path
    from polyterm.cli.common import load_app
    from polyterm.settings import locations

    app = load_app(config_path, {})
    return Path(app.ledger) if app.ledger else locations.default_ledger_path()


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime())


def _backup_path(ledger: Path, dest: Path | None, tag: str = "") -> Path:
    """`dest` itself, or a new name in `dest` (a directory) or the data dir's backups/."""
    from polyterm.settings import locations
    from polyterm.settings.logs import private_dir

    if dest is not None and not dest.is_dir():
        return dest
    directory = dest if dest is not None else private_dir(locations.data_dir() / "backups")
    return directory / f"{ledger.stem}{tag}-{_stamp()}Z.sqlite"


def _refuse_if_running(ledger: Path, what: str) -> None:
    from polyterm.cli.ctl import listened
    from polyterm.faces import ctl_sockets as sockets

    key = sockets.ledger_key(ledger)
    for found in sockets.scan():
        if found.key == key and listened(found.path):
            fail(
                f"cannot {what} {ledger}: a polyterm (pid {found.pid}) is running on it; "
                "stop it first (`polyterm ledger backup` works while it runs)"
            )


def _ledger_option(fn: click.decorators.FC) -> click.decorators.FC:
    fn = click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="config.toml to read `ledger` from.",
    )(fn)
    return click.option(
        "--ledger", type=click.Path(dir_okay=False, path_type=Path), help=LEDGER_HELP
    )(fn)


@click.group()
def ledger() -> None:
    """Back up, vacuum, migrate or check a ledger file."""


@ledger.command()
@click.argument("dest", required=False, type=click.Path(path_type=Path))
@_ledger_option
def backup(dest: Path | None, ledger: Path | None, config_path: Path | None) -> None:
    """Copy the ledger to DEST (a new file, or a directory to put it in; default: the
    data dir's backups/), consistently, even while a run writes it."""
    from engine.ledger.errors import LedgerError
    from engine.ledger.maintenance import backup as do_backup

    source = _ledger(ledger, config_path)
    target = _backup_path(source, dest)
    try:
        result = do_backup(source, target)
    except LedgerError as exc:
        fail(str(exc))
    click.echo(
        f"backed up {source} to {result.path} (schema {result.schema_version}, "
        f"{result.bytes:,} bytes)"
    )


@ledger.command()
@_ledger_option
def vacuum(ledger: Path | None, config_path: Path | None) -> None:
    """Rebuild the ledger without its free pages (not while a run writes it)."""
    from engine.ledger.errors import LedgerError
    from engine.ledger.maintenance import vacuum as do_vacuum

    path = _ledger(ledger, config_path)
    _refuse_if_running(path, "vacuum")
    try:
        result = do_vacuum(path)
    except LedgerError as exc:
        fail(str(exc))
    click.echo(f"vacuumed {path}: {result.bytes_before:,} -> {result.bytes_after:,} bytes")


@ledger.command()
@click.option(
    "--no-backup", is_flag=True, help="Do not copy the ledger to backups/ before migrating."
)
@_ledger_option
def migrate(no_backup: bool, ledger: Path | None, config_path: Path | None) -> None:
    """Bring the ledger's schema forward to this polyterm's (a backup first)."""
    from engine.ledger.errors import LedgerError
    from engine.ledger.maintenance import backup as do_backup
    from engine.ledger.maintenance import migrate as do_migrate
    from engine.ledger.maintenance import peek_version
    from engine.ledger.schema import SCHEMA_VERSION

    path = _ledger(ledger, config_path)
    _refuse_if_running(path, "migrate")
    try:
        found = peek_version(path)
        if found == SCHEMA_VERSION:
            click.echo(f"{path} is at schema {found}, current: nothing to do")
            return
        if found < SCHEMA_VERSION and not no_backup:
            saved = do_backup(path, _backup_path(path, None, f"-schema{found}"))
            click.echo(f"backed up {path} to {saved.path}")
        result = do_migrate(path)
    except LedgerError as exc:
        fail(str(exc))
    click.echo(f"migrated {path}: schema {result.found} -> {result.now}")


@ledger.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@_ledger_option
def check(as_json: bool, ledger: Path | None, config_path: Path | None) -> None:
    """Check the ledger (works while a run writes it): SQLite's integrity and foreign
    keys, the schema version, positions against fills. Exit 1 when a problem is found."""
    from engine.ledger.errors import LedgerError
    from engine.ledger.maintenance import check as do_check

    path = _ledger(ledger, config_path)
    try:
        report = do_check(path)
    except LedgerError as exc:
        fail(str(exc))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ledger": str(path),
                    "ok": report.ok,
                    "schema_version": report.schema_version,
                    "problems": report.problems,
                    "notes": report.notes,
                    "passed": report.passed,
                }
            )
        )
    else:
        for line in report.passed:
            click.echo(f"ok       {line}")
        for line in report.notes:
            click.echo(f"note     {line}")
        for line in report.problems:
            click.echo(f"PROBLEM  {line}")
        click.echo(
            f"{path}: {'no problems' if report.ok else f'{len(report.problems)} problem(s)'}"
        )
    if not report.ok:
        raise SystemExit(1)

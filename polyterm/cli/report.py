"""``polyterm report KIND``: read a ledger, write a report (never touches the ledger)."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from polyterm.cli.common import check_writable, fail
from polyterm.reports.catalog import FORMATS, KINDS

if TYPE_CHECKING:
    from polyterm.settings.config import AppConfig

MACHINE_FORMATS = ("json", "jsonl", "csv")  # plain decimals: no price convention


def _write(chunks: Iterable[str], out: Path | None) -> None:
    """To stdout, or to `out` all or nothing: written beside it (0600) and renamed over
    it only once complete, so a failure never leaves an empty or half file."""
    if out is None:
        for chunk in chunks:
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for chunk in chunks:
                fh.write(chunk)
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@click.command(context_settings={"max_content_width": 100})
@click.argument("kind", metavar="KIND")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[LEDGER|DIR]...")
@click.option(
    "--ledger",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Ledger to read (default: the configured one, or the data dir's ledger.sqlite).",
)
@click.option("--run", "run_id", type=int, help="Only this run (see `polyterm report runs`).")
@click.option("--since", help="Only the last period: 90m, 24h, 7d.")
@click.option("--date", "day", help="Only this day, YYYY-MM-DD, in --tz.")
@click.option("--tz", default="UTC", show_default=True, help="Time zone of days and times.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="Output format (default: table on a terminal, json otherwise).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file (0600) instead of stdout.",
)
@click.option(
    "--prices",
    type=click.Choice(("cents", "dollars")),
    default=None,
    help="How tables write prices: 52.3¢ or 0.523 (default: config's [console] prices, "
    "else cents; JSON/CSV: always plain decimals).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="config.toml to take the ledger path from.",
)
def report(
    kind: str,
    paths: tuple[Path, ...],
    ledger: Path | None,
    run_id: int | None,
    since: str | None,
    day: str | None,
    tz: str,
    fmt: str | None,
    out: Path | None,
    prices: str | None,
    config_path: Path | None,
) -> None:
    """Write a report of KIND from a ledger (read only; safe while a run writes it).

    \b
    Kinds:
    """
    from engine.ledger.errors import LedgerError
    from polyterm.reports import registry as reports
    from polyterm.reports.scope import ScopeError, parse_scope

    spec = KINDS.get(kind)
    if spec is None:
        fail(f"unknown report kind {kind!r}; choose one of {', '.join(KINDS)}")
    if paths and not spec.many:
        fail(f"report {kind} reads one ledger: pass it with --ledger, not as {paths[0]}")
    if spec.many and not paths:
        what = "a sweep's folder (or its ledgers)" if kind == "sweep" else "two or more ledgers"
        fail(f"report {kind} needs {what}: polyterm report {kind} PATH...")
    if out is not None:
        check_writable("--out", out, make_parents=False)
        if out.is_dir():
            fail(f"--out {out}: is a directory (name a file)")
    try:
        scope = parse_scope(run_id, since, day, tz)
    except ScopeError as exc:
        fail(str(exc))
    fmt = fmt or ("table" if out is None and sys.stdout.isatty() else "json")
    if prices is None:
        prices = "cents" if fmt in MACHINE_FORMATS else _config(config_path).console.prices
    try:
        if spec.many:
            document = reports.build_many(kind, paths, scope)
            _emit(document, fmt, scope, prices, out)
            return
        path = ledger or _default_ledger(config_path)
        with reports.open_context(path, scope, charts=fmt == "html") as ctx:
            document = reports.make(kind, ctx)
            _emit(document, fmt, scope, prices, out)
    except BrokenPipeError:
        # The reader went away (`| head`): nothing is wrong with the report.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except (LedgerError, ValueError) as exc:
        fail(str(exc))
    except OSError as exc:
        target = f"--out {out}" if out is not None else "stdout"
        fail(f"cannot write the report to {target}: {exc.strerror or exc}")


def _emit(document: object, fmt: str, scope: object, prices: str, out: Path | None) -> None:
    from polyterm.reports.document import Report
    from polyterm.reports.render import render
    from polyterm.reports.render.text import to_rich
    from polyterm.reports.scope import ReportScope

    assert isinstance(document, Report)
    assert isinstance(scope, ReportScope)
    if fmt == "table" and out is None:
        to_rich(document, scope, sys.stdout, prices, width=_width())
        return
    _write(render(document, fmt, scope, prices), out)


def _width() -> int:
    import shutil

    return max(80, shutil.get_terminal_size((120, 40)).columns)


def _config(config_path: Path | None) -> AppConfig:
    from polyterm.settings.config import ConfigError, load_config

    try:
        return load_config(config_path)
    except ConfigError as exc:
        fail(str(exc))


def _default_ledger(config_path: Path | None) -> Path:
    from polyterm.settings import locations

    return _config(config_path).ledger or locations.default_ledger_path()


report.help = (report.help or "") + "\n".join(
    f"      {name:<13}{spec.help}" for name, spec in KINDS.items()
)

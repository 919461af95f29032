"""``polyterm config``: write, show, change and check config.toml.

``init`` writes a commented default file (every section and key, its default and its
range); ``show`` prints the effective settings with each value's source (default, file,
env, flag); ``set KEY VALUE`` changes one key, checked, keeping the file's comments;
``path`` prints where the file is; ``validate [FILE]`` checks a file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from engine.limits import MAX_MARKETS
from polyterm.cli.common import fail, overrides


def _path(ctx: click.Context) -> Path:
    from polyterm.settings import locations

    given: Path | None = ctx.obj.get("config_path") if ctx.obj else None
    return given or locations.config_file()


@click.group()
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="config.toml to use instead of the default one.",
)
@click.pass_context
def config(ctx: click.Context, config_path: Path | None) -> None:
    """Write, show, change and check config.toml."""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path


@config.command()
@click.pass_context
def path(ctx: click.Context) -> None:
    """Print where config.toml is (it may not exist yet)."""
    click.echo(str(_path(ctx)))


@config.command()
@click.option("--force", is_flag=True, help="Replace an existing file.")
@click.pass_context
def init(ctx: click.Context, force: bool) -> None:
    """Write a commented config.toml: every section and key with its default and range."""
    from polyterm.settings.config import write_config
    from polyterm.settings.config_doc import default_document

    target = _path(ctx)
    if target.exists() and not force:
        fail(f"{target} already exists; pass --force to replace it, or edit it")
    try:
        write_config(target, default_document())
    except OSError as exc:
        fail(f"{target}: {exc.strerror or exc}")
    click.echo(str(target))


@config.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
@click.option("--offline/--online", default=None, help="As a run's flag.")
@click.option("--seed", type=int, help="As a run's flag.")
@click.option("--markets", type=click.IntRange(1, MAX_MARKETS), help="As a run's flag.")
@click.pass_context
def show(
    ctx: click.Context,
    as_json: bool,
    offline: bool | None,
    seed: int | None,
    markets: int | None,
) -> None:
    """Print the effective settings and where each came from (default, file, env, flag)."""
    from polyterm.settings.config import ConfigError
    from polyterm.settings.config_doc import effective

    target = _path(ctx)
    try:
        _, values = effective(target, os.environ, overrides(offline, seed, markets))
    except ConfigError as exc:
        fail(str(exc))
    if as_json:
        doc: dict[str, Any] = {
            "file": str(target),
            "settings": {k: {"value": v, "source": s} for k, (v, s) in values.items()},
        }
        click.echo(json.dumps(doc, default=str))
        return
    click.echo(f"# {target}{'' if target.is_file() else ' (absent: defaults)'}")
    width = max(len(k) for k in values)
    for key, (value, source) in values.items():
        click.echo(f"{key.ljust(width)} = {json.dumps(value, default=str)}  # {source}")


@config.command(name="set")
@click.argument("key")
@click.argument("value")
@click.pass_context
def set_(ctx: click.Context, key: str, value: str) -> None:
    """Set KEY (dotted: feed.max_markets) to VALUE (TOML: 8, true, "0.5"), checked,
    keeping the file's comments."""
    from polyterm.settings.config import ConfigError
    from polyterm.settings.config_doc import set_key

    target = _path(ctx)
    try:
        stored = set_key(target, key, value)
    except ConfigError as exc:
        fail(str(exc))
    click.echo(f"{key} = {json.dumps(stored, default=str)}  ({target})")


@config.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def validate(ctx: click.Context, file: Path | None) -> None:
    """Check FILE (default: config.toml): exit 0 and "ok", or one line naming the key."""
    from polyterm.settings.config import ConfigError
    from polyterm.settings.config_doc import validate_file

    target = file or _path(ctx)
    try:
        validate_file(target)
    except ConfigError as exc:
        fail(str(exc))
    click.echo(f"{target}: ok")

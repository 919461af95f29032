"""config.toml as a document: the commented default file ``polyterm config init``
writes, the effective settings with where each came from (``config show``), and one key
changed in place, comments kept (``config set``).

Everything is read from the settings models themselves, so a new key appears here the
day it is added, with its default and its range.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import annotated_types
import tomlkit
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from tomlkit.exceptions import TOMLKitError

from engine.config import EngineConfig
from polyterm.settings.config import (
    AppConfig,
    ConfigError,
    env_overrides,
    read_toml,
    validate_tree,
    write_config,
)

Source = Literal["default", "file", "env", "flag"]
# Kept for old files only: the legacy [strategy.mean_reversion] table.
_LEGACY = {("strategy", "mean_reversion")}


# -- init ---------------------------------------------------------------------------------
def default_document() -> str:
    """Every section and key with its default and range, the keys commented out (a
    commented key is its default), as valid TOML."""
    lines = [
        "# polyterm settings. Every key is shown with its default, commented out: uncomment",
        "# one to change it (or `polyterm config set KEY VALUE`). Precedence: defaults <",
        "# this file < environment < command-line flags; `polyterm config show` says",
        "# which one each value came from. Money and share amounts are decimal strings.",
        "",
    ]
    app_fields = {k: v for k, v in AppConfig.model_fields.items() if k != "engine"}
    engine_fields = EngineConfig.model_fields
    top = [(k, f) for k, f in app_fields.items() if not _is_model(f)]
    top += [(k, f) for k, f in engine_fields.items() if not _is_model(f)]
    lines += [_key_line(k, f) for k, f in top]
    sections = [(k, f) for k, f in app_fields.items() if _is_model(f)]
    sections += [(k, f) for k, f in engine_fields.items() if _is_model(f)]
    for name, field in sections:
        lines += _section((name,), field.annotation)
    return "\n".join(lines) + "\n"


def _is_model(field: FieldInfo) -> bool:
    return isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)


def _section(path: tuple[str, ...], model: Any) -> list[str]:
    lines = ["", f"[{'.'.join(path)}]"]
    nested = []
    for name, field in model.model_fields.items():
        if (*path, name) in _LEGACY:
            continue
        if _is_model(field):
            nested.append((name, field))
        else:
            lines.append(_key_line(name, field))
    for name, field in nested:
        lines += _section((*path, name), field.annotation)
    return lines


def _key_line(name: str, field: FieldInfo) -> str:
    default = field.get_default(call_default_factory=True)
    if default is None:
        shown = f"# {name} = ...  # unset by default"
    else:
        shown = f"# {name} = {_toml(default)}"
    hint = _range(field)
    return f"{shown}  # {hint}" if hint else shown


_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml(value: Any) -> str:
    """One TOML value on one line (tables inline), for a commented key."""
    plain = _plain(value)
    if isinstance(plain, dict):
        inner = ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in plain.items())
        return f"{{ {inner} }}" if inner else "{}"
    if isinstance(plain, list):
        return "[" + ", ".join(_toml(v) for v in plain) + "]"
    if isinstance(plain, bool):
        return "true" if plain else "false"
    if isinstance(plain, str):
        return json.dumps(plain)  # a TOML basic string
    return str(plain)


def _key(name: str) -> str:
    return name if _BARE.match(name) else json.dumps(name)


def _plain(value: Any) -> Any:
    """A default as TOML writes it: amounts as decimal strings, tuples as arrays."""
    if isinstance(value, BaseModel):
        return {k: _plain(v) for k, v in value.model_dump().items()}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def _range(field: FieldInfo) -> str:
    """What the key takes, from its type and constraints ("whole number, 1 to 1000")."""
    annotation = field.annotation
    kind = ""
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(f'"{c}"' for c in get_args(annotation))
    if annotation is bool:
        kind = "true or false"
    elif annotation is int:
        kind = "whole number"
    elif annotation is float:
        kind = "number"
    elif annotation is Decimal:
        kind = 'decimal string, e.g. "20"'
    bounds = []
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge):
            bounds.append(f">= {item.ge}")
        elif isinstance(item, annotated_types.Gt):
            bounds.append(f"> {item.gt}")
        elif isinstance(item, annotated_types.Le):
            bounds.append(f"<= {item.le}")
        elif isinstance(item, annotated_types.Lt):
            bounds.append(f"< {item.lt}")
    return ", ".join(part for part in (kind, " and ".join(bounds)) if part)


# -- show ---------------------------------------------------------------------------------
def effective(
    path: Path,
    env: Mapping[str, str],
    overrides: Mapping[str, Any],
) -> tuple[AppConfig, dict[str, tuple[Any, Source]]]:
    """The settings a run would use, and each key's value and source (dotted as in
    config.toml: ``feed.max_markets``)."""
    from polyterm.settings.config import _merge, _toml_to_tree

    file_tree = _toml_to_tree(read_toml(path)) if path.is_file() else {}
    env_tree, origin = env_overrides(env)
    tree = _merge(_merge(file_tree, env_tree), overrides)
    app = validate_tree(tree, origin, path if path.is_file() else None)
    in_file, in_env, in_flags = (
        set(_leaves(file_tree)),
        set(_leaves(env_tree)),
        set(_leaves(dict(overrides))),
    )
    shown: dict[str, tuple[Any, Source]] = {}
    for key, value in setting_values(app):
        source: Source = "default"
        for tree_keys, name in ((in_flags, "flag"), (in_env, "env"), (in_file, "file")):
            if any(key == k or key.startswith(k + ".") for k in tree_keys):
                source = name  # type: ignore[assignment]
                break
        shown[_dotted(key)] = (value, source)
    return app, shown


def _dotted(key: str) -> str:
    return key.removeprefix("engine.")


def _leaves(tree: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from _leaves(value, dotted + ".")
        else:
            yield dotted


def setting_values(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every setting of `model` as (dotted key, plain value), ``engine.`` included."""
    for name in type(model).model_fields:
        if not prefix and name == "engine":
            yield from setting_values(model.engine, "engine.")  # type: ignore[attr-defined]
            continue
        if (prefix.removeprefix("engine.").rstrip("."), name) in _LEGACY:
            continue
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            yield from setting_values(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", _plain(value)


# -- set ----------------------------------------------------------------------------------
def parse_value(text: str) -> Any:
    """A value as typed on the command line: TOML (8, true, "0.5", [..]) or else text."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def set_key(path: Path, key: str, text: str) -> Any:
    """Set `key` (dotted, as in config.toml) to `text` in the file at `path` (created if
    missing), keeping everything else as written, comments included; the file is written
    only if the result is a valid configuration. Returns the value set."""
    value = parse_value(text)
    parts = key.split(".")
    if not all(parts):
        raise ConfigError(f"{key!r} is not a key: write it dotted, e.g. feed.max_markets")
    try:
        doc = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    except (OSError, TOMLKitError) as exc:
        raise ConfigError(f"{path}: {exc}; fix the file first") from exc
    if doc is None:
        doc = tomlkit.document()
    table: Any = doc
    for part in parts[:-1]:
        inner = table.get(part)
        if inner is None:
            inner = tomlkit.table()
            table[part] = inner
        elif not isinstance(inner, dict):
            raise ConfigError(f"{key}: {part} is a value, not a table")
        table = inner
    table[parts[-1]] = value
    text_out = tomlkit.dumps(doc)
    from polyterm.settings.config import _toml_to_tree

    validate_tree(_toml_to_tree(tomllib.loads(text_out)), {}, path)
    try:
        write_config(path, text_out)
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}; nothing was changed") from exc
    return value


def validate_file(path: Path) -> AppConfig:
    """The settings `path` holds (defaults for the rest), or one ConfigError line."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    from polyterm.settings.config import _toml_to_tree

    return validate_tree(_toml_to_tree(read_toml(path)), {}, path)

"""Configuration: config.toml under platformdirs, overridden by environment variables.

Precedence: defaults < config.toml < environment < command-line flags. Every value is
validated by the engine's pydantic models; a bad one becomes a one-line ConfigError
naming the field, where it came from and what to do.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from engine.config import EngineConfig, StrategiesConfig
from engine.config.base import Bool, Int
from engine.config.strategy import check_strategy_names
from engine.files import write_private
from engine.limits import MAX_MARKETS
from polyterm.settings import locations
from polyterm.settings.alerts import AlertsConfig
from polyterm.settings.wallet import WalletConfig

log = logging.getLogger("polyterm.config")


class ConfigError(ValueError):
    """Invalid configuration; str() is the one line to show."""


DEFAULT_THEME = "polyterm-dark"
POLYTERM_THEMES = ("polyterm-dark", "polyterm-light")
# Textual's own themes (textual.theme.BUILTIN_THEMES of the pinned Textual; a test keeps
# the two lists equal): named here so that checking a name never imports Textual, which
# a headless run does not otherwise need.
TEXTUAL_THEMES = frozenset(
    {
        "ansi-dark",
        "ansi-light",
        "atom-one-dark",
        "atom-one-light",
        "catppuccin-frappe",
        "catppuccin-latte",
        "catppuccin-macchiato",
        "catppuccin-mocha",
        "dracula",
        "flexoki",
        "gruvbox",
        "monokai",
        "nord",
        "rose-pine",
        "rose-pine-dawn",
        "rose-pine-moon",
        "solarized-dark",
        "solarized-light",
        "textual-dark",
        "textual-light",
        "tokyo-night",
    }
)


class ConsoleConfig(BaseModel):
    """``[console]`` in config.toml: the Textual console's settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # A theme registered with Textual: polyterm-dark, polyterm-light, or one of Textual's
    # own. `t` and the palette change it and write the choice back here. Checked on
    # every face, so a name the console would refuse is never accepted headless.
    theme: str = Field(DEFAULT_THEME, min_length=1)
    # How people read prices on every face: "cents" (52.3¢, as Polymarket shows them) or
    # "dollars" (0.523). The console, the text summary and `report`'s tables follow it;
    # machine outputs (--json, the status file, CSV) always keep plain decimals.
    prices: Literal["cents", "dollars"] = "cents"

    @field_validator("theme")
    @classmethod
    def _theme(cls, value: str) -> str:
        if value not in POLYTERM_THEMES and value not in TEXTUAL_THEMES:
            raise ValueError(
                f"{value!r} is not a theme: use {' or '.join(POLYTERM_THEMES)} (or one of "
                f"Textual's: {', '.join(sorted(TEXTUAL_THEMES))})"
            )
        return value


class AppConfig(BaseModel):
    """What the shell needs on top of the engine's settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    engine: EngineConfig = EngineConfig()
    console: ConsoleConfig = ConsoleConfig()
    alerts: AlertsConfig = AlertsConfig()  # [alerts]: webhook and Telegram
    wallet: WalletConfig = WalletConfig()  # [wallet]: live trading's wallet (no secrets)
    offline: Bool = True  # a new user has no keys: the loopback emulator is the default
    ledger: Path | None = None
    emulator_seed: Int = 7
    emulator_markets: Int = Field(8, ge=1, le=MAX_MARKETS)
    # The markets to trade, by name: slugs, condition ids (0x...) or token ids, looked up
    # on Gamma at start (an entry that names no market stops the start, naming it).
    # Empty: the top feed.max_markets by the ranking. `--watch` (repeatable) wins.
    watch: tuple[str, ...] = ()

    @field_validator("watch")
    @classmethod
    def _watch(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if not entry.strip() or any(c.isspace() for c in entry.strip()):
                raise ValueError(
                    f"{entry!r} is not a slug, condition id or token id: write e.g. "
                    '["will-the-fed-cut-rates-in-june"]'
                )
        return tuple(e.strip() for e in value)

    @field_validator("ledger", mode="before")
    @classmethod
    def _ledger(cls, value: object) -> object:
        """A file's path, ``~`` being the home directory as in a shell (taken literally it
        made a directory named "~" wherever polyterm started)."""
        if not isinstance(value, str | Path):
            return value  # pydantic refuses it, naming the type
        text = str(value).strip()
        if not text:
            raise ValueError("is empty: name a file, or leave the key out (the default ledger)")
        path = Path(text).expanduser()
        if text.endswith(("/", os.sep)) or path.is_dir():
            raise ValueError(
                f"{path} is a directory: name a file in it, e.g. {path / 'ledger.sqlite'}"
            )
        return path

    @model_validator(mode="after")
    def _strategy_names(self) -> AppConfig:
        """Per-strategy tables must name strategies: a typo would apply to none. (The
        engine's models take any name: its tests and embedders run their own.)"""
        engine = self.engine
        check_strategy_names(engine.strategy.skip_on_fallback, "strategy.skip_on_fallback")
        check_strategy_names(
            engine.strategy.size_scales_on_fallback, "strategy.size_scales_on_fallback"
        )
        check_strategy_names(engine.risk.strategy_sizes, "risk.strategy_sizes")
        check_strategy_names(
            engine.trading.strategy_order_frequency, "trading.strategy_order_frequency"
        )
        return self


# The seed's environment names for the hot-asset registry.
_SERVICE_WS = {
    "SERVICE_WS_ASSET_LIMIT": "asset_limit",
    "SERVICE_WS_STATIC_ASSETS": "static_assets",
    "SERVICE_WS_MIN_SCORE": "min_score",
    "SERVICE_WS_STICKY_SECONDS": "sticky_s",
    "SERVICE_WS_TTL_SECONDS": "ttl_s",
    "SERVICE_WS_HIT_BOOST": "hit_boost",
    "SERVICE_WS_REFRESH_SECONDS": "refresh_s",
}

# Generic prefixes: SERVICE_MAX_MARKETS -> engine.feed.max_markets, and so on.
# STRATEGIES_<NAME>_<KEY> is matched separately (see _strategies_path); it must be tried
# before STRATEGY_, which it does not start with, so the order here does not matter.
_PREFIXES = {
    "SERVICE_": "feed",
    "SENTIMENT_": "sentiment",
    "STRATEGY_": "strategy",
    "RISK_": "risk",
    "TRADING_": "trading",
    "EXITS_": "exits",
    "LIVE_": "live",
    "EXECUTION_": "execution",
}
# An environment value is read by its field's type: a list field (tuple) as a comma list or
# a JSON list, a mapping field (dict) as a JSON object (the seed's forms); the fields here
# as JSON of any shape (pydantic checks it), e.g. a list of tables, with an example.
_JSON_FIELDS = {"spread_volume_tiers": '[{"min_volume_24h": 0, "max_spread_bps": 800}]'}
# What a mapping field's JSON object looks like, for its error.
_OBJECT_EXAMPLES = {"rate_limits": '{"GET /book": 1500}'}

_BOOL_TRUE = {"1", "true", "yes", "on"}
_BOOL_FALSE = {"0", "false", "no", "off"}


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _BOOL_TRUE:
        return True
    if lowered in _BOOL_FALSE:
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean: use true or false")


def _field_path(model: type[BaseModel], words: list[str]) -> list[str] | None:
    """Match upper-case env words (MEAN, REVERSION, WINDOW) to nested field names."""
    for cut in range(len(words), 0, -1):
        name = "_".join(words[:cut]).lower()
        field = model.model_fields.get(name)
        if field is None:
            continue
        rest = words[cut:]
        if not rest:
            return [name]
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            tail = _field_path(annotation, rest)
            if tail is not None:
                return [name, *tail]
    return None


def _set(tree: dict[str, Any], path: list[str], value: Any) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    tree[path[-1]] = value


def env_overrides(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Config values from the environment, plus a map of dotted path -> variable name."""
    tree: dict[str, Any] = {}
    origin: dict[str, str] = {}

    def put(path: list[str], value: Any, var: str) -> None:
        _set(tree, path, value)
        origin[".".join(path)] = var

    if "POLY_OFFLINE_MODE" in env:
        put(["offline"], _bool("POLY_OFFLINE_MODE", env["POLY_OFFLINE_MODE"]), "POLY_OFFLINE_MODE")
    if "POLY_DRY_RUN" in env:
        put(["engine", "dry_run"], _bool("POLY_DRY_RUN", env["POLY_DRY_RUN"]), "POLY_DRY_RUN")
    if env.get("CLOB_REST_URL"):
        put(["engine", "feed", "clob_rest_url"], env["CLOB_REST_URL"], "CLOB_REST_URL")
    if env.get("CLOB_WS_URL"):
        # The channels' base, as in the seed (…/ws, with /market and /user under it); an
        # old value ending in /market (the market channel's own URL) still works.
        from engine.adapters.polymarket.environment import channel_urls

        market_ws, user_ws = channel_urls(env["CLOB_WS_URL"])
        put(["engine", "feed", "market_ws_url"], market_ws, "CLOB_WS_URL")
        put(["engine", "feed", "user_ws_url"], user_ws, "CLOB_WS_URL")
    if env.get("GAMMA_API_URL"):
        put(["engine", "feed", "gamma_url"], env["GAMMA_API_URL"], "GAMMA_API_URL")
    if env.get("POLYMARKET_DATA_URL"):
        put(["wallet", "data_url"], env["POLYMARKET_DATA_URL"], "POLYMARKET_DATA_URL")
    if env.get("POLYGON_RPC_URL"):
        put(["wallet", "rpc_url"], env["POLYGON_RPC_URL"], "POLYGON_RPC_URL")
    for var, field in _SERVICE_WS.items():
        if var in env:
            put(
                ["engine", "hot_assets", field],
                _env_value(var, env[var], ["hot_assets", field]),
                var,
            )
    for var, value in env.items():
        if var in _SERVICE_WS:
            continue
        if var.startswith("STRATEGIES_"):
            path = _strategies_path(var[len("STRATEGIES_") :].split("_"))
            if path is None:
                raise ConfigError(
                    f"{var} names no strategies setting: use STRATEGIES_<NAME>_ENABLED, "
                    "_WEIGHT or _<PARAM>, e.g. STRATEGIES_MEAN_REVERSION_WINDOW"
                )
            put(["engine", "strategies", *path], _env_value(var, value, ["strategies", *path]), var)
            continue
        legacy = _legacy_mean_reversion_env(var)
        if legacy is not None:
            log.warning(
                "%s is deprecated: use STRATEGIES_MEAN_REVERSION_%s",
                var,
                var.removeprefix("STRATEGY_MEAN_REVERSION_"),
            )
            path = ["strategies", "mean_reversion", *legacy]
            put(["engine", *path], _env_value(var, value, path), var)
            continue
        for prefix, section in _PREFIXES.items():
            if var.startswith(prefix):
                model = EngineConfig.model_fields[section].annotation
                assert isinstance(model, type)
                assert issubclass(model, BaseModel)
                path = _field_path(model, var[len(prefix) :].split("_"))
                if path is None:
                    raise ConfigError(
                        f"{var} names no {section} setting; see the README's configuration table"
                    )
                put(["engine", section, *path], _env_value(var, value, [section, *path]), var)
    return tree, origin


def _strategies_path(words: list[str]) -> list[str] | None:
    """STRATEGIES_<NAME>_<KEY>: ENABLED and WEIGHT are the slot's, any other key is one
    of its params (STRATEGIES_<NAME>_PARAMS_<KEY> works too)."""
    for cut in range(len(words) - 1, 0, -1):
        name = "_".join(words[:cut]).lower()
        slot = StrategiesConfig.model_fields.get(name)
        if slot is None:
            continue
        model = slot.annotation
        assert isinstance(model, type)
        assert issubclass(model, BaseModel)
        rest = words[cut:]
        path = _field_path(model, rest)
        if path is not None:
            return [name, *path]
        params = model.model_fields["params"].annotation
        assert isinstance(params, type)
        assert issubclass(params, BaseModel)
        tail = _field_path(params, rest)
        return None if tail is None else [name, "params", *tail]
    return None


def _legacy_mean_reversion_env(var: str) -> list[str] | None:
    """STRATEGY_MEAN_REVERSION_<KEY> (the old place): its path under
    [strategies.mean_reversion], or None when `var` is not one."""
    if not var.startswith("STRATEGY_MEAN_REVERSION_"):
        return None
    path = _strategies_path(["MEAN", "REVERSION", *var.split("_")[3:]])
    return None if path is None else path[1:]


def _annotation(path: list[str]) -> Any:
    """The type of the EngineConfig field at `path` (its Optional stripped)."""
    model: Any = EngineConfig
    annotation: Any = None
    for name in path:
        annotation = model.model_fields[name].annotation
        model = annotation
    annotation = _base_type(annotation)
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (Union, UnionType) and len(args) == 1:
        return args[0]
    return annotation


def _base_type(annotation: Any) -> Any:
    """The plain type under Annotated[...] (Bool -> bool, Usdc -> Decimal)."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _scalar(var: str, value: str, annotation: Any, key: str) -> Any:
    """An environment value (text) as its field's type: settings are strict, so a
    boolean, count or number is parsed here, and said wrong here, naming the variable."""
    kind = _base_type(annotation)
    text = value.strip()
    if kind is bool:
        return _bool(var, value)
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(
                f"config {key}: {var}={value!r} is not a whole number: write e.g. 8"
            ) from None
    if kind is float:
        try:
            number = float(text)
        except ValueError:
            raise ConfigError(
                f"config {key}: {var}={value!r} is not a number: write e.g. 0.5"
            ) from None
        if not math.isfinite(number):
            raise ConfigError(f"config {key}: {var}={value!r} is not a finite number")
        return number
    return value  # text, a choice, or a decimal amount (which takes text)


def _env_value(var: str, value: str, path: list[str]) -> Any:
    field = path[-1]
    if field in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError as exc:
            example = _JSON_FIELDS[field]
            raise ConfigError(f"{var}: not JSON ({exc}); write e.g. {example}") from exc
    origin = get_origin(_annotation(path))
    if origin is tuple:
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError as exc:
                raise ConfigError(f"{var}: not a JSON list ({exc}); or write a,b,c") from exc
            if not isinstance(parsed, list):
                raise ConfigError(f"{var}: expected a JSON list or a comma list")
            return tuple(str(v) for v in parsed)
        return tuple(v.strip() for v in text.split(",") if v.strip())
    if origin is dict:
        example = _OBJECT_EXAMPLES.get(field, '{"mean_reversion": 0.5}')
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise ConfigError(f"{var}: not a JSON object ({exc}); write e.g. {example}") from exc
        if not isinstance(parsed, dict):
            raise ConfigError(f"{var}: expected a JSON object, e.g. {example}")
        return parsed
    return _scalar(var, value, _annotation(path), ".".join(path))


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> AppConfig:
    """Build the AppConfig; `overrides` are command-line values (same tree shape)."""
    env = os.environ if env is None else env
    explicit = path is not None
    path = path or locations.config_file()
    tree: dict[str, Any] = {}
    origin: dict[str, str] = {}
    if path.is_file():
        tree = _toml_to_tree(read_toml(path))
    elif explicit:
        raise ConfigError(f"{path}: no such config file")
    env_tree, origin = env_overrides(env)
    tree = _merge(_merge(tree, env_tree), overrides or {})
    return validate_tree(tree, origin, path if path.is_file() else None)


def read_toml(path: Path) -> dict[str, Any]:
    """config.toml as a table; every way it can be unreadable is one ConfigError line."""
    try:
        text = path.read_bytes().decode("utf-8")
        return tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8, or move it aside"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}; fix the file or move it aside") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}; fix the file or move it aside") from exc


# What each strict type's refusal means for the person writing the file.
_FIXES = {
    "bool_type": "is not a boolean: write true or false, without quotes",
    "int_type": "is not a whole number: write it without quotes, e.g. 8",
    "float_type": "is not a number: write it without quotes, e.g. 0.5",
    "finite_number": "is not a finite number (no inf or nan)",
    "extra_forbidden": "is not a setting (see `polyterm config init` for every key)",
    "string_type": "is not text: write it in quotes",
}


def validate_tree(tree: dict[str, Any], origin: Mapping[str, str], path: Path | None) -> AppConfig:
    """The AppConfig of a config tree, or one ConfigError line naming the key, where it
    came from and the fix."""
    try:
        return AppConfig.model_validate(tree)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        dotted = ".".join(loc[1:] if loc[:1] == ["engine"] else loc)
        source = origin.get(".".join(loc))
        where = f" (from {source})" if source else f" (in {path})" if path is not None else ""
        fix = _FIXES.get(err["type"])
        if fix is not None:
            shown = err.get("input")
            message = fix if err["type"] == "extra_forbidden" else f"{shown!r} {fix}"
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
        if not dotted:  # settings that contradict each other: the message names them
            raise ConfigError(f"config: {message}{where}") from exc
        raise ConfigError(f"config {dotted}: {message}{where}") from exc


def _toml_to_tree(toml: dict[str, Any]) -> dict[str, Any]:
    """config.toml keeps engine sections at the top level, like [feed] and [risk]."""
    app_keys = {
        "offline",
        "ledger",
        "emulator_seed",
        "emulator_markets",
        "watch",
        "console",
        "alerts",
        "wallet",
    }
    tree: dict[str, Any] = {k: v for k, v in toml.items() if k in app_keys}
    engine = {k: v for k, v in toml.items() if k not in app_keys}
    strategy = engine.get("strategy")
    if isinstance(strategy, dict) and isinstance(strategy.get("mean_reversion"), dict):
        engine = _migrate_mean_reversion(engine)
    if engine:
        tree["engine"] = engine
    return tree


def _migrate_mean_reversion(engine: dict[str, Any]) -> dict[str, Any]:
    """The old [strategy.mean_reversion] table still loads, into its new place:
    `weight` to [strategies.mean_reversion], everything else to its params. Keys set in
    the new place win."""
    strategy = dict(engine["strategy"])
    old = dict(strategy.pop("mean_reversion"))
    log.warning(
        "config: [strategy.mean_reversion] is deprecated: move its keys to "
        "[strategies.mean_reversion.params] (weight to [strategies.mean_reversion])"
    )
    moved: dict[str, Any] = {}
    if "weight" in old:
        moved["weight"] = old.pop("weight")
    if old:
        moved["params"] = old
    out = dict(engine)
    out["strategy"] = strategy
    out["strategies"] = _merge({"mean_reversion": moved}, out.get("strategies") or {})
    return out


def save_theme(path: Path, theme: str) -> None:
    """Write ``[console] theme`` into the config file at `path` (created if missing),
    keeping everything else in it as written, comments and order included. The file is
    replaced atomically, so a reader never sees half of it."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        doc = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else None
    except (OSError, TOMLKitError) as exc:
        raise ConfigError(f"{path}: {exc}; the theme was not saved") from exc
    if doc is None:
        doc = tomlkit.document()
    console = doc.get("console")
    if not isinstance(console, dict):
        console = tomlkit.table()
        doc["console"] = console
    console["theme"] = theme
    try:
        write_config(path, tomlkit.dumps(doc))
    except OSError as exc:
        raise ConfigError(f"{path}: {exc}; the theme was not saved") from exc


def write_config(path: Path, text: str) -> None:
    """Replace the config file atomically, 0600 in a 0700 directory; through a symlink
    to the file it names (a config kept in a dotfiles repository: replacing the link
    itself would cut it)."""
    write_private(path, text.encode("utf-8"))

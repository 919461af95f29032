"""Where polyterm keeps things: platformdirs locations (private: 0700) and the recorded
golden data."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from engine.files import DIR_MODE, tighten

APP = "polyterm"


def config_dir() -> Path:
    return Path(os.environ.get("POLYTERM_CONFIG_DIR") or platformdirs.user_config_dir(APP))


def data_dir() -> Path:
    return Path(os.environ.get("POLYTERM_DATA_DIR") or platformdirs.user_data_dir(APP))


def log_dir() -> Path:
    return Path(os.environ.get("POLYTERM_LOG_DIR") or platformdirs.user_log_dir(APP))


def config_file() -> Path:
    return config_dir() / "config.toml"


def default_ledger_path() -> Path:
    return data_dir() / "ledger.sqlite"


def tighten_dirs() -> None:
    """Make polyterm's own directories 0700 where an older version (or the umask) left
    them readable by others; missing ones are created 0700 when first written to. A
    directory the user chose (a --ledger elsewhere) is never changed."""
    data = data_dir()
    for directory in (config_dir(), data, log_dir(), data / "backtests"):
        tighten(directory, DIR_MODE)


def recorded_dir() -> Path | None:
    """Real recorded Polymarket messages: $POLYTERM_RECORDED_DIR, else ../shared beside
    the checkout. None when neither exists (the emulator then seeds synthetic books)."""
    env = os.environ.get("POLYTERM_RECORDED_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[3] / "shared" / "polymarket" / "recorded")
    for path in candidates:
        if path.is_dir():
            return path
    return None

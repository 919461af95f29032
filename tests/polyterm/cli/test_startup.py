"""`polyterm --help`, `-V` and shell completion answer at once: no heavy library is loaded
before a command needs it (the time itself is measured in the README, not asserted:
the test machine is shared)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from polyterm import __version__
from tests.kit.process import POLYTERM, environ
from tests.kit.tapes import opening_books, write_tape

HEAVY = {
    "engine",
    "textual",
    "rich",
    "pydantic",
    "httpx",
    "aiohttp",
    "prometheus_client",
    "pythonjsonlogger",
    "keyring",
    "msgspec",
    "picows",
    "websockets",
    "sqlite3",
    "platformdirs",
    "tomlkit",
    "uvloop",
}
LOADED = """
import sys
from polyterm.cli import main
try:
    main({args!r})
except SystemExit:
    pass
sys.stderr.write(" ".join(sorted(sys.modules)))
"""


# The engine's two modules without imports, which the flags' bounds come from.
LIGHT = {"engine", "engine.limits"}


def _loaded(args: list[str]) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", LOADED.format(args=args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return {name.split(".")[0] for name in set(done.stderr.split()) - LIGHT}


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["-V"],
        ["ctl", "--help"],
        ["ledger", "--help"],
        ["ctl", "flatten", "--help"],
        ["auth", "--help"],
        ["auth", "login", "--help"],
        ["doctor", "--help"],
    ],
)
def test_help_and_version_load_no_heavy_library(args: list[str]) -> None:
    assert _loaded(args) & HEAVY == set()


@pytest.mark.integration
def test_dash_v_prints_the_version(tmp_path: Path) -> None:
    for flag in ("-V", "--version"):
        done = subprocess.run(
            [*POLYTERM, flag], capture_output=True, text=True, env=environ(tmp_path), check=False
        )
        assert done.returncode == 0
        assert done.stdout == f"polyterm, version {__version__}\n"


@pytest.mark.integration
@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("polyterm ct", "1", ["plain,ctl"]),
        ("polyterm ledger ", "2", ["plain,backup", "plain,check", "plain,migrate", "plain,vacuum"]),
        ("polyterm ctl fl", "2", ["plain,flatten"]),
        ("polyterm --log-f", "1", ["plain,--log-format"]),
    ],
)
def test_bash_completion_completes_commands_and_options(
    tmp_path: Path, words: str, cword: str, expected: list[str]
) -> None:
    done = subprocess.run(
        POLYTERM,
        capture_output=True,
        text=True,
        env=environ(
            tmp_path, _POLYTERM_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=cword
        ),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == expected


@pytest.mark.integration
@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_a_completion_script(tmp_path: Path, shell: str) -> None:
    done = subprocess.run(
        POLYTERM,
        capture_output=True,
        text=True,
        env=environ(tmp_path, _POLYTERM_COMPLETE=f"{shell}_source"),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "_POLYTERM_COMPLETE" in done.stdout


NETWORK = {"httpx", "picows", "websockets", "aiohttp", "keyring"}
BACKTEST_LOADED = """
import sys
from polyterm.cli import main
try:
    main(["backtest", "--tape", {tape!r}, "--json", "--no-progress", "--ledger", {ledger!r}])
except SystemExit as exit:
    if exit.code:
        raise
sys.stderr.write(" ".join(sorted(sys.modules)))
"""


@pytest.mark.integration
def test_a_backtest_loads_no_network_library(tmp_path: Path) -> None:
    # A backtest reads a file: the network stack (and its import time) is no part of it.
    tape = write_tape(tmp_path / "t.jsonl", [(1000.5, frame) for frame in opening_books()])
    script = BACKTEST_LOADED.format(tape=str(tape), ledger=str(tmp_path / "l.sqlite"))
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=environ(tmp_path),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = {name.split(".")[0] for name in done.stderr.split()}
    assert "engine" in loaded  # it did run the backtest
    assert loaded & NETWORK == set()

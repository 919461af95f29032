"""The CLI's contracts that need no process of their own: usage errors, exit codes, paths.

Every usage error is one line, ``polyterm: error: <message> (see <command> --help)``, and
exit 2; a stop by signal is 128 + its number; an expected error under ``-vv`` still exits
2, after its traceback. (The same contracts as a user meets them, in real processes, are
in ``test_cli.py``.)
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from engine.adapters.tape.tape import TapeError
from engine.limits import MAX_MARKETS
from engine.runtime.kernel import strategies_for
from engine.strategies.mean_reversion import MeanReversion
from polyterm.cli import common as cli
from polyterm.cli import main as polyterm_main
from polyterm.settings.config import ConfigError, load_config


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    """The group's callback sets up logging; put the test runner's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def invoke(args: list[str], tmp_path: Path) -> Result:
    env = {
        "POLYTERM_CONFIG_DIR": str(tmp_path / "cfg"),
        "POLYTERM_DATA_DIR": str(tmp_path / "data"),
    }
    return CliRunner().invoke(polyterm_main, args, env=env, prog_name="polyterm")


@pytest.mark.parametrize(
    ("args", "command", "says"),
    [
        (["--duration", "abc"], "polyterm", "Invalid value for '--duration'"),
        (["--nope"], "polyterm", "No such option"),
        (["nosuch"], "polyterm", "No such command 'nosuch'"),
        (["book"], "polyterm book", "Missing argument 'TAPE'"),
        (["book", "a", "--levels", "-1"], "polyterm book", "Invalid value for '--levels'"),
        (["record", "--out", "t.jsonl", "--duration", "0"], "polyterm record", "--duration"),
        (["exchange", "--export-tape", "t.jsonl"], "polyterm exchange", "needs --duration"),
        (
            ["exchange", "--export-tape", "t.jsonl", "--duration", "3", "--fault", "ws_drop=1"],
            "polyterm exchange",
            "--fault applies to a served emulator",
        ),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    tmp_path: Path, args: list[str], command: str, says: str
) -> None:
    result = invoke(args, tmp_path)
    assert result.exit_code == 2, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("polyterm: error: ")
    assert says in line
    assert line.endswith(f"(see {command} --help)")
    assert result.stdout == ""


def test_help_and_version_still_exit_0(tmp_path: Path) -> None:
    assert invoke(["--help"], tmp_path).exit_code == 0
    assert invoke(["record", "--help"], tmp_path).exit_code == 0
    version = invoke(["--version"], tmp_path)
    assert version.exit_code == 0
    assert version.stdout.startswith("polyterm, version ")


def test_a_status_file_in_a_missing_directory_fails_before_the_run(tmp_path: Path) -> None:
    status = tmp_path / "nope" / "status.json"
    result = invoke(["--no-ui", "--duration", "30", "--status-file", str(status)], tmp_path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"polyterm: error: --status-file {status}: directory {status.parent} does not exist "
        "(create it or pick another path)"
    ]
    assert not (tmp_path / "data").exists()  # nothing ran: no ledger was made


def test_a_ledger_whose_directory_cannot_be_made_fails_before_the_run(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    ledger = blocker / "sub" / "ledger.sqlite"
    result = invoke(["--no-ui", "--duration", "30", "--ledger", str(ledger)], tmp_path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"polyterm: error: --ledger {ledger}: cannot create directory {ledger.parent}: "
        f"{blocker} is not a directory (pick another path)"
    ]


def test_record_checks_its_tape_path_before_recording(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = invoke(["record", "--out", str(blocker / "t.jsonl.zst")], tmp_path)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"polyterm: error: --out {blocker / 't.jsonl.zst'}: ")


# -- _run: the one place a command's exit code is decided ------------------------------


def test_keyboard_interrupt_exits_130() -> None:
    async def interrupted() -> int:
        raise KeyboardInterrupt

    assert cli.run_command(interrupted, verbose=0) == 130


def test_a_clean_stop_by_sigterm_exits_143() -> None:
    async def stops_on_sigterm() -> int:
        loop = asyncio.get_running_loop()
        stopped = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stopped.set)
        try:
            loop.call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
            await stopped.wait()
        finally:
            loop.remove_signal_handler(signal.SIGTERM)
        return 0  # the command does not have to know the convention

    assert cli.run_command(stops_on_sigterm, verbose=0) == 143


def test_a_second_ctrl_c_breaks_a_stop_that_hangs() -> None:
    async def never_stops() -> int:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, lambda: None)  # a stop that never comes
        loop.call_later(0.05, os.kill, os.getpid(), signal.SIGINT)
        loop.call_later(0.15, os.kill, os.getpid(), signal.SIGINT)
        await asyncio.sleep(30)
        return 0

    assert cli.run_command(never_stops, verbose=0) == 130


@pytest.mark.parametrize("verbose", [0, 2])
def test_an_expected_error_exits_2_with_or_without_vv(
    verbose: int, capsys: pytest.CaptureFixture[str]
) -> None:
    async def fails() -> int:
        raise TapeError("t.jsonl:3: not JSON")

    with pytest.raises(SystemExit) as info:
        cli.run_command(fails, verbose=verbose)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "polyterm: error: t.jsonl:3: not JSON"
    assert ("Traceback" in err) is (verbose > 1)


def test_an_expected_error_inside_a_task_group_is_found() -> None:
    async def fails_in_a_group() -> int:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(asyncio.sleep(0))
            raise OSError("disk full")

    with pytest.raises(SystemExit) as info:
        cli.run_command(fails_in_a_group, verbose=0)
    assert info.value.code == 2


def test_a_bug_keeps_its_traceback() -> None:
    async def bug() -> int:
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        cli.run_command(bug, verbose=0)


def test_config_file_and_env_precedence(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        "offline = true\n[feed]\nmax_markets = 3\n[strategy.mean_reversion]\nwindow = 12\n"
    )
    app = load_config(
        cfg, env={"STRATEGIES_MEAN_REVERSION_WINDOW": "9", "SERVICE_WS_STATIC_ASSETS": "a,b"}
    )
    assert app.engine.feed.max_markets == 3
    assert app.engine.strategies.mean_reversion.params.window == 9
    assert app.engine.hot_assets.static_assets == ("a", "b")
    with pytest.raises(ConfigError, match="STRATEGY_NOPE names no strategy setting"):
        load_config(cfg, env={"STRATEGY_NOPE": "1"})
    with pytest.raises(ConfigError, match="STRATEGIES_NOPE_X names no strategies setting"):
        load_config(cfg, env={"STRATEGIES_NOPE_X": "1"})
    cfg.write_text("[feed\n")
    with pytest.raises(ConfigError, match="config.toml"):
        load_config(cfg, env={})


def test_strategies_config_places(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """[strategies.<name>] holds enabled, weight and params; the env maps
    STRATEGIES_<NAME>_<KEY> there (slot keys, else params); the old
    [strategy.mean_reversion] table and STRATEGY_MEAN_REVERSION_* still load, into the new
    place, with a one-line deprecation warning each."""
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        "[strategy.mean_reversion]\nwindow = 12\nweight = 0.5\n"
        "[strategies.momentum_scalping]\nenabled = false\n"
        "[strategies.cross_market_arbitrage.params]\nmargin_bps = 7\n"
    )
    env = {
        "STRATEGIES_MEAN_REVERSION_ENTRY_Z": "2.5",
        "STRATEGIES_EVENT_DRIVEN_WEIGHT": "0.3",
        "STRATEGIES_MICRO_ARBITRAGE_PARAMS_MARGIN_BPS": "5",
        "STRATEGY_MEAN_REVERSION_EXIT_Z": "0.1",
    }
    with caplog.at_level("WARNING", logger="polyterm.config"):
        app = load_config(cfg, env=env)
    slots = app.engine.strategies
    assert slots.mean_reversion.weight == 0.5
    assert slots.mean_reversion.params.window == 12
    assert slots.mean_reversion.params.entry_z == 2.5
    assert slots.mean_reversion.params.exit_z == 0.1
    assert not slots.momentum_scalping.enabled
    assert slots.event_driven.weight == 0.3
    assert slots.micro_arbitrage.params.margin_bps == 5
    assert slots.cross_market_arbitrage.params.margin_bps == 7
    assert slots.cross_market_arbitrage.weight == 0  # detected, never executed
    warned = [r.getMessage() for r in caplog.records]
    assert any("[strategy.mean_reversion] is deprecated" in m for m in warned)
    assert any("STRATEGY_MEAN_REVERSION_EXIT_Z is deprecated" in m for m in warned)
    with pytest.raises(ConfigError, match=r"strategies.mean_reversion.params.window"):
        load_config(cfg, env={"STRATEGIES_MEAN_REVERSION_WINDOW": "x"})


def test_the_spread_gate_by_volume_is_strategy_spread_volume_tiers(tmp_path: Path) -> None:
    """The seed's key, from config.toml or STRATEGY_SPREAD_VOLUME_TIERS (JSON), reaches
    mean reversion; its own params.spread_volume_tiers override it; bad tiers are one line."""
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        "[[strategy.spread_volume_tiers]]\nmin_volume_24h = 0\nmax_spread_bps = 900\n"
        "[[strategy.spread_volume_tiers]]\nmin_volume_24h = 50000\nmax_spread_bps = 200\n"
    )
    app = load_config(cfg, env={})
    tiers = app.engine.strategy.spread_volume_tiers
    assert [(t.min_volume_24h, t.max_spread_bps) for t in tiers] == [(0, 900), (50_000, 200)]
    (mean_reversion,) = [s for s in strategies_for(app.engine) if s.name == "mean_reversion"]
    assert isinstance(mean_reversion, MeanReversion)
    assert mean_reversion.max_spread_bps(60_000) == 200
    assert mean_reversion.max_spread_bps(10) == 900
    env = {"STRATEGY_SPREAD_VOLUME_TIERS": '[{"min_volume_24h": 0, "max_spread_bps": 300}]'}
    from_env = load_config(cfg, env=env)
    assert [t.max_spread_bps for t in from_env.engine.strategy.spread_volume_tiers] == [300]
    own = load_config(
        cfg,
        env={
            "STRATEGIES_MEAN_REVERSION_SPREAD_VOLUME_TIERS": (
                '[{"min_volume_24h": 0, "max_spread_bps": 111}]'
            )
        },
    )
    (mr,) = [s for s in strategies_for(own.engine) if s.name == "mean_reversion"]
    assert isinstance(mr, MeanReversion)
    assert mr.max_spread_bps(60_000) == 111
    with pytest.raises(ConfigError, match="STRATEGY_SPREAD_VOLUME_TIERS: not JSON"):
        load_config(cfg, env={"STRATEGY_SPREAD_VOLUME_TIERS": "[{"})
    cfg.write_text(
        "[[strategy.spread_volume_tiers]]\nmin_volume_24h = 10\nmax_spread_bps = 100\n"
        "[[strategy.spread_volume_tiers]]\nmin_volume_24h = 5\nmax_spread_bps = 50\n"
    )
    with pytest.raises(ConfigError, match=r"strategy.spread_volume_tiers.*rising") as err:
        load_config(cfg, env={})
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("value", ["low,medium,high", '["low", "medium", "high"]'])
def test_allowed_risk_levels_can_be_set_from_the_environment(value: str, tmp_path: Path) -> None:
    """Reproduced: a list param (a tuple field) from STRATEGIES_<NAME>_<KEY> was passed on
    as a string and refused; every field is now read by its type."""
    env = {"STRATEGIES_EVENT_DRIVEN_ALLOWED_RISK_LEVELS": value}
    cfg = tmp_path / "config.toml"
    cfg.write_text("")
    config = load_config(cfg, env=env)
    params = config.engine.strategies.event_driven.params
    assert params.allowed_risk_levels == ("low", "medium", "high")


@pytest.mark.parametrize(
    "args",
    [
        ["--markets"],
        ["serve", "--markets"],
        ["record", "--out", "t.jsonl", "--markets"],
        ["exchange", "--markets"],
        ["config", "show", "--markets"],
    ],
)
def test_every_markets_flag_stops_where_a_run_is_built_to(tmp_path: Path, args: list[str]) -> None:
    """One bound (engine.limits.MAX_MARKETS) for every --markets flag and both config keys:
    past it, one line naming the flag and the range."""
    result = invoke([*args, str(MAX_MARKETS + 1)], tmp_path)
    assert result.exit_code == 2, result.output
    assert f"1<=x<={MAX_MARKETS}" in result.stderr
    for text, key in (
        (f"emulator_markets = {MAX_MARKETS + 1}\n", "emulator_markets"),
        (f"[feed]\nmax_markets = {MAX_MARKETS + 1}\n", "feed.max_markets"),
    ):
        (tmp_path / "c.toml").write_text(text)
        with pytest.raises(ConfigError, match=f"{key}: .* less than or equal to {MAX_MARKETS}"):
            load_config(tmp_path / "c.toml", env={})

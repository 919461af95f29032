"""--sweep values are parsed by the key's type; a key or value the sweep cannot use is
one line naming it, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from polyterm.cli import main as polyterm_main
from polyterm.faces.sweep import SweepError, parse_axis, plan


def test_values_take_the_keys_type() -> None:
    assert parse_axis("strategy.threshold=0.4,0.5").values == (0.4, 0.5)
    assert parse_axis("strategies.mean_reversion.params.window=8, 12").values == (8, 12)
    flags = parse_axis("strategies.mean_reversion.enabled=true,false")
    assert flags.values == (True, False)


def test_every_combination_first_axis_slowest() -> None:
    variants = plan(["strategy.threshold=0.4,0.5", "strategies.mean_reversion.params.window=8,12"])
    assert [v.settings for v in variants] == [
        (("strategy.threshold", 0.4), ("strategies.mean_reversion.params.window", 8)),
        (("strategy.threshold", 0.4), ("strategies.mean_reversion.params.window", 12)),
        (("strategy.threshold", 0.5), ("strategies.mean_reversion.params.window", 8)),
        (("strategy.threshold", 0.5), ("strategies.mean_reversion.params.window", 12)),
    ]
    assert [v.ledger_name for v in variants][0] == "variant-01.sqlite"


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("strategy.nope=1,2", "no config key strategy.nope"),
        ("strategies.mean_reversion.params.window=8,x", "'x' is not an integer"),
        ("strategies.mean_reversion.enabled=yes", "not a bool"),
        ("strategy=1", "is a table"),
        ("strategy.threshold", "KEY=a,b,c"),
        ("strategy.threshold=0.4,0.4", "given twice"),
    ],
)
def test_bad_sweeps_say_what_is_wrong(spec: str, says: str) -> None:
    with pytest.raises(SweepError, match=None) as caught:
        plan([spec])
    assert says in str(caught.value)


def test_the_cli_refuses_bad_sweeps_in_one_line(tmp_path: Path) -> None:
    tape = tmp_path / "t.jsonl"
    tape.write_text('{"t": 1, "src": "ws", "frame": "[]"}\n')
    cases = [
        (["--sweep", "strategy.threshold=2,3"], "strategy.threshold"),  # out of range
        (["--sweep", "strategy.nope=1"], "no config key"),
        (["--jobs", "2"], "--jobs needs --sweep"),
        (["--sweep", "strategy.threshold=0.4", "--ledger", str(tmp_path / "x.db")], "--ledger"),
    ]
    for extra, says in cases:
        result = CliRunner().invoke(
            polyterm_main,
            ["backtest", "--tape", str(tape), *extra, "--ledger-dir", str(tmp_path / "d")]
            if "--jobs" not in extra
            else ["backtest", "--tape", str(tape), *extra],
            env={"POLYTERM_CONFIG_DIR": str(tmp_path / "cfg")},
        )
        assert result.exit_code == 2, (extra, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, (extra, result.output)
        assert says in lines[0], (extra, result.output)
    # A folder that already holds ledgers is refused before anything runs.
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "old.sqlite").write_bytes(b"")
    result = CliRunner().invoke(
        polyterm_main,
        [
            "backtest",
            "--tape",
            str(tape),
            "--sweep",
            "strategy.threshold=0.4",
            "--ledger-dir",
            str(taken),
        ],
        env={"POLYTERM_CONFIG_DIR": str(tmp_path / "cfg")},
    )
    assert result.exit_code == 2
    assert "already holds ledgers" in result.output

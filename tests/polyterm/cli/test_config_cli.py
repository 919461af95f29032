"""`polyterm config init | show | set | path | validate`, and the same strict settings on
every face (issue 15, defects 6 and 8): a run refuses them in one line, at once."""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from polyterm.cli.main import main
from polyterm.settings.config import AppConfig, load_config
from polyterm.settings.config_doc import setting_values
from tests.kit.process import run


def config(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    environ = {"POLYTERM_CONFIG_DIR": str(tmp_path / "cfg"), **env}
    result = CliRunner(env=environ).invoke(main, ["config", *args])
    return result.exit_code, result.stdout, result.stderr


def test_init_writes_every_key_commented_with_its_default_privately(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        code, out, _ = config(tmp_path, "init")
    finally:
        os.umask(old)
    path = tmp_path / "cfg" / "config.toml"
    assert (code, out.strip()) == (0, str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert tomllib.loads(text)  # valid TOML ...
    assert load_config(path, env={}) == AppConfig()  # ... that is the defaults
    for key, _ in setting_values(AppConfig()):
        name = key.rsplit(".", 1)[-1]
        assert f"# {name} = " in text, key
    assert "# max_markets = 8  # whole number, >= 1 and <= 1000" in text
    assert '# order_style = "take"  # one of "take", "rest"' in text
    code, _, err = config(tmp_path, "init")  # never over an existing file by accident
    assert code == 2
    assert "already exists; pass --force" in err


def test_show_says_where_each_value_came_from(tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.toml").write_text('[feed]\nrank_by = "liquidity"\n')
    environ = {"SERVICE_WS_SHARD_SIZE": "300"}
    code, out, _ = config(tmp_path, "show", "--json", "--markets", "4", **environ)
    assert code == 0
    settings = json.loads(out)["settings"]
    assert settings["feed.rank_by"] == {"value": "liquidity", "source": "file"}
    assert settings["feed.ws_shard_size"] == {"value": 300, "source": "env"}
    assert settings["feed.max_markets"] == {"value": 4, "source": "flag"}
    assert settings["paper.starting_cash"] == {"value": "1000", "source": "default"}
    code, out, _ = config(tmp_path, "show")
    [line] = [line for line in out.splitlines() if line.startswith("feed.rank_by ")]
    assert line.endswith('= "liquidity"  # file')


def test_set_checks_the_value_and_keeps_the_comments(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "config.toml"
    path.parent.mkdir()
    path.write_text("# my notes\n[feed]\nmax_markets = 8  # why eight\n")
    assert config(tmp_path, "set", "feed.max_markets", "12")[0] == 0
    assert config(tmp_path, "set", "strategy.order_size", '"20"')[0] == 0
    text = path.read_text()
    assert "# my notes" in text
    assert "max_markets = 12  # why eight" in text
    assert load_config(path, env={}).engine.strategy.order_size == 20
    before = path.read_text()
    for key, value, message in (
        ("offline", "no", "config offline: 'no' is not a boolean"),
        ("feed.max_markets", '"8"', "config feed.max_markets: '8' is not a whole number"),
        ("feed.max_marketz", "3", "config feed.max_marketz: is not a setting"),
        ("paper.starting_cash", '"1e9"', "more than the ledger holds"),
    ):
        code, _, err = config(tmp_path, "set", key, value)
        assert code == 2, key
        [line] = err.splitlines()
        assert message in line
    assert path.read_text() == before  # a refused value never reaches the file


def test_path_and_validate(tmp_path: Path) -> None:
    assert config(tmp_path, "path")[1].strip() == str(tmp_path / "cfg" / "config.toml")
    good = tmp_path / "good.toml"
    good.write_text("[feed]\nmax_markets = 3\n")
    code, out, _ = config(tmp_path, "validate", str(good))
    assert (code, out.strip()) == (0, f"{good}: ok")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'[console]\ntheme = "caf\xe9"\n')
    code, _, err = config(tmp_path, "validate", str(bad))
    assert code == 2
    assert err.splitlines() == [
        f"polyterm: error: {bad}: not UTF-8 text (byte 22); save it as UTF-8, or move it aside"
    ]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("text", "message"),
    [
        # Defect 6: overflowed the ledger at start, then hung (--duration never ended).
        ('[paper]\nstarting_cash = "1e9"\n', "config paper.starting_cash: 1E+9 is more than"),
        # Defect 8: refused by the console, accepted headless.
        ('[console]\ntheme = "nope"\n', "config console.theme: 'nope' is not a theme"),
        ('offline = "no"\n', "config offline: 'no' is not a boolean"),
    ],
)
def test_a_headless_run_refuses_bad_settings_in_one_line(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.toml").write_text(text)
    result = run(["--no-ui", "--duration", "3"], tmp_path, timeout=60)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("polyterm: error: ")
    assert message in line


@pytest.mark.integration
def test_an_invalid_poly_dry_run_exits_nonzero_in_a_line(tmp_path: Path) -> None:
    result = run(["--no-ui", "--duration", "3"], tmp_path, timeout=60, POLY_DRY_RUN="maybe")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "polyterm: error: POLY_DRY_RUN='maybe' is not a boolean: use true or false"
    ]

"""Strict settings (issue 15, defects 6, 7 and 8): nothing is coerced from a string into
a boolean or a count, numbers are finite, money fits the ledger, unknown keys and themes
the console would refuse are refused on every face; each refusal is one line naming the
key, where it came from and the fix."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from polyterm.settings.config import TEXTUAL_THEMES, ConfigError, load_config


def load(tmp_path: Path, text: str | bytes, **env: str) -> object:
    path = tmp_path / "config.toml"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return load_config(path, env=env)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('offline = "no"', "config offline: 'no' is not a boolean: write true or false"),
        ('offline = "yes"', "config offline: 'yes' is not a boolean"),
        ('emulator_seed = "7"', "config emulator_seed: '7' is not a whole number"),
        ('[feed]\nmax_markets = "8"', "config feed.max_markets: '8' is not a whole number"),
        ("[feed]\nmax_markets = 8.0", "config feed.max_markets: 8.0 is not a whole number"),
        ("[strategy]\nthreshold = nan", "config strategy.threshold: nan is not a finite number"),
        (
            "[strategies.mean_reversion.params]\nentry_z = inf",
            "config strategies.mean_reversion.params.entry_z: inf is not a finite number",
        ),
        ('[risk]\nmax_total_exposure = "1e400"', "more than the ledger holds"),
        ('[paper]\nstarting_cash = "1e9"', "config paper.starting_cash: 1E+9 is more than"),
        ('[paper]\nstarting_cash = "NaN"', "config paper.starting_cash: 'NaN' is not a finite"),
        ("[paper]\nstarting_cash = true", "config paper.starting_cash: a decimal amount"),
        ('[risk]\nmax_order_shares = "1.0000001"', "has more than 6 decimal places"),
        ("[feed]\nmax_marketz = 3", "config feed.max_marketz: is not a setting"),
        ('[risk]\nstrategy_sizes = { mean_revrsion = "8" }', "'mean_revrsion' is not a strategy"),
        ('[console]\ntheme = "nope"', "config console.theme: 'nope' is not a theme"),
    ],
)
def test_a_value_of_the_wrong_kind_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load(tmp_path, text)
    line = str(refused.value)
    assert message in line
    assert "\n" not in line
    assert f"(in {tmp_path / 'config.toml'})" in line or "config:" in line


def test_amounts_keep_taking_decimal_strings_and_numbers(tmp_path: Path) -> None:
    app = load(
        tmp_path,
        '[strategy]\norder_size = "20"\n[risk]\nmax_order_shares = 25\n'
        "[paper]\nstarting_cash = 2500.5\n[strategies.mean_reversion.params]\nentry_z = 2\n",
    )
    engine = app.engine  # type: ignore[attr-defined]
    assert engine.strategy.order_size == Decimal(20)
    assert engine.risk.max_order_shares == Decimal(25)
    assert engine.paper.starting_cash == Decimal("2500.5")
    assert engine.strategies.mean_reversion.params.entry_z == 2.0


def test_environment_values_are_read_by_their_type(tmp_path: Path) -> None:
    app = load(tmp_path, "", SERVICE_MAX_MARKETS="12", POLY_OFFLINE_MODE="false")
    assert app.engine.feed.max_markets == 12  # type: ignore[attr-defined]
    assert app.offline is False  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match=r"SERVICE_MAX_MARKETS='twelve' is not a whole number"):
        load(tmp_path, "", SERVICE_MAX_MARKETS="twelve")
    with pytest.raises(ConfigError, match=r"STRATEGY_THRESHOLD='nan' is not a finite number"):
        load(tmp_path, "", STRATEGY_THRESHOLD="nan")
    with pytest.raises(ConfigError, match=r"POLY_DRY_RUN='maybe' is not a boolean"):
        load(tmp_path, "", POLY_DRY_RUN="maybe")


def test_a_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    """Defect 7: a UnicodeDecodeError traceback."""
    with pytest.raises(ConfigError) as refused:
        load(tmp_path, b'[console]\ntheme = "caf\xe9"\n')
    assert str(refused.value) == (
        f"{tmp_path / 'config.toml'}: not UTF-8 text (byte 22); save it as UTF-8, or move it aside"
    )


def test_the_theme_names_are_textuals_own() -> None:
    from textual.theme import BUILTIN_THEMES

    assert set(BUILTIN_THEMES) == TEXTUAL_THEMES


def test_a_private_key_in_the_wallet_table_is_refused_without_being_quoted(
    tmp_path: Path,
) -> None:
    from tests.kit import secrets

    with pytest.raises(ConfigError) as refused:
        load(tmp_path, f'[wallet]\nfunder = "{secrets.OTHER_KEY}"')
    assert secrets.leaks([str(refused.value)]) == []
    assert "config wallet.funder: " in str(refused.value)
    assert "looks like a private key" in str(refused.value)


def test_the_ledger_path_is_a_file_and_a_tilde_is_the_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ledger = ""` used to pass validation and end the run in a ValueError traceback;
    `ledger = "~/x.sqlite"` made a directory named "~" wherever polyterm was started."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "config.toml").write_text('ledger = "~/runs/l.sqlite"\n')
    app = load_config(tmp_path / "config.toml", env={})
    assert app.ledger == tmp_path / "home" / "runs" / "l.sqlite"
    for text, why in (
        ('ledger = ""', "config ledger: is empty"),
        (f'ledger = "{tmp_path}"', f"config ledger: {tmp_path} is a directory"),
    ):
        with pytest.raises(ConfigError) as refused:
            load(tmp_path, text)
        assert str(refused.value).startswith(why)
        assert "\n" not in str(refused.value)

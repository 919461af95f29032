"""The README's configuration example is a config.toml that loads, key for key: a key
renamed in the code, or a typo in the README, fails here instead of on a user's machine."""

from __future__ import annotations

import re
from pathlib import Path

from polyterm.settings.config import load_config

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_configuration_example_loads(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Configuration") :]
    match = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    assert match is not None, "no ```toml block under ## Configuration"
    cfg = tmp_path / "config.toml"
    cfg.write_text(match.group(1), encoding="utf-8")
    app = load_config(cfg, env={})
    engine = app.engine
    assert app.watch == ()
    assert app.console.prices == "cents"
    # The example shows the defaults: a few of the ones the issues name, as written there.
    assert engine.strategies.cross_market_arbitrage.weight == 0
    assert [t.max_spread_bps for t in engine.strategy.spread_volume_tiers] == [1000, 600, 400]
    assert engine.strategies.event_driven.params.allowed_risk_levels == ("low", "medium")
    assert engine.trading.daily_loss_limit_pct == 5.0

"""`report drift`: a live run's orders against the paper model's shadow, on a hand-made
ledger (tests/kit/ledgers.py, drift_ledger) whose figures were worked out by hand:

    L1 BUY 100: venue 60 @ 50c (+10 s, fee 1) and 40 @ 55c -> avg 52c; paper 100 @ 50c
       (+2 s): +400 bps (the venue paid more), size diff 0, to-fill diff +8 s
    L2 SELL 100: venue 100 @ 61c (+5 s); paper 100 @ 60c (+1 s): -(1/60) x 1e4 =
       -166.67 bps (the venue got more), to-fill diff +4 s
    L3 BUY 50: venue nothing; paper 50 @ 40c        L4 BUY 20: venue 20 @ 40c; paper nothing
    L5 has no shadow: not compared.

Ordered 270, venue filled 220 (81.48%), paper 250 (92.59%): -11.11 points. Price diff
mean = median = (400 - 166.67) / 2 = 116.67 bps; to-fill diff mean = median = 6 s.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from polyterm.cli import main as polyterm_main
from polyterm.reports.kinds.drift import NOTHING
from tests.kit.ledgers import drift_ledger, empty_ledger, golden_ledger


def invoke(ledger: Path, fmt: str = "json") -> Result:
    # Wide: a table must not wrap what a test looks for (pytest's temp paths are long).
    return CliRunner().invoke(
        polyterm_main,
        ["report", "drift", "--ledger", str(ledger), "--format", fmt],
        env={"COLUMNS": "240"},
    )


def report(ledger: Path) -> dict:  # type: ignore[type-arg]
    result = invoke(ledger)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return drift_ledger(tmp_path_factory.mktemp("drift") / "live.sqlite")


def test_drift_totals_match_the_hand_computed_figures(ledger: Path) -> None:
    r = report(ledger)
    assert (r["orders"], r["both_filled"], r["venue_only"], r["shadow_only"]) == (4, 2, 1, 1)
    assert (r["ordered_shares"], r["venue_filled_shares"], r["shadow_filled_shares"]) == (
        "270",
        "220",
        "250",
    )
    assert r["venue_fill_rate_pct"] == round(100 * 220 / 270, 4)
    assert r["shadow_fill_rate_pct"] == round(100 * 250 / 270, 4)
    assert r["fill_rate_diff_pct"] == round(100 * 220 / 270 - 100 * 250 / 270, 4)
    expected_bps = (400 - 1e4 / 60) / 2
    assert r["mean_price_diff_bps"] == pytest.approx(expected_bps, abs=0.01)
    assert r["median_price_diff_bps"] == pytest.approx(expected_bps, abs=0.01)
    assert r["mean_time_to_fill_diff_s"] == 6.0
    assert r["median_time_to_fill_diff_s"] == 6.0


def test_drift_per_order_rows(ledger: Path) -> None:
    rows = {row["order_id"]: row for row in report(ledger)["tables"]["orders"]}
    assert sorted(rows) == ["L1", "L2", "L3", "L4"]  # L5 had no shadow
    l1 = rows["L1"]
    assert (l1["venue_filled"], l1["venue_price"], l1["venue_fees"]) == ("100", "0.52", "1")
    assert (l1["shadow_filled"], l1["shadow_price"], l1["shadow_fees"]) == ("100", "0.5", "0")
    assert (l1["venue_time_to_fill_s"], l1["shadow_time_to_fill_s"]) == (10.0, 2.0)
    assert (l1["size_diff"], l1["price_diff_bps"], l1["time_to_fill_diff_s"]) == ("0", 400.0, 8.0)
    l2 = rows["L2"]
    assert l2["price_diff_bps"] == pytest.approx(-1e4 / 60, abs=0.01)
    assert l2["time_to_fill_diff_s"] == 4.0
    l3, l4 = rows["L3"], rows["L4"]
    assert (l3["venue_filled"], l3["venue_price"], l3["shadow_price"]) == ("0", None, "0.4")
    assert (l3["size_diff"], l3["price_diff_bps"], l3["time_to_fill_diff_s"]) == ("-50", None, None)
    assert l3["venue_status"] == "cancelled"
    assert (l4["size_diff"], l4["shadow_time_to_fill_s"]) == ("20", None)


@pytest.mark.parametrize("fmt", ["table", "csv", "jsonl", "md", "html"])
def test_drift_in_every_format(ledger: Path, fmt: str) -> None:
    result = invoke(ledger, fmt)
    assert result.exit_code == 0, result.output
    assert "L1" in result.output
    if fmt == "jsonl":
        lines = [json.loads(line) for line in result.output.splitlines()]
        assert sum(1 for line in lines if line.get("section") == "orders") == 4
    if fmt == "html":
        assert result.output.count('class="chart"') == 1


@pytest.mark.parametrize("make", [empty_ledger, golden_ledger], ids=["new", "paper-only"])
def test_a_ledger_with_nothing_live_is_a_valid_report(make, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ledger = make(tmp_path / "l.sqlite")
    r = report(ledger)
    assert r["orders"] == 0
    assert r["mean_price_diff_bps"] is None
    assert r["tables"]["orders"] == []
    assert NOTHING in json.dumps(r)
    html = invoke(ledger, "html")
    assert html.exit_code == 0
    assert html.output.count('class="chart"') == 1  # drawn, empty


def test_drift_keeps_to_the_scope(ledger: Path) -> None:
    """Orders are in scope by when they were placed (all four on 2026-01-01)."""
    for args, n in (
        (["--run", "1"], 4),
        (["--date", "2026-01-01"], 4),
        (["--date", "2026-01-02"], 0),
    ):
        result = CliRunner().invoke(
            polyterm_main,
            ["report", "drift", "--ledger", str(ledger), "--format", "json", *args],
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["orders"] == n

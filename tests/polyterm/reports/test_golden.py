"""Golden figures: a hand-made ledger (tests/kit/ledgers.py) whose every figure was worked
out by hand, matched exactly by `polyterm report ... --format json`.

The ledger, starting cash 1000 USDC, runs 2026-01-01 00:00 to 2026-01-03 12:00 UTC:

    day 1 09:00  buy A 100 @ 40c, fee 2            equity curve (closed trades): -2
    day 1 10:00  sell A @ 60c: take profit +20                                     +18  peak
    day 1 12:00  buy/sell B 50c -> 40c: stop loss -10                              +8   low
    day 2 10:00  M2 settles: C (100 @ 60c) won +40, D (50 @ 60c) lost -30          +18  back
    day 3 10:00  buy/sell A 50c -> 45c: stop loss -5                               +13

Trades +20, -10, +40, -30, -5 (sum 15), entry fees 2: realised 13, return 1.3%.
Max drawdown 10 from the peak at 1018 (day 1 10:00) to day 1 12:00: 0.9823%, 2 h,
recovered day 2 10:00. Daily PnL 8, 10, -5 on equity 1000, 1008, 1018.
Brier over M2's buys (the one resolved market): (100 x 0.4^2 + 50 x 0.6^2) / 150.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from polyterm.cli import main as polyterm_main
from tests.kit.ledgers import golden_ledger


def report(ledger: Path, *args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(
        polyterm_main, ["report", *args, "--ledger", str(ledger), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return golden_ledger(tmp_path_factory.mktemp("golden") / "golden.sqlite")


def _sd(xs: list[float]) -> float:
    mean = sum(xs) / len(xs)
    return math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))


def test_summary_money_figures_are_exact(ledger: Path) -> None:
    s = report(ledger, "summary")
    assert s["starting_equity"] == "1000"
    assert s["final_equity"] == "1013"  # recorded, not re-marked
    assert s["realized_pnl"] == "13"
    assert s["fees"] == "2"
    assert s["fills"] == 8
    assert s["volume"] == "375"  # 40 + 60 + 50 + 40 + 60 + 30 + 50 + 45
    assert s["trades"] == 5
    assert (s["wins"], s["losses"]) == (2, 3)
    assert s["win_rate_pct"] == 40.0
    assert s["profit_factor"] == round(60 / 45, 4)
    assert s["expectancy"] == "3"
    assert (s["avg_win"], s["avg_loss"]) == ("30", "-15")
    assert (s["best_trade"], s["worst_trade"]) == ("40", "-30")
    assert s["return_pct"] == 1.3
    assert (s["best_day"], s["best_day_pnl"]) == ("2026-01-02", "10")
    assert (s["worst_day"], s["worst_day_pnl"]) == ("2026-01-03", "-5")


def test_summary_drawdown_and_its_duration(ledger: Path) -> None:
    s = report(ledger, "summary")
    assert s["max_drawdown"] == "10"
    assert s["max_drawdown_pct"] == round(100 * 10 / 1018, 4)
    assert s["max_drawdown_start"] == "2026-01-01T10:00:00+00:00"
    assert s["max_drawdown_end"] == "2026-01-01T12:00:00+00:00"
    assert s["max_drawdown_duration_s"] == 7200.0
    assert s["max_drawdown_recovered"] == "2026-01-02T10:00:00+00:00"


def test_summary_ratios(ledger: Path) -> None:
    s = report(ledger, "summary")
    daily = [8 / 1000, 10 / 1008, -5 / 1018]
    mean = sum(daily) / 3
    assert s["sharpe_daily"] == round(mean / _sd(daily) * math.sqrt(365), 4)
    assert s["sortino_daily"] == round(mean / math.sqrt(daily[2] ** 2 / 3) * math.sqrt(365), 4)
    per_trade = [20 / 40, -10 / 50, 40 / 60, -30 / 30, -5 / 50]
    m = sum(per_trade) / 5
    assert s["sharpe_trade"] == round(m / _sd(per_trade), 4)
    down = sum(min(r, 0) ** 2 for r in per_trade) / 5
    assert s["sortino_trade"] == round(m / math.sqrt(down), 4)
    pnl = [20, -10, 40, -30, -5]
    assert s["sqn"] == round(math.sqrt(5) * 3 / _sd(pnl), 4)
    assert s["calmar"] == round((1.3 * 365 / 3) / (100 * 10 / 1018), 4)
    # Closed lots held 1 h each on three days (settlements record no holding time),
    # over a 60 h scope; 40, 50 and 50 USDC of cost held for an hour each.
    assert s["time_in_market_pct"] == 5.0
    assert s["exposure_pct"] == round(100 * 140 * 3600 / (60 * 3600 * 1000), 4)
    assert (s["max_win_streak"], s["max_loss_streak"]) == (1, 2)
    assert (s["avg_win_holding_s"], s["avg_loss_holding_s"]) == (1800.0, 2400.0)


def test_summary_days_and_rejects(ledger: Path) -> None:
    s = report(ledger, "summary")
    assert [(d["day"], d["pnl"], d["trades"]) for d in s["tables"]["days"]] == [
        ("2026-01-01", "8", 2),
        ("2026-01-02", "10", 2),
        ("2026-01-03", "-5", 1),
    ]
    assert s["tables"]["rejected_entries"] == [
        {"reason": "order_rate_limit", "count": 2},
        {"reason": "position below the market's minimum order size (dust)", "count": 1},
    ]


def test_calibration_brier(ledger: Path) -> None:
    c = report(ledger, "calibration")
    assert c["resolved_markets"] == 1
    assert c["fills"] == 2
    assert c["brier"] == round((100 * 0.4**2 + 50 * 0.6**2) / 150, 4)
    assert c["tables"]["strategies"] == [
        {"strategy": "s2", "fills": 2, "shares": 150.0, "brier": round(34 / 150, 4)}
    ]
    [bucket] = c["tables"]["buckets"]
    assert (bucket["low"], bucket["high"]) == ("0.6", "0.7")
    assert bucket["won"] == round(100 / 150, 4)


def test_exits_share_take_profit_and_stop_loss_first(ledger: Path) -> None:
    e = report(ledger, "exits")
    assert [(r["id"], r["exits"], r["pnl"]) for r in e["tables"]["reasons"]] == [
        ("take_profit", 1, "20"),
        ("stop_loss", 2, "-15"),
        ("settlement", 2, "10"),
    ]
    assert e["tp_sl_share_pct"] == 60.0
    assert e["tables"]["worst_markets"] == []  # M1 made +5 net of trades, M2 +10


def test_a_run_scope_and_a_day_scope(ledger: Path) -> None:
    day2 = report(ledger, "summary", "--date", "2026-01-02")
    assert day2["starting_equity"] == "1008"  # realised before the day counts
    assert day2["realized_pnl"] == "10"
    assert day2["trades"] == 2
    assert day2["final_equity"] is None  # the run ended on day 3
    assert report(ledger, "summary", "--run", "1")["realized_pnl"] == "13"
    assert report(ledger, "summary", "--run", "2")["trades"] == 0

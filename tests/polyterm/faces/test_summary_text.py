"""The text faces a person reads (the run summary, `ctl status`, the headless status line)
print figures in the one convention: money with cents, prices in cents with one decimal,
no Python repr (None, lists of dicts, empty `source=,`), never ten decimals. The JSON
summary keeps plain decimals."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from decimal import Decimal

from engine.exit_reasons import ExitReason
from engine.runtime.snapshot import KillSwitchRow, RateWindowRow, StrategyRow, Telemetry
from engine.runtime.summary import summary_dict
from polyterm.faces.headless import status_line
from polyterm.faces.summary_text import print_summary, summary_lines
from tests.kit.snapshots import blank_snapshot

# What a Python repr or an unformatted figure looks like in text.
REPR = re.compile(r"None|\[\{|\{'|'\}|Decimal\(|=,|=\s*$|\(\)|\[\]")
TOO_PRECISE = re.compile(r"\d\.\d{3,}")  # more than two decimals (prices have one)


def ugly_snapshot():  # type: ignore[no-untyped-def]
    """A snapshot whose figures have every decimal the engine keeps, and empty parts."""
    snap = blank_snapshot(
        realized_pnl=Decimal("-0.7008180000"),
        unrealized_pnl=Decimal("0.0001230000"),
        equity=Decimal("999.2991820000"),
        cash=Decimal("993.0862557000"),
        starting_cash=Decimal("1000"),
        fees=Decimal("0.0231700000"),
        exit_kinds=((ExitReason.STOP_LOSS, 3), (ExitReason.SIGNAL, 2)),
        exit_reasons=(("reverted to mean (z=+0.58)", 2), ("stop_loss", 3)),
        rate_windows=(RateWindowRow("global", "", 20, 30, 60.0, 12.5),),
        strategies=(
            StrategyRow(
                "mean_reversion",
                0.5,
                10,
                0,
                4,
                6,
                Decimal("-0.7008180000"),
                Decimal("0.0001230000"),
                Decimal("-0.7006950000"),
                Decimal("0.2100000000"),
                Decimal("0.0231700000"),
                Decimal("-0.4675250000"),
            ),
        ),
    )
    telemetry = Telemetry(4, 2, 5, 1, Decimal("0.02317"), Decimal("6.2129263157"), 12.3456, 1, 4, 2)
    kill = KillSwitchRow(
        "tripped",
        Decimal("1000.0000000000"),
        Decimal("0.7008180000"),
        Decimal("50"),
        1_700_000_000.5,
        None,
        0.5,
        None,
        None,
    )
    return replace(snap, telemetry=telemetry, kill_switch=kill)


def test_the_summary_in_words_has_no_repr_and_no_long_decimals() -> None:
    summary = summary_dict(ugly_snapshot())
    summary["ledger"] = "/tmp/l.sqlite"
    summary["frame_to_order_us"] = {"p50": 12.345, "p99": 80.0, "max": 123.4}
    text = "\n".join(summary_lines(summary))
    for line in text.splitlines():
        assert not REPR.search(line), line
        assert not TOO_PRECISE.search(line), line
    assert "realized pnl     -0.70" in text
    assert "avg notional 6.21" in text
    assert "avg slippage +12.3 bps" in text
    assert "exits by reason  stop loss 3, strategy exit 2" in text
    assert "rate windows     global 20/30" in text
    assert "tripped at 2023-11-14 22:13:20 UTC" in text
    assert "sentiment        headlines 0, markets 0" in text  # no `source=,`
    assert "error            none" in text


def test_the_json_summary_keeps_plain_decimals() -> None:
    out = io.StringIO()
    summary = summary_dict(ugly_snapshot())
    print_summary(summary, out, as_json=True)
    data = json.loads(out.getvalue())
    assert data["realized_pnl"] == "-0.7008180000"
    assert data["telemetry"]["avg_notional"] == "6.2129263157"


def test_the_status_line_has_money_with_cents() -> None:
    line = status_line(ugly_snapshot())
    assert "pnl=-0.70 equity=999.30" in line
    assert not TOO_PRECISE.search(line), line
    assert not REPR.search(line), line

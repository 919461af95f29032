"""Every kind in every format on a ledger from an offline run (an emulator tape
backtested, its markets resolved at the end), and raw exports equal to the ledger."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from engine.fixed import cash_decimal, price_decimal, size_decimal
from polyterm.cli import main as polyterm_main
from polyterm.reports import KINDS
from polyterm.reports.render import FORMATS
from tests.kit.ledgers import golden_ledger, offline_ledger

pytestmark = pytest.mark.integration  # an engine run over a tape (a few seconds)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return offline_ledger(tmp_path_factory.mktemp("offline"))


def invoke(*args: str) -> Result:
    return CliRunner().invoke(polyterm_main, ["report", *args])


def _paths(kind: str, ledger: Path) -> list[str]:
    if kind == "compare":
        return [str(ledger), str(ledger)]
    if kind == "sweep":
        return [str(ledger.parent)]
    return ["--ledger", str(ledger)]


def _check(fmt: str, text: str, charts: int) -> None:
    assert text.strip(), "an empty report"
    if fmt == "json":
        assert isinstance(json.loads(text), dict)
    elif fmt == "jsonl":
        for line in text.splitlines():
            assert isinstance(json.loads(line), dict)
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert rows
        assert rows[0]
    elif fmt == "md":
        assert text.startswith("# ")
    elif fmt == "html":
        assert text.startswith("<!DOCTYPE html>")
        assert text.rstrip().endswith("</html>")
        assert text.count('class="chart"') == charts
        assert "http://" not in text.split("<script>")[0]  # nothing fetched to draw it


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_in_every_format(kind: str, ledger: Path, tmp_path: Path) -> None:
    documents = {}
    for fmt in FORMATS:
        out = tmp_path / f"{kind}.{fmt}"
        result = invoke(kind, *_paths(kind, ledger), "--format", fmt, "--out", str(out))
        assert result.exit_code == 0, result.output
        documents[fmt] = out.read_text(encoding="utf-8")
        assert out.stat().st_mode & 0o777 == 0o600
    expected_charts = documents["html"].count("Plotly.newPlot(")
    for fmt, text in documents.items():
        _check(fmt, text, expected_charts)
    doc = json.loads(documents["json"])
    assert doc["kind"] == kind
    if kind not in ("compare", "sweep"):
        assert doc["mode"] == "paper"  # the mode is in every report's header


def test_summary_agrees_with_the_runs_own_summary(ledger: Path) -> None:
    result = invoke("summary", "--ledger", str(ledger), "--format", "json")
    doc = json.loads(result.output)
    (summary_json,) = sqlite3.connect(ledger).execute("SELECT summary_json FROM runs").fetchone()
    run = json.loads(summary_json)
    assert doc["fees"] == run["fees"]
    assert doc["fills"] == run["fills"] > 0
    assert doc["final_equity"] == run["equity"]
    assert doc["realized_pnl"] == run["realized_pnl"]


@pytest.mark.parametrize("table", ["orders", "fills"])
def test_jsonl_exports_equal_the_ledgers_rows(table: str, ledger: Path) -> None:
    result = invoke(table, "--ledger", str(ledger), "--format", "jsonl")
    assert result.exit_code == 0
    exported = [json.loads(line) for line in result.output.splitlines()]
    conn = sqlite3.connect(ledger)
    names = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    rows = conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
    assert len(exported) == len(rows) > 0
    money = {
        "price": price_decimal,
        "decision_mid": price_decimal,
        "size": size_decimal,
        "filled": size_decimal,
        "fee": cash_decimal,
    }
    for line, row in zip(exported, rows, strict=True):
        assert list(line) == names
        for name, value in zip(names, row, strict=True):
            if name in money and value is not None:
                assert money[name](value) == type(money[name](0))(line[name]), name
            else:
                assert line[name] == value, name


def test_compare_puts_ledgers_side_by_side(ledger: Path, tmp_path: Path) -> None:
    golden = golden_ledger(tmp_path / "golden.sqlite")
    result = invoke("compare", str(ledger), str(golden), "--format", "json")
    rows = json.loads(result.output)["tables"]["ledgers"]
    assert [r["ledger"] for r in rows] == [str(ledger), str(golden)]
    assert rows[1]["realized_pnl"] == "13"

"""Report tables follow the console's number convention: prices in cents with one
decimal (52.3¢) or dollars (0.523), shares with two decimals, money with cents, and never
a Python repr (None, [..], {..}, Decimal(...)) where a person reads.

Two things keep their own precision: a Brier score (a squared error, four decimals as
forecasters write it) and the raw exports' `reason` text, which is the ledger's record of
what a strategy said (its words are not re-typeset)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from polyterm.cli import main as polyterm_main
from polyterm.reports import KINDS
from tests.kit.ledgers import offline_ledger

pytestmark = pytest.mark.integration  # an engine run over a tape (a few seconds)

REPR = re.compile(r"\bNone\b|\[\{|\{'|\bDecimal\(|\bnan\b|\binf\b")
# A number with three or more decimals is a dollar price (0.523) and nothing else; four
# or more is never right in a table.
LONG = re.compile(r"(?<![\w.])\d+\.\d{4,}(?![\w.])")
CENTS = re.compile(r"\d+\.\d{2,}¢")  # cents carry one decimal
BRIER_KINDS = {"calibration", "compare", "sweep"}
RAW_EXPORTS = {"orders", "fills"}
BRIER = re.compile(r"(?<![\w.])[01]\.\d{4}(?![\w.\d])")


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return offline_ledger(tmp_path_factory.mktemp("offline"))


def _args(kind: str, ledger: Path) -> list[str]:
    if kind == "compare":
        return [str(ledger), str(ledger)]
    if kind == "sweep":
        return [str(ledger.parent)]
    return ["--ledger", str(ledger)]


@pytest.mark.parametrize("prices", ["cents", "dollars"])
@pytest.mark.parametrize("fmt", ["table", "md"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_report_tables_use_the_number_convention(
    kind: str, fmt: str, prices: str, ledger: Path
) -> None:
    result = CliRunner().invoke(
        polyterm_main,
        ["report", kind, *_args(kind, ledger), "--format", fmt, "--prices", prices],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    text = result.output
    # Paths and ids are not numbers a person reads as figures.
    text = text.replace(str(ledger.parent), "<dir>")
    text = re.sub(r"0x[0-9a-fA-F]+|\b\d{12,}\b", "<id>", text)
    assert not REPR.search(text), REPR.search(text)
    if kind in RAW_EXPORTS:
        return
    if kind in BRIER_KINDS:
        text = BRIER.sub("<brier>", text)
    assert not LONG.search(text), LONG.search(text)
    if prices == "dollars":
        assert "¢" not in text
    else:
        assert not CENTS.search(text), CENTS.search(text)

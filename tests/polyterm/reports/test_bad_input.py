"""Bad input: an empty result is a valid report (exit 0); an unknown kind, a file that
is not a ledger, a newer schema, an unwritable --out: exit 2 with one line, no traceback,
no file left behind."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from polyterm.cli import main as polyterm_main
from polyterm.reports import KINDS
from tests.kit.ledgers import empty_ledger, golden_ledger


def invoke(*args: str) -> Result:
    # Wide: a table must not wrap what a test looks for (pytest's temp paths are long).
    return CliRunner().invoke(polyterm_main, ["report", *args], env={"COLUMNS": "240"})


def one_line_error(result: Result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # not a traceback
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("polyterm: error: ")
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize("kind", [k for k, s in KINDS.items() if not s.many])
@pytest.mark.parametrize("fmt", ["json", "html", "csv"])
def test_a_new_ledger_is_a_valid_empty_report(kind: str, fmt: str, tmp_path: Path) -> None:
    ledger = empty_ledger(tmp_path / "new.sqlite")
    out = tmp_path / f"out.{fmt}"
    result = invoke(kind, "--ledger", str(ledger), "--format", fmt, "--out", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.strip()
    if fmt == "json":
        doc = json.loads(text)
        assert doc["kind"] == kind
        if kind not in ("orders", "fills"):
            assert doc["empty"]  # says so


def test_a_period_with_no_trades_is_a_valid_report(tmp_path: Path) -> None:
    ledger = golden_ledger(tmp_path / "g.sqlite")
    result = invoke("summary", "--ledger", str(ledger), "--date", "2025-06-01", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert doc["trades"] == 0
    assert doc["empty"]


def test_an_unknown_kind(tmp_path: Path) -> None:
    one_line_error(invoke("nosuch", "--ledger", str(tmp_path / "x")), "unknown report kind")


def test_a_file_that_is_not_a_ledger(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 100)
    one_line_error(invoke("summary", "--ledger", str(text)), str(text))
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    one_line_error(invoke("summary", "--ledger", str(other)), "not a polyterm ledger")
    one_line_error(invoke("summary", "--ledger", str(tmp_path / "missing.sqlite")), "no ledger")


def test_a_ledger_from_a_newer_schema(tmp_path: Path) -> None:
    ledger = golden_ledger(tmp_path / "g.sqlite")
    newer = tmp_path / "newer.sqlite"
    shutil.copy(ledger, newer)
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    one_line_error(invoke("summary", "--ledger", str(newer)), "newer polyterm")


def test_an_unwritable_out_leaves_no_file(tmp_path: Path) -> None:
    ledger = golden_ledger(tmp_path / "g.sqlite")
    missing = tmp_path / "nowhere" / "r.html"
    one_line_error(invoke("summary", "--ledger", str(ledger), "--out", str(missing)), "--out")
    one_line_error(invoke("summary", "--ledger", str(ledger), "--out", str(tmp_path)), "--out")
    assert not missing.parent.exists()
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = invoke("summary", "--ledger", str(ledger), "--out", str(locked / "r.json"))
        if result.exit_code == 0:  # root ignores directory permissions
            pytest.skip("running as root: a read-only directory is still writable")
        one_line_error(result, "--out")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_bad_scopes_are_one_line(tmp_path: Path) -> None:
    ledger = str(golden_ledger(tmp_path / "g.sqlite"))
    one_line_error(invoke("summary", "--ledger", ledger, "--since", "yesterday"), "--since")
    one_line_error(invoke("summary", "--ledger", ledger, "--date", "01/02/2026"), "--date")
    one_line_error(invoke("summary", "--ledger", ledger, "--tz", "Mars/Olympus"), "--tz")
    one_line_error(
        invoke("summary", "--ledger", ledger, "--run", "1", "--since", "1h"), "choose one"
    )
    one_line_error(invoke("compare"), "two or more ledgers")


HOSTILE_QUESTION = (
    "Will [/] the \x1b]52;c;cHduZWQ=\x07 Fed \x1b[2J[link=https://evil.example]cut[/link]?"
)


@pytest.mark.parametrize("fmt", ["table", "md"])
def test_market_text_reaches_the_terminal_as_text(fmt: str, tmp_path: Path) -> None:
    """A market's question is the venue's (or a shared tape's) text: rich markup in it
    ended `report --format table` in a MarkupError traceback, and escape sequences in it
    went to the terminal raw (OSC 52 writes the clipboard)."""
    ledger = golden_ledger(tmp_path / "g.sqlite")
    with sqlite3.connect(ledger) as conn:
        conn.execute("UPDATE markets SET question = ?", (HOSTILE_QUESTION,))
    result = invoke("markets", "--ledger", str(ledger), "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output
    assert "\x07" not in result.output
    assert "Will [/] the" in result.output  # shown as written, not as markup

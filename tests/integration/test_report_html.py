"""The HTML report opened in headless Chromium (Debian's package): every chart drawn,
no console error, nothing fetched; a screenshot kept under the test's tmp dir."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from polyterm.cli import main as polyterm_main
from tests.kit.cdp import CHROMIUM, chromium_page
from tests.kit.ledgers import empty_ledger, offline_ledger
from tests.kit.programs import need

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def chromium_installed() -> None:
    """Skipped without Chromium on a developer's machine; a failure under CI."""
    need(str(CHROMIUM))


# Before the page: keep every console error and uncaught error where the test can read it.
WATCH = r"""
window.__errors = [];
const keep = (what) => window.__errors.push(String(what));
const original = console.error;
console.error = (...args) => { keep(args.join(" ")); original.apply(console, args); };
window.addEventListener("error", (e) => keep(e.message || e));
window.addEventListener("unhandledrejection", (e) => keep(e.reason));
"""

CHARTS = 6  # equity + underwater, daily PnL, by strategy, exit reasons, calibration, MAE/MFE


def html_report(ledger: Path, out: Path) -> Path:
    result = CliRunner().invoke(
        polyterm_main,
        ["report", "summary", "--ledger", str(ledger), "--format", "html", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    return out


def drawn(path: Path, shot: Path) -> dict[str, object]:
    with chromium_page(path.resolve().as_uri(), script=WATCH) as page:
        deadline = time.monotonic() + 60
        counts: dict[str, object] = {}
        while time.monotonic() < deadline:
            counts = page.evaluate(
                "({charts: document.querySelectorAll('div.chart').length,"
                " plots: document.querySelectorAll('div.chart.js-plotly-plot').length,"
                " svgs: [...document.querySelectorAll('div.chart')].filter("
                "   d => d.querySelector('svg.main-svg .cartesianlayer, svg.main-svg .pielayer')"
                " ).length,"
                " traces: document.querySelectorAll('div.chart g.trace').length,"
                " errors: window.__errors,"
                " fetched: performance.getEntriesByType('resource').map(e => e.name)})"
            )
            if counts["svgs"] == counts["charts"] and counts["charts"]:
                break
            time.sleep(0.25)
        page.screenshot(shot)
    print(f"screenshot: {shot}")
    return counts


def test_every_chart_is_drawn_without_errors(tmp_path: Path) -> None:
    ledger = offline_ledger(tmp_path)
    page = drawn(html_report(ledger, tmp_path / "summary.html"), tmp_path / "summary.png")
    assert page["charts"] == page["plots"] == page["svgs"] == CHARTS, page
    assert page["traces"] >= CHARTS  # type: ignore[operator]
    assert page["errors"] == []
    assert page["fetched"] == []  # self-contained: nothing loaded from anywhere
    assert (tmp_path / "summary.png").stat().st_size > 10_000


def test_charts_with_no_data_are_drawn_not_omitted(tmp_path: Path) -> None:
    ledger = empty_ledger(tmp_path / "new.sqlite")
    page = drawn(html_report(ledger, tmp_path / "empty.html"), tmp_path / "empty.png")
    assert page["charts"] == page["plots"] == page["svgs"] == CHARTS, page
    assert page["errors"] == []

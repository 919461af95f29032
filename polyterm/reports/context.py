"""What every kind is given: the ledger, one read snapshot over it, the scope."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from engine.ledger.analytics import LedgerAnalytics, RunRow
from engine.ledger.reader import LedgerReader
from polyterm.reports.document import Figure
from polyterm.reports.reasons import reason_id
from polyterm.reports.scope import ReportScope

CHART_POINTS = 2000  # points at most on a curve drawn in HTML
SCATTER_POINTS = 5000  # trades at most in a scatter


@dataclass(slots=True)
class Context:
    ledger: Path
    analytics: LedgerAnalytics
    scope: ReportScope
    names: dict[str, tuple[str, str, bool, dict[str, str]]]  # markets, see market_names()
    charts: bool = True  # build charts (only HTML draws them; others skip the cost)

    def market(self, condition_id: str) -> str:
        known = self.names.get(condition_id)
        return known[0] if known else condition_id

    def token(self, asset_id: str, market: str) -> str:
        """ "question outcome" for a token."""
        known = self.names.get(market)
        if known is None:
            return asset_id[:12]
        return f"{known[0]} {known[3].get(asset_id, '?')}"

    def header(self) -> list[Figure]:
        runs = self.analytics.runs()
        return header(self.ledger, self.scope, runs)


def header(ledger: Path, scope: ReportScope, runs: list[RunRow]) -> list[Figure]:
    modes = sorted({r.mode for r in runs})
    venues = sorted({r.venue for r in runs})
    return [
        Figure("ledger", "Ledger", str(ledger), "text"),
        Figure("scope", "Scope", scope.label, "text"),
        Figure("runs", "Runs", run_ids(runs), "text"),
        Figure("mode", "Mode", ", ".join(modes) or "—", "text"),
        Figure("venue", "Venue", ", ".join(venues) or "—", "text"),
        Figure("tz", "Time zone", scope.tz.key, "text"),
    ]


def run_ids(runs: list[RunRow]) -> str:
    """ "1-3, 5" for runs 1, 2, 3 and 5; "none" for no run."""
    ids = [r.id for r in runs]
    if not ids:
        return "none"
    spans: list[str] = []
    start = prev = ids[0]
    for rid in [*ids[1:], None]:
        if rid is not None and rid == prev + 1:
            prev = rid
            continue
        spans.append(str(start) if start == prev else f"{start}-{prev}")
        if rid is not None:
            start = prev = rid
    return ", ".join(spans)


def config_hash(config_json: str) -> str:
    return hashlib.sha256(config_json.encode()).hexdigest()[:12]


@contextmanager
def open_context(ledger: Path, scope: ReportScope, charts: bool = True) -> Iterator[Context]:
    """One read-only snapshot of `ledger` for the whole report (LedgerError if it is not
    a ledger this polyterm can read)."""
    reader = LedgerReader(ledger)
    with reader.snapshot() as conn:
        analytics = LedgerAnalytics(conn, scope.scope, reason_id)
        yield Context(ledger, analytics, scope, analytics.market_names(), charts)

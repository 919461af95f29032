"""Reports over a ledger: the kinds, each one module under ``kinds/``, and their formats.

Adding a kind is one module with ``build(ctx) -> Report`` (or, for kinds over several
ledgers, ``build_many(paths, scope) -> Report``) and one line in :data:`KINDS`; ``drift``
(live fills against the paper model) arrives that way once live trading records it.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from polyterm.reports.context import Context, open_context
from polyterm.reports.document import Report
from polyterm.reports.scope import ReportScope

__all__ = ["KINDS", "Context", "KindSpec", "build", "build_many", "make", "open_context"]


@dataclass(frozen=True, slots=True)
class KindSpec:
    name: str
    module: str  # under polyterm.reports.kinds
    help: str
    many: bool = False  # over several ledgers (positional paths), not --ledger


KINDS: dict[str, KindSpec] = {
    k.name: k
    for k in (
        KindSpec("summary", "summary", "the account: PnL, returns, drawdown, ratios"),
        KindSpec("exits", "exits", "exit reasons, per strategy, worst markets, MAE/MFE"),
        KindSpec("event-driven", "event_driven", "news-driven trades: sources, headlines"),
        KindSpec("daily", "daily", "one day's summary (default: the last trading day)"),
        KindSpec("strategies", "strategies", "attribution per strategy and market"),
        KindSpec("markets", "markets", "per market and neg-risk event"),
        KindSpec("calibration", "calibration", "price paid against outcome: Brier"),
        KindSpec("orders", "raw", "every order, as the ledger holds it"),
        KindSpec("fills", "raw", "every fill, as the ledger holds it"),
        KindSpec("runs", "runs", "the runs: mode, venue, duration, config hash"),
        KindSpec("lots", "lots", "realized PnL per closed lot"),
        KindSpec("compare", "compare", "summary figures of several ledgers", many=True),
        KindSpec("sweep", "sweep", "a sweep's variants side by side", many=True),
    )
}


def make(kind: str, ctx: Context) -> Report:
    """`kind`'s report over an open context; raw exports' rows are read lazily, so render
    them before the context closes."""
    spec = KINDS[kind]
    module: Any = importlib.import_module(f"polyterm.reports.kinds.{spec.module}")
    if spec.module == "raw":
        return cast(Report, module.build(ctx, kind))
    return cast(Report, module.build(ctx))


def build(kind: str, ledger: Path, scope: ReportScope, charts: bool = False) -> Report:
    """One ledger's report of `kind`, every row read (LedgerError if it cannot be read)."""
    with open_context(ledger, scope, charts) as ctx:
        report = make(kind, ctx)
        _materialize(report)
        return report


def build_many(kind: str, paths: Sequence[Path], scope: ReportScope) -> Report:
    spec = KINDS[kind]
    module: Any = importlib.import_module(f"polyterm.reports.kinds.{spec.module}")
    return cast(Report, module.build_many(list(paths), scope))


def _materialize(report: Report) -> None:
    """Rows read lazily must be read before the snapshot closes."""
    for table in report.tables:
        if not isinstance(table.rows, list):
            table.rows = list(table.rows)

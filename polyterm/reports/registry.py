"""Building a report: a kind's module over an open ledger context (or several ledgers)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from polyterm.reports.catalog import KINDS
from polyterm.reports.context import Context, open_context
from polyterm.reports.document import Report
from polyterm.reports.scope import ReportScope

__all__ = ["Context", "build", "build_many", "make", "open_context"]


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

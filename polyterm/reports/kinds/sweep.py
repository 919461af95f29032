"""``report sweep DIR``: a sweep's variants side by side (``polyterm backtest --sweep``
prints the same). Each variant's settings are the config keys whose values differ
between the ledgers' recorded configurations: the ledgers describe themselves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.ledger.errors import LedgerError
from polyterm.reports.context import header, open_context
from polyterm.reports.document import Column, Figure, Report, Table
from polyterm.reports.kinds.compare import FIGURES, figures_row
from polyterm.reports.metrics import summarize
from polyterm.reports.scope import ReportScope


def _flat(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: tree}


def ledgers_in(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.glob("*.sqlite")))
        elif path.is_file():
            found.append(path)
        else:
            raise LedgerError(f"{path}: no such sweep folder or ledger")
    if not found:
        raise LedgerError(f"{paths[0]}: no *.sqlite ledger there (run a sweep into it first)")
    return found


def build_many(paths: list[Path], scope: ReportScope) -> Report:
    ledgers = ledgers_in(paths)
    rows: list[tuple[Any, ...]] = []
    configs: list[dict[str, Any]] = []
    modes: set[str] = set()
    for path in ledgers:
        with open_context(path, scope, charts=False) as ctx:
            runs = ctx.analytics.all_runs()
            configs.append(_flat(json.loads(runs[0].config_json)) if runs else {})
            s = summarize(ctx.analytics, scope)
            modes.update(r.mode for r in s.runs)
            rows.append((path.stem, *figures_row(ctx, s)))
    keys = sorted(
        {k for c in configs for k in c}
        - {k for k in set().union(*configs) if len({json.dumps(c.get(k)) for c in configs}) == 1}
    )
    columns = (
        Column("variant", "Variant"),
        *(Column(k, k.rsplit(".", 1)[-1]) for k in keys),
        *FIGURES,
    )
    table_rows = [
        (row[0], *(_text(c.get(k)) for k in keys), *row[1:])
        for row, c in zip(rows, configs, strict=True)
    ]
    head = header(ledgers[0].parent, scope, [])
    head[0] = Figure("folder", "Sweep", str(ledgers[0].parent), "text")
    head[2] = Figure("variants", "Variants", len(ledgers), "int")
    head[3] = Figure("mode", "Mode", ", ".join(sorted(modes)) or "—", "text")
    report = Report(
        "sweep", "Sweep", head, tables=[Table("variants", "Variants", columns, table_rows)]
    )
    report.figures = [Figure("swept_keys", "Swept keys", ", ".join(keys) or "—", "text")]
    return report


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

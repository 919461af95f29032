"""Machine formats: ``json`` (one document), ``jsonl`` (one row a line), ``csv``.

JSON: ``{"kind", "title", <header keys>, <figure keys>, "tables": {name: [rows]},
"empty"}``; every figure is a top-level key (``report summary`` has ``fees``, ``fills``,
``final_equity``...).

JSONL: one object per table row, ``{"section": <table name>, ...}``, the figures first
as one ``{"section": "figures", ...}`` line. A raw export (``orders``, ``fills``) writes
the ledger's rows alone, one object per row with the table's own column names.

CSV: a raw export or a one-table report is one plain CSV. Otherwise blocks, one per
section (figures first, as ``section,key,value``), each with its own header row whose
first column is ``section``, separated by a blank line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from polyterm.reports.document import Report, Table
from polyterm.reports.render.values import machine
from polyterm.reports.scope import ReportScope


def _rows(table: Table, scope: ReportScope) -> Iterator[dict[str, Any]]:
    for row in table.rows:
        yield {
            col.key: machine(value, col.kind, scope)
            for col, value in zip(table.columns, row, strict=True)
        }


def document(report: Report, scope: ReportScope) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": report.kind, "title": report.title}
    for fig in report.header:
        out[fig.key] = machine(fig.value, fig.kind, scope)
    for fig in report.figures:
        out[fig.key] = machine(fig.value, fig.kind, scope)
    out["tables"] = {t.name: list(_rows(t, scope)) for t in report.tables}
    out["empty"] = report.empty or None
    return out


def to_json(report: Report, scope: ReportScope) -> str:
    return json.dumps(document(report, scope), indent=2, ensure_ascii=False) + "\n"


def to_jsonl(report: Report, scope: ReportScope) -> Iterator[str]:
    if report.raw:
        for table in report.tables:
            for row in _rows(table, scope):
                yield json.dumps(row, ensure_ascii=False) + "\n"
        return
    head: dict[str, Any] = {"section": "report", "kind": report.kind}
    head.update({f.key: machine(f.value, f.kind, scope) for f in report.header})
    head["empty"] = report.empty or None
    yield json.dumps(head, ensure_ascii=False) + "\n"
    if report.figures:
        line: dict[str, Any] = {"section": "figures"}
        line.update({f.key: machine(f.value, f.kind, scope) for f in report.figures})
        yield json.dumps(line, ensure_ascii=False) + "\n"
    for table in report.tables:
        for row in _rows(table, scope):
            yield json.dumps({"section": table.name, **row}, ensure_ascii=False) + "\n"


def _csv_value(value: Any) -> Any:
    return "" if value is None else value


def to_csv(report: Report, scope: ReportScope) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    if report.raw or (len(report.tables) == 1 and not report.figures):
        table = report.tables[0]
        writer.writerow([c.key for c in table.columns])
        yield flush()
        for row in _rows(table, scope):
            writer.writerow([_csv_value(v) for v in row.values()])
            if buffer.tell() > 1 << 16:
                yield flush()
        yield flush()
        return
    writer.writerow(["section", "key", "value"])
    for fig in [*report.header, *report.figures]:
        writer.writerow(["figures", fig.key, _csv_value(machine(fig.value, fig.kind, scope))])
    yield flush()
    for table in report.tables:
        writer.writerow([])
        writer.writerow(["section", *(c.key for c in table.columns)])
        for row in _rows(table, scope):
            writer.writerow([table.name, *(_csv_value(v) for v in row.values())])
        yield flush()

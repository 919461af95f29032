"""A report in each format, streamed as text chunks (a raw export of a million rows is
written as it is read, never held whole)."""

from __future__ import annotations

import io
from collections.abc import Iterator

from polyterm.reports.catalog import FORMATS  # noqa: F401 - re-exported
from polyterm.reports.document import Report
from polyterm.reports.render.data import to_csv, to_json, to_jsonl
from polyterm.reports.render.html import to_html
from polyterm.reports.render.text import to_markdown, to_rich
from polyterm.reports.scope import ReportScope


def render(
    report: Report, fmt: str, scope: ReportScope, prices: str = "cents", width: int = 120
) -> Iterator[str]:
    if fmt == "json":
        yield to_json(report, scope)
    elif fmt == "jsonl":
        yield from to_jsonl(report, scope)
    elif fmt == "csv":
        yield from to_csv(report, scope)
    elif fmt == "md":
        yield from to_markdown(report, scope, prices)
    elif fmt == "html":
        yield from to_html(report, scope, prices)
    elif fmt == "table":
        out = io.StringIO()
        to_rich(report, scope, out, prices, width)
        yield out.getvalue()
    else:
        raise ValueError(f"unknown format {fmt}")

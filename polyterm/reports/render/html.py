"""``--format html``: one self-contained file, plotly's JavaScript inlined once, every
chart drawn from data in the page: it opens with no network."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator

from polyterm.reports.document import Report
from polyterm.reports.render.text import TABLE_ROWS, _cells, figure_rows
from polyterm.reports.scope import ReportScope

_STYLE = """
body{font-family:system-ui,-apple-system,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{margin-bottom:4px} .head{color:#555;margin-bottom:16px} .head b{color:#222}
.mode{display:inline-block;padding:1px 8px;border-radius:4px;background:#eef;font-weight:bold}
.mode.live{background:#fdd;color:#900}
table{border-collapse:collapse;margin:8px 0 20px}
td,th{padding:3px 10px;border-bottom:1px solid #eee}
th{text-align:left;background:#fafafa} td.n{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:grid;grid-template-columns:1fr;gap:12px} .chart{border:1px solid #eee}
.empty{font-style:italic;color:#666}
"""


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element (a market named "</script>" cannot end it)."""
    return json.dumps(value, default=str).replace("</", "<\\/")


def to_html(report: Report, scope: ReportScope, prices: str = "cents") -> Iterator[str]:
    from plotly.offline import get_plotlyjs

    esc = html.escape
    yield (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>polyterm report: {esc(report.title)}</title><style>{_STYLE}</style>"
    )
    if report.charts:
        yield f"<script>{get_plotlyjs()}</script>"
    yield "</head><body>"
    yield f'<h1>{esc(report.title)}</h1><div class="head">'
    for fig, (label, value) in zip(
        report.header, figure_rows(report.header, scope, prices), strict=True
    ):
        if fig.key == "mode":
            kinds = " ".join(sorted(set(value.split(", "))))
            mode = f'<span class="mode {esc(kinds)}">{esc(value.upper())}</span>'
            yield f"<b>{esc(label)}</b> {mode} · "
        else:
            yield f"<b>{esc(label)}</b> {esc(value)} · "
    yield "</div>"
    if report.empty:
        yield f'<p class="empty">{esc(report.empty)}.</p>'
    if report.charts:
        yield '<div class="charts">'
        for chart in report.charts:
            div = json.dumps(f"chart-{chart.name}")
            data = _script_json(chart.figure["data"])
            layout = _script_json(chart.figure["layout"])
            yield (
                f'<div class="chart" id={div} data-chart="{esc(chart.name)}"></div>'
                f"<script>Plotly.newPlot({div}, {data}, {layout}, "
                '{"responsive": true, "displaylogo": false});</script>'
            )
        yield "</div>"
    if report.figures:
        yield "<h2>Figures</h2><table>"
        for label, value in figure_rows(report.figures, scope, prices):
            yield f'<tr><td>{esc(label)}</td><td class="n">{esc(value)}</td></tr>'
        yield "</table>"
    for table in report.tables:
        yield f"<h2>{esc(table.title)}</h2><table><tr>"
        yield "".join(f"<th>{esc(c.title)}</th>" for c in table.columns) + "</tr>"
        more = 0
        for i, cells in enumerate(_cells(table, scope, prices)):
            if i >= TABLE_ROWS:
                more += 1
                continue
            yield (
                "<tr>"
                + "".join(
                    f'<td class="{"" if c.kind in ("text", "time") else "n"}">{esc(v)}</td>'
                    for c, v in zip(table.columns, cells, strict=True)
                )
                + "</tr>"
            )
        yield "</table>"
        if more:
            yield f'<p class="empty">{more:,} more rows: --format csv or jsonl has them all.</p>'
        if table.note:
            yield f'<p class="empty">{esc(table.note)}</p>'
    yield "</body></html>\n"

"""Formats people read in a terminal or a document: ``table`` (rich) and ``md``.

Both write numbers in the one convention (``widgets.format``): prices in cents with one
decimal (or dollars), shares with 2 decimals, money with cents, slippage in bps.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TextIO

from polyterm.reports.document import Figure, Report, Table
from polyterm.reports.render.values import human
from polyterm.reports.scope import ReportScope

TABLE_ROWS = 200  # rows a terminal or Markdown table shows; the rest is said, not printed


def figure_rows(figures: list[Figure], scope: ReportScope, prices: str) -> list[tuple[str, str]]:
    return [(f.label, human(f.value, f.kind, scope, prices)) for f in figures]


def _cells(table: Table, scope: ReportScope, prices: str) -> Iterator[list[str]]:
    for row in table.rows:
        yield [human(v, c.kind, scope, prices) for c, v in zip(table.columns, row, strict=True)]


def to_markdown(report: Report, scope: ReportScope, prices: str = "cents") -> Iterator[str]:
    yield f"# {report.title}\n\n"
    yield " · ".join(
        f"**{label}** {value}" for label, value in figure_rows(report.header, scope, prices)
    )
    yield "\n\n"
    if report.empty:
        yield f"_{report.empty}._\n\n"
    if report.figures:
        yield "| Figure | Value |\n| --- | ---: |\n"
        for label, value in figure_rows(report.figures, scope, prices):
            yield f"| {label} | {value} |\n"
        yield "\n"
    for table in report.tables:
        yield f"## {table.title}\n\n"
        align = ["---" if c.kind in ("text", "time") else "---:" for c in table.columns]
        yield "| " + " | ".join(c.title for c in table.columns) + " |\n"
        yield "| " + " | ".join(align) + " |\n"
        shown = 0
        more = 0
        for cells in _cells(table, scope, prices):
            if shown >= TABLE_ROWS:
                more += 1
                continue
            shown += 1
            yield "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |\n"
        if not shown:
            yield "| " + " | ".join("—" for _ in table.columns) + " |\n"
        if more:
            yield f"\n_{more:,} more rows: use --format csv or jsonl for all of them._\n"
        if table.note:
            yield f"\n_{table.note}_\n"
        yield "\n"


def to_rich(
    report: Report, scope: ReportScope, out: TextIO, prices: str = "cents", width: int = 120
) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table as RichTable

    console = Console(file=out, highlight=False, soft_wrap=False, width=width)
    console.print(f"[bold]{report.title}[/]")
    console.print(
        "  ".join(
            f"[dim]{label}[/] {value}" for label, value in figure_rows(report.header, scope, prices)
        ),
        markup=True,
    )
    if report.empty:
        console.print(f"[italic]{report.empty}[/]")
    if report.figures:
        grid = RichTable(box=box.SIMPLE, show_header=False)
        grid.add_column("figure")
        grid.add_column("value", justify="right")
        for label, value in figure_rows(report.figures, scope, prices):
            grid.add_row(label, value)
        console.print(grid)
    for table in report.tables:
        rich = RichTable(title=table.title, box=box.SIMPLE_HEAD, title_justify="left")
        for col in table.columns:
            rich.add_column(col.title, justify="left" if col.kind in ("text", "time") else "right")
        more = 0
        for i, cells in enumerate(_cells(table, scope, prices)):
            if i >= TABLE_ROWS:
                more += 1
                continue
            rich.add_row(*cells)
        if table.note:
            rich.caption = table.note
        console.print(rich)
        if more:
            console.print(f"[dim]{more:,} more rows: use --format csv or jsonl for all of them[/]")

"""What a report is, before any format: a header, named figures, tables and charts.

Values stay typed until a renderer writes them: money, prices and shares as exact
Decimals, ratios and percentages as floats, times as unix seconds, counts as ints, None
where a figure does not exist (no trades, no losses...). Each value has a *kind* that
says how every format writes it (see :mod:`polyterm.reports.render`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal[
    "text",  # as is
    "int",  # a count
    "money",  # USDC, Decimal
    "pnl",  # USDC, Decimal, signed
    "price",  # a probability price 0..1, Decimal (cents or dollars in tables)
    "shares",  # Decimal, 2 decimals in tables
    "pct",  # float, percent (12.5 = 12.5%)
    "ratio",  # float, 2 decimals in tables, 4 in JSON
    "score",  # float (Brier), 4 decimals everywhere
    "bps",  # float, basis points
    "time",  # unix seconds (float), ISO-8601 in the report's time zone
    "duration",  # seconds (float)
]


@dataclass(frozen=True, slots=True)
class Figure:
    key: str  # the JSON name
    label: str  # what a person reads
    value: Any
    kind: Kind


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    kind: Kind = "text"


@dataclass(slots=True)
class Table:
    name: str  # the JSON / CSV / JSONL section name
    title: str
    columns: tuple[Column, ...]
    # A list, or for a raw export an iterator read while the ledger's snapshot is open.
    rows: Iterable[tuple[Any, ...]] = field(default_factory=list)
    note: str = ""  # said under the table (a limit, what an empty table means)


@dataclass(frozen=True, slots=True)
class Chart:
    """A plotly figure (as its JSON-able dict) and its title; only HTML draws charts."""

    name: str
    title: str
    figure: dict[str, Any]


@dataclass(slots=True)
class Report:
    kind: str
    title: str
    header: list[Figure]  # ledger, scope, runs, mode(s), time zone
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    empty: str = ""  # non-empty: why there is nothing to report (still a valid report)
    raw: bool = False  # a raw export: JSONL lines are the ledger's rows, nothing added

    def figure(self, key: str) -> Any:
        for fig in self.figures:
            if fig.key == key:
                return fig.value
        raise KeyError(key)

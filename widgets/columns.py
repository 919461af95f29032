"""Column widths from content: each column as wide as its label and the widest value it
shows (or may show: a price column is as wide as the widest price), and one flexible
column (a market's name) taking what the others leave, up to its longest value."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text

PADDING = 1  # DataTable's cell padding, each side


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    floor: int = 0  # at least this wide (the widest value it may ever show)
    flex: bool = False  # takes the room the others leave


def cell_width(cell: object) -> int:
    return cell.cell_len if isinstance(cell, Text) else len(str(cell))


def fit(
    columns: Sequence[Column],
    values: Mapping[str, Iterable[object]],
    available: int,
    *,
    flex_min: int = 12,
) -> dict[str, int]:
    """Widths (content, without padding) for `columns` in `available` cells; `values`
    holds each column's cells now."""
    widths: dict[str, int] = {}
    for c in columns:
        widest = max((cell_width(v) for v in values.get(c.key, ())), default=0)
        widths[c.key] = max(len(c.label), c.floor, widest)
    flex = [c for c in columns if c.flex]
    if flex:
        fixed = sum(widths[c.key] for c in columns if not c.flex)
        room = available - fixed - 2 * PADDING * len(columns)
        share = max(flex_min, room // len(flex))
        for c in flex:
            widths[c.key] = min(widths[c.key], share)
    return widths

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
    fill: bool = False,
) -> dict[str, int]:
    """Widths (content, without padding) for the `columns` that fit in `available`
    cells, in their order; `values` holds each column's cells now. Columns are listed
    most useful first: when the flexible one would get less than `flex_min`, the last
    of the others give way. `fill`: the flexible column takes all the room left (a
    table that fills its pane), not only what its longest value needs."""
    widths: dict[str, int] = {}
    for c in columns:
        widest = max((cell_width(v) for v in values.get(c.key, ())), default=0)
        widths[c.key] = max(len(c.label), c.floor, widest)
    kept = list(columns)
    flex = [c for c in kept if c.flex]

    def room() -> int:
        fixed = sum(widths[c.key] for c in kept if not c.flex)
        return available - fixed - 2 * PADDING * len(kept)

    need = flex_min * len(flex)
    while room() < need and sum(1 for c in kept if not c.flex) > 1:
        last = next(c for c in reversed(kept) if not c.flex)
        kept.remove(last)
    if flex:
        share = max(flex_min, room() // len(flex))
        for c in flex:
            widths[c.key] = share if fill else min(widths[c.key], share)
    return {c.key: widths[c.key] for c in kept}

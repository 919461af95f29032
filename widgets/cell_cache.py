"""A DataTable that re-renders only the cells that changed.

Textual's DataTable keys every cached cell render on one table-wide update counter, so a
single ``update_cell`` makes it render every visible cell again on the next paint. At ten
refreshes a second over a busy feed that is most of the console's paint time (measured:
~200 visible cells, ~0.1 ms of Rich rendering each). This table keeps its own cache of
cell renders keyed by the row's own version, which only ``update_cell`` and ``add_row``
on that row move, so the next paint renders the changed cells and reuses the rest.

What a render depends on is in the key or clears the cache: the row (key, and index: a
render carries its row index for mouse clicks, so a row that moved is rendered again), the
column, the row's version, the width, the base style, cursor and hover, and the table's
pseudo-class state; a style update (a theme), a column added or removed, or anything that
clears Textual's own caches clears this one. It reads private DataTable attributes; Textual
is pinned exactly in pyproject.toml, and the console's snapshot tests fail if a release
changes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self

from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.renderables.styled import Styled
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets._data_table import _EMPTY_TEXT, default_cell_formatter
from textual.widgets.data_table import CellType, ColumnKey, RowKey

# Renders kept, least recently used dropped first. A table shows at most a screen of
# lines; what a row drew before its last update is never asked for again, and kept by
# the thousand it made the collector's full passes ~100 ms (Segments and Strips are
# tracked objects). A few screens' worth covers the cursor and hover variants; a table
# taller than that grows its caches to two of its screens (see `_fit_caches`).
LINES_KEPT = 512
CELLS_KEPT = 4096
CONTENTS_KEPT = 4096


class CachedCellsTable(DataTable[CellType]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Set before DataTable's own __init__, which may already clear caches.
        self._row_versions: dict[RowKey, int] = {}
        self._last_row_version = 0  # never reused: a row removed and added back is new to the cache
        self._cached_cells: LRUCache[tuple[object, ...], Any] = LRUCache(CELLS_KEPT)
        # Renders by content, without click metadata.
        self._cached_contents: LRUCache[tuple[object, ...], Any] = LRUCache(CONTENTS_KEPT)
        self._cached_lines: LRUCache[tuple[object, ...], Strip] = LRUCache(LINES_KEPT)
        self._cell_updates = 0  # DataTable's update counter, less what update_cell added
        super().__init__(*args, **kwargs)
        # DataTable's own row and line renders are keyed on its update counter, which
        # every update moves: behind the caches above they are only filled, never hit
        # again, and would keep a thousand stale renders each alive.
        self._row_render_cache.maxsize = LINES_KEPT
        self._line_cache.maxsize = LINES_KEPT

    def _fit_caches(self) -> None:
        """Room for two screens of this table. A paint asks for every visible line and
        cell in turn: a least-recently-used cache smaller than that evicts each entry
        before the next paint asks for it again, and would never hit."""
        lines = 2 * self.size.height
        cells = lines * max(1, len(self.columns))
        for cache in (self._cached_lines, self._row_render_cache, self._line_cache):
            cache.grow(lines)
        self._cached_cells.grow(cells)
        self._cached_contents.grow(cells)

    def on_resize(self) -> None:
        self._fit_caches()

    def _drop_cached_renders(self) -> None:
        self._cached_cells.clear()
        self._cached_contents.clear()
        self._cached_lines.clear()

    def _layout(self) -> tuple[object, ...]:
        return (
            tuple(column.get_render_width(self) for column in self.ordered_columns),
            self._row_label_column_width,
            self.virtual_size,
        )

    # The idle pass measures new and widened cells. When a width changes every line
    # moves, and DataTable's own line caches (keyed on its update counter, which that
    # pass leaves alone) would hand back lines drawn at the old widths: drop them all.
    def _update_column_widths(self, updated_cells: Any) -> None:
        before = self._layout()
        super()._update_column_widths(updated_cells)
        if self._layout() != before:
            self._clear_caches()

    def _update_dimensions(self, new_rows: Any) -> None:
        before = self._layout()
        super()._update_dimensions(new_rows)
        if self._layout() != before:
            self._clear_caches()

    def _bump(self, row_key: RowKey) -> None:
        self._last_row_version += 1
        self._row_versions[row_key] = self._last_row_version

    def _clear_caches(self) -> None:
        # Textual clears its own renders when cursor, stripes, padding or fixed rows change.
        super()._clear_caches()
        self._drop_cached_renders()

    def notify_style_update(self) -> None:
        # A theme or CSS change restyles every cell (the cursor's colour is not in the key).
        super().notify_style_update()
        self._drop_cached_renders()

    def add_column(self, *args: Any, **kwargs: Any) -> ColumnKey:
        column_key = super().add_column(*args, **kwargs)
        self._cached_cells.clear()  # column indexes may now name other columns
        self._fit_caches()
        return column_key

    def remove_column(self, column_key: ColumnKey | str) -> None:
        super().remove_column(column_key)
        self._cached_cells.clear()

    def remove_row(self, row_key: RowKey | str) -> None:
        super().remove_row(row_key)
        self._row_versions.pop(RowKey(row_key) if isinstance(row_key, str) else row_key, None)

    def clear(self, columns: bool = False) -> Self:
        super().clear(columns)  # clears the caches too
        self._row_versions.clear()
        return self

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: CellType,
        *,
        update_width: bool = False,
    ) -> None:
        super().update_cell(row_key, column_key, value, update_width=update_width)
        self._cell_updates += 1  # the one change that leaves other rows' lines as they were
        self._bump(RowKey(row_key) if isinstance(row_key, str) else row_key)

    def add_row(
        self,
        *cells: CellType,
        height: int | None = 1,
        key: str | None = None,
        label: Any = None,
    ) -> RowKey:
        row_key = super().add_row(*cells, height=height, key=key, label=label)
        self._bump(row_key)  # the same key may come back with other cells (a filter)
        return row_key

    def add_rows(self, rows: Iterable[Iterable[CellType]]) -> list[RowKey]:
        return [self.add_row(*cells) for cells in rows]

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        """A line of the table from the line cache while neither its row nor the table's
        layout changed. Every DataTable operation but ``update_cell`` moves DataTable's
        update counter without moving ``_cell_updates``, so their difference changes
        whenever rows, columns, order or size change; a width or style change clears
        the cache; a row's own cells bump its version."""
        try:
            row_key, _ = self._get_offsets(y)
        except LookupError:
            return super()._render_line(y, x1, x2, base_style)
        key = (
            y,
            x1,
            x2,
            self.size.width,
            self.cursor_coordinate,
            self.hover_coordinate,
            base_style,
            self.cursor_type,
            self.show_cursor,
            self._show_hover_cursor,
            self._pseudo_class_state,
            self._update_count - self._cell_updates,
            row_key,
            self._row_versions.get(row_key, 0),
        )
        lines = self._cached_lines
        strip = lines.get(key)
        if strip is None:
            strip = super()._render_line(y, x1, x2, base_style)
            lines.set(key, strip)
        return strip

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> Any:
        if row_index < 0 or column_index < 0:  # the header and row labels: as Textual does
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        if row_key is None:  # not a row (yet): as Textual does
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        key = (
            row_key,
            row_index,
            column_index,
            self._row_versions.get(row_key, 0),
            base_style,
            width,
            cursor,
            hover,
            self.show_cursor,
            self._show_hover_cursor,
            self._pseudo_class_state,
        )
        cells = self._cached_cells
        rendered = cells.get(key)
        if rendered is None:
            rendered = self._render_body_cell(
                row_key, row_index, column_index, base_style, width, cursor, hover
            )
            if rendered is None:
                rendered = super()._render_cell(
                    row_index, column_index, base_style, width, cursor, hover
                )
            cells.set(key, rendered)
        return rendered

    def _render_body_cell(
        self,
        row_key: RowKey,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> list[list[Segment]] | None:
        """A one-line cell rendered from the content cache, or None to render as Textual
        does. Rich renders what a cell shows (text, width, styles) once; this row's and
        column's click metadata, the only per-cell part of Textual's render, is added
        after, which gives the same segments as Textual's order (checked by a property
        test against DataTable's own render)."""
        row = self.rows.get(row_key)
        if row is None or row.height != 1 or base_style.meta:
            return None
        datum = self._data.get(row_key, {}).get(self.ordered_columns[column_index].key)
        content_key = _content_key(datum)
        if content_key is None:
            return None
        fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            fixed,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre_style = base_style + component_style
        key = (content_key, width, pre_style, post_style, self.cell_padding)
        lines = self._cached_contents.get(key, _MISSING)
        if lines is _MISSING:
            lines = self._render_cell_content(datum, width, pre_style, post_style)
            self._cached_contents.set(key, lines)
        if lines is None:
            return None
        meta = Style.from_meta({"row": row_index, "column": column_index})
        return [
            [
                Segment(text, meta if style is None else style + meta, control)
                for text, style, control in line
            ]
            for line in lines
        ]

    def _render_cell_content(
        self, datum: object, width: int, pre_style: Style, post_style: Style
    ) -> list[list[Segment]] | None:
        options = self.app.console_options.update_dimensions(width, 1).update(no_wrap=True)
        # As DataTable formats a row: an empty cell renders as its shared empty text.
        cell = default_cell_formatter(datum, wrap=False, height=1) or _EMPTY_TEXT
        lines = self.app.console.render_lines(
            Styled(
                Padding(cell, (0, self.cell_padding)), pre_style=pre_style, post_style=post_style
            ),
            options,
        )
        for line in lines:  # links and click actions carry metadata of their own
            for segment in line:
                style = segment.style
                if style is not None and (style.meta or style.link):
                    return None
        return lines


_MISSING: Any = object()


def _content_key(datum: object) -> tuple[object, ...] | None:
    """What decides a cell's rendered text: the string (markup included), or a Text's
    plain text, styles, spans and layout. None for anything else (Textual renders it)."""
    if isinstance(datum, str):
        return ("str", datum)
    if isinstance(datum, Text):
        return (
            "text",
            datum.plain,
            datum.style,
            tuple(datum.spans),
            datum.justify,
            datum.overflow,
            datum.no_wrap,
            datum.end,
            datum.tab_size,
        )
    return None

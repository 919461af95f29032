"""The cell-render cache: changed cells render anew, unchanged ones are reused, and
nothing the screen shows goes stale (values, sort order, columns, cursor, theme)."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.errors import MarkupError
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.geometry import Region
from textual.widgets import DataTable

import widgets.cell_cache as cell_cache
from tests.kit.hypothesis import examples
from widgets.cell_cache import CachedCellsTable


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield CachedCellsTable(id="t")

    def on_mount(self) -> None:
        table = self.query_one(CachedCellsTable)
        table.add_column("name", key="name", width=8)
        table.add_column("px", key="px", width=8)
        for i in range(5):
            table.add_row(f"m{i}", f"0.{i}0", key=f"r{i}")


def _rows(table: CachedCellsTable[str]) -> list[str]:
    return [
        "".join(segment.text for segment in table.render_line(y)).strip()
        for y in range(1, table.row_count + 1)
    ]


async def test_an_updated_cell_renders_its_new_value_and_the_rest_are_reused() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(CachedCellsTable)
        await pilot.pause()
        before = table._render_cell(3, 1, table.rich_style, 8)
        untouched = table._render_cell(2, 1, table.rich_style, 8)
        table.update_cell("r3", "px", "0.99")
        await pilot.pause()
        assert "0.99" in _rows(table)[3]
        assert table._render_cell(3, 1, table.rich_style, 8) is not before
        assert table._render_cell(2, 1, table.rich_style, 8) is untouched


async def test_sorting_removing_and_adding_rows_show_the_right_cells() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(CachedCellsTable)
        await pilot.pause()
        assert _rows(table)[0].startswith("m0")
        table.sort("px", reverse=True)
        await pilot.pause()
        assert [row[:2] for row in _rows(table)] == ["m4", "m3", "m2", "m1", "m0"]
        table.remove_row("r4")
        table.add_row("m4", "0.77", key="r4")  # the same key back, with other cells
        await pilot.pause()
        assert _rows(table)[-1].split() == ["m4", "0.77"]
        table.clear()
        table.add_row("x", "1.00", key="r0")
        await pilot.pause()
        assert [row.split() for row in _rows(table)] == [["x", "1.00"]]


async def test_a_new_column_and_a_theme_change_render_again() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(CachedCellsTable)
        await pilot.pause()
        table.remove_column("name")
        await pilot.pause()
        assert _rows(table)[0].split() == ["0.00"]
        table.add_column("vol", key="vol", width=6, default="7")
        await pilot.pause()
        assert _rows(table)[0].split() == ["0.00", "7"]
        plain = Style()  # the same base style: only the theme's cursor colour differs
        cursor = table._render_cell(0, 0, plain, 8, cursor=True)
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        assert table._render_cell(0, 0, plain, 8, cursor=True) is not cursor


_CHARS = "ab Z09.,+-¢▲▼█▁…é漢😀[]:/@=\t\n"
_STYLES = st.sampled_from(["", "bold", "red", "dim", "on blue", "italic green"])
_CELLS = st.one_of(
    st.text(alphabet=_CHARS, max_size=16),
    st.sampled_from(
        ["[bold]x[/]", "[link=https://x.test]a[/]", "[@click=app.bell]b[/]", ":smile:"]
    ),
    st.builds(
        lambda plain, style, justify, overflow, spans: _styled(
            plain, style, spans, justify, overflow
        ),
        st.text(alphabet=_CHARS, max_size=16),
        _STYLES,
        st.sampled_from([None, "left", "right", "center", "full"]),
        st.sampled_from([None, "fold", "crop", "ellipsis"]),
        st.lists(st.tuples(st.integers(0, 16), st.integers(0, 16), _STYLES), max_size=3),
    ),
)


def _styled(
    plain: str, style: str, spans: list[tuple[int, int, str]], justify: Any, overflow: Any
) -> Text:
    text = Text(plain, style=style, justify=justify, overflow=overflow)
    for start, end, span_style in spans:
        text.stylize(span_style, start, end)
    return text


def _segments(lines: Any) -> list[list[tuple[str, Any, Any]]]:
    # An empty segment shows nothing; Rich keeps or drops one depending on whether the
    # style it carries is null, which the metadata's order changes.
    return [[(s.text, s.style, s.control) for s in line if s.text or s.control] for line in lines]


async def test_a_cell_renders_exactly_as_textuals_own_datatable_does() -> None:
    """The content cache adds a cell's click metadata after Rich renders it; whatever the
    cell holds, the segments (text, style, metadata) are the ones DataTable renders."""
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(CachedCellsTable)
        await pilot.pause()

        @settings(max_examples=examples(400), deadline=None)
        @given(
            cell=_CELLS,
            row=st.integers(0, 4),
            column=st.integers(0, 1),
            width=st.integers(1, 14),
            base=st.sampled_from([Style(), Style(bgcolor="grey11"), Style(color="white")]),
            cursor=st.booleans(),
            hover=st.booleans(),
        )
        def same(
            cell: Any, row: int, column: int, width: int, base: Style, cursor: bool, hover: bool
        ) -> None:
            table.update_cell(f"r{row}", ("name", "px")[column], cell)
            try:
                ours = _segments(table._render_cell(row, column, base, width, cursor, hover))
            except MarkupError:
                with pytest.raises(MarkupError):
                    DataTable._render_cell(table, row, column, base, width, cursor, hover)
                return
            textual = _segments(
                DataTable._render_cell(table, row, column, base, width, cursor, hover)
            )
            assert ours == textual

        same()


class TwinApp(App[None]):
    """A plain DataTable and a cached one side by side, given the same operations."""

    CSS = "DataTable { width: 1fr; height: 12; }"

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield DataTable(id="plain")
            yield CachedCellsTable(id="cached")


_OPS = st.one_of(
    st.tuples(st.just("update"), st.integers(0, 9), st.integers(0, 2), _CELLS, st.booleans()),
    st.tuples(st.just("add"), st.integers(0, 12), _CELLS),
    st.tuples(st.just("remove"), st.integers(0, 9)),
    st.tuples(st.just("sort"), st.integers(0, 2), st.booleans()),
    st.tuples(st.just("cursor"), st.integers(0, 9), st.integers(0, 2)),
    st.tuples(st.just("column"), st.one_of(st.none(), st.integers(1, 9))),
    st.tuples(st.just("stripes"), st.booleans()),
    st.tuples(st.just("theme"), st.sampled_from(["textual-dark", "textual-light"])),
    st.tuples(st.just("idle")),
)


def _apply(table: DataTable[Any], op: tuple[Any, ...]) -> None:
    rows = list(table.rows)
    columns = list(table.columns)
    kind = op[0]
    if kind == "update" and rows:
        _, r, c, value, widen = op
        table.update_cell(rows[r % len(rows)], columns[c % len(columns)], value, update_width=widen)
    elif kind == "add":
        _, k, value = op
        if f"k{k}" not in {key.value for key in rows}:
            table.add_row(*([value] * len(columns)), key=f"k{k}")
    elif kind == "remove" and rows:
        table.remove_row(rows[op[1] % len(rows)])
    elif kind == "sort" and rows:
        table.sort(columns[op[1] % len(columns)], key=lambda v: str(v), reverse=op[2])
    elif kind == "cursor" and rows:
        table.move_cursor(row=op[1] % len(rows), column=op[2] % len(columns))
    elif kind == "column":
        table.add_column(f"c{len(columns)}", width=op[1], default="·")
    elif kind == "stripes":
        table.zebra_stripes = op[1]


def _lines(table: DataTable[Any]) -> list[list[tuple[str, Any, Any]]]:
    # Every line drawn now: the widget's own strip cache keeps lines until a refresh
    # marks them, which is the same for both tables and not what is compared here.
    table._styles_cache.clear()
    strips = table.render_lines(Region(0, 0, table.size.width, table.size.height))
    return [[(s.text, s.style, s.control) for s in strip if s.text] for strip in strips]


def _twin(ops: list[tuple[Any, ...]]) -> None:
    # Without asyncio's debug mode (make test sets PYTHONASYNCIODEBUG): each pilot pause
    # waits for the loop to go quiet, which debug mode's bookkeeping stretched to ~0.5 s
    # here, and the 40 examples past the test's 120 s. What is checked is the drawing.
    asyncio.run(_twin_run(ops), debug=False)


async def _twin_run(ops: list[tuple[Any, ...]]) -> None:
    app = TwinApp()
    async with app.run_test(size=(120, 14)) as pilot:
        plain = app.query_one("#plain", DataTable)
        cached = app.query_one("#cached", CachedCellsTable)
        app.set_focus(None)
        for table in (plain, cached):
            table.add_column("a", key="a", width=6)
            table.add_column("b", key="b")
            table.add_column("c", key="c", width=4)
            for i in range(4):
                table.add_row(f"v{i}", f"{i / 7:.3f}", str(i), key=f"r{i}")
        await pilot.pause()
        for op in ops:
            if op[0] == "theme":
                app.theme = op[1]
            else:
                for table in (plain, cached):
                    _apply(table, op)
            if op[0] in ("idle", "theme"):
                await pilot.pause()
                await _settle(plain, cached)
            _assert_same(cached, plain, op)
        await pilot.pause()
        await _settle(plain, cached)
        _assert_same(cached, plain, ops[-1:])


def _assert_same(cached: DataTable[Any], plain: DataTable[Any], op: object) -> None:
    # The oracle draws from scratch: a plain DataTable's own line cache can lag a width
    # its idle pass just measured, and a stale line is not what the cached table owes.
    plain._clear_caches()
    for y, (ours, theirs) in enumerate(zip(_lines(cached), _lines(plain), strict=True)):
        assert ours == theirs, f"after {op!r}, line {y}:\n{ours}\n{theirs}"


async def _settle(*tables: DataTable[Any]) -> None:
    # Each table measures widths when its own queue runs dry: a pause may catch one
    # table before and the other after. Run that step now on both, so they compare alike.
    for table in tables:
        await table._on_idle(events.Idle())


@settings(max_examples=examples(40), deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=st.lists(_OPS, max_size=20))
def test_after_any_operations_every_line_is_what_datatable_draws(ops: list[Any]) -> None:
    """Rows added, removed and sorted, cells patched (widening or not), the cursor moved,
    columns added, stripes and the theme switched: the cached table draws every line
    exactly as a plain DataTable given the same operations."""
    _twin(ops)


@settings(max_examples=examples(25), deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=st.lists(_OPS, max_size=20))
def test_with_caches_smaller_than_a_screen_every_line_is_still_right(ops: list[Any]) -> None:
    """The caches drop their least recently used renders (and DataTable's own are capped
    as small): with room for fewer renders than one screen needs, every paint evicts,
    and what is drawn is still exactly a plain DataTable's."""
    # Without fitting them to the table's size, which would grow them past a screen.
    with (
        mock.patch.multiple(cell_cache, LINES_KEPT=3, CELLS_KEPT=5, CONTENTS_KEPT=4),
        mock.patch.object(CachedCellsTable, "_fit_caches", return_value=None),
    ):
        _twin(ops)


class TallApp(App[None]):
    CSS = "CachedCellsTable { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield CachedCellsTable(id="t")


async def test_a_table_taller_than_the_caches_still_reuses_its_cells() -> None:
    """460 rows of 11 columns on screen is more cells than the caches keep by default.
    The table grows them to its size: moving the cursor (which changes every line's key)
    renders the two cells whose cursor state changed, not all 5,060 again."""
    app = TallApp()
    async with app.run_test(size=(120, 462)) as pilot:
        table = app.query_one(CachedCellsTable)
        for c in range(11):
            table.add_column(f"c{c}", key=f"c{c}", width=8)
        for r in range(500):
            table.add_row(*(f"{r}.{c}" for c in range(11)), key=f"r{r}")
        await pilot.pause()
        visible = table.size.height - 1  # less the header
        assert visible * 11 > cell_cache.CELLS_KEPT
        _lines(table)
        rendered = 0
        render = table._render_body_cell

        def counted(*args: Any) -> Any:
            nonlocal rendered
            rendered += 1
            return render(*args)

        table._render_body_cell = counted  # type: ignore[method-assign]
        table.move_cursor(row=5, column=3)
        _lines(table)
        assert 0 < rendered <= 4, rendered

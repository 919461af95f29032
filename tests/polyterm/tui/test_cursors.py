"""The reader's place survives what moves under it: the selected market under a live
sort, the markets' order after a filter is cleared, the positions cursor when another
position closes."""

from __future__ import annotations

from pathlib import Path

from tests.kit.console import SIZE, console, replayed, until


async def test_the_selected_market_stays_selected_when_a_live_sort_reorders_rows(
    tape: Path, tmp_path: Path
) -> None:
    # Sorted by a price column, rows move as prices move. The cursor must stay on the
    # market the user picked: enter, f then m, act on "the selected market".
    from engine.runtime.backtest import replay_records
    from tests.kit.console import backend
    from widgets.markets_table import MarketsTable

    records = list(replay_records([tape]))
    half = records[0].t + 60
    first = [r for r in records if r.t < half]
    rest = [r for r in records if r.t >= half]
    app = console(tape, tmp_path, records=first)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        table = app.screen.query_one(MarketsTable)
        table.sort_by("last")
        order = table.shown_assets
        picked = order[len(order) // 2]
        table.move_cursor(row=table.get_row_index(picked))
        await pilot.pause()
        assert table.selected_asset == picked
        await backend(app).advance(rest)
        await until(pilot, lambda: app.shown_snapshot is backend(app).hub.latest)
        await pilot.pause()
        assert table.shown_assets != order, "the tape's second minute reorders nothing"
        assert table.selected_asset == picked


async def test_clearing_the_filter_brings_rows_back_in_their_place(
    tape: Path, tmp_path: Path
) -> None:
    from widgets.markets_table import MarketsTable

    app = console(tape, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        table = app.screen.query_one(MarketsTable)
        order = table.shown_assets
        assert order == [r.asset_id for r in app.bridge.latest.markets]
        await pilot.press("slash", *"incumbent")
        assert 0 < table.row_count < len(order)
        await pilot.press("escape")
        assert table.row_count == len(order)
        assert table.shown_assets == order


async def test_the_positions_table_keeps_its_cursor_when_another_position_closes(
    busy_tape: Path, tmp_path: Path
) -> None:
    # Rows keyed by token and patched in place: a position closing elsewhere removes its
    # row; it must not rebuild the table and throw the user's cursor back to the top.
    from textual.widgets import DataTable

    from engine.runtime.commands import FlattenScope
    from tests.kit.console import backend

    app = console(busy_tape, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        table = app.screen.query_one("#positions-table", DataTable)
        rows = [str(r.key.value) for r in table.ordered_rows]
        assert len(rows) >= 3
        picked, other = rows[-1], rows[0]
        table.move_cursor(row=len(rows) - 1)
        await pilot.pause()
        b = backend(app)
        market = b.market_of(other)
        assert market is not None
        assert market != b.market_of(picked)
        await b.flatten(FlattenScope("market", market))
        await until(pilot, lambda: app.shown_snapshot is b.hub.latest)
        await pilot.pause()
        assert other not in [str(r.key.value) for r in table.ordered_rows]
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        assert key == picked, f"cursor moved to row {table.cursor_row}"

"""Defects a review of the console found, each reproduced on the seeded replay and failing
before its fix: pause and resting entries, stacked confirmations, a "selected market"
flatten with nothing selected, the cursor under a live sort, theme saving (errors, quick
switches, symlinks), fill toasts, the positions cursor, the filter's row order."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kit.console import SIZE, console, plain, replayed, until


async def test_a_theme_that_cannot_be_saved_says_so(tape: Path, tmp_path: Path) -> None:
    # The config dir cannot be created (a file sits where the directory should be):
    # the user must hear the choice was not saved, not find out on the next start.
    blocker = tmp_path / "polyterm"
    blocker.write_text("not a directory")
    config = blocker / "config.toml"
    app = console(tape, tmp_path, config_path=config)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        await pilot.press("t")
        assert app.theme == "polyterm-light"
        await until(pilot, lambda: not any(w.group == "config" for w in app.workers))
        await pilot.pause()
        await until(pilot, lambda: any(n.title == "Theme not saved" for n in app.notices.shown))
        assert "Theme not saved" in plain(app.screen.query_one("#notice"))


async def test_switching_theme_twice_quickly_saves_the_last_choice(
    tape: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A slow disk (a network home directory): the first save is still writing when the
    # user presses t again. config.toml must end up with the theme on screen.
    import threading

    import polyterm.tui.app as app_module
    from polyterm.settings.config import load_config, save_theme

    first_may_finish = threading.Event()
    calls: list[str] = []
    done: list[str] = []

    def slow_save(path: Path, name: str) -> None:
        calls.append(name)
        if len(calls) == 1:
            first_may_finish.wait(10)
        save_theme(path, name)
        done.append(name)

    monkeypatch.setattr(app_module, "save_theme", slow_save)
    config = tmp_path / "config.toml"
    config.write_text("# mine\n")
    app = console(tape, tmp_path, config_path=config)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        await pilot.press("t")
        await until(pilot, lambda: len(calls) == 1)
        await pilot.press("t")
        assert app.theme == "polyterm-dark"
        first_may_finish.set()

        def saved() -> str:
            return load_config(config, env={}).console.theme

        try:
            await until(pilot, lambda: len(done) == len(calls) and saved() == app.theme, within=10)
        except TimeoutError:
            pytest.fail(f"config.toml says {saved()} while the console shows {app.theme}")


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


async def test_the_palette_cannot_stack_a_second_flatten_preview(
    tape: Path, tmp_path: Path
) -> None:
    # ctrl+p is a priority binding, so the palette opens over the flatten modal. Choosing
    # "Flatten all…" there must not stack a second preview: confirming the top one and
    # then the one beneath (its preview now stale) sends two flattens for one intent.
    from textual.command import CommandList, CommandPalette

    from polyterm.tui import messages
    from polyterm.tui.screens.flatten import FlattenScreen

    finished: list[str] = []

    def hook(message: object) -> None:
        if isinstance(message, messages.CommandFinished):
            finished.append(message.command)

    app = console(tape, tmp_path)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await replayed(pilot)
        await pilot.press("f")
        assert isinstance(app.screen, FlattenScreen)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Flatten all")
        results = app.screen.query_one(CommandList)
        await until(pilot, lambda: results.option_count > 0 and results.highlighted is not None)
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, CommandPalette))
        await pilot.pause()
        previews = [s for s in app.screen_stack if isinstance(s, FlattenScreen)]
        if len(previews) > 1:
            await pilot.press("y")
            await until(pilot, lambda: finished == ["flatten"])
            await pilot.press("y")
            await pilot.pause()
            await until(pilot, lambda: not isinstance(app.screen, FlattenScreen))
            await until(pilot, lambda: len(finished) == 2, within=5)
        assert len(previews) == 1, f"{len(previews)} flatten previews stacked; sent {finished}"


async def test_flatten_the_selected_market_never_widens_to_everything(
    tape: Path, tmp_path: Path
) -> None:
    # The filter hides every row: no market is selected. "Flatten the selected market…"
    # must not open a preview of everything, one `y` away from closing every position.
    from textual.command import CommandList, CommandPalette

    from engine.runtime.commands import FlattenScope
    from polyterm.tui.screens.flatten import FlattenScreen
    from widgets.markets_table import MarketsTable

    app = console(tape, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        table = app.screen.query_one(MarketsTable)
        await pilot.press("slash", *"zzz", "enter")
        assert table.row_count == 0
        assert app._selected_asset() is None
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Flatten the selected market")
        results = app.screen.query_one(CommandList)
        await until(pilot, lambda: results.option_count > 0 and results.highlighted is not None)
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, CommandPalette))
        await pilot.pause()
        if isinstance(app.screen, FlattenScreen):
            assert app.screen.plan.scope != FlattenScope(), (
                "'Flatten the selected market…' previews (and y sends) a flatten of everything"
            )


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


async def test_saving_the_theme_writes_through_a_symlinked_config(
    tape: Path, tmp_path: Path
) -> None:
    # config.toml kept in a dotfiles repository and linked into ~/.config/polyterm: the
    # theme belongs in the user's file, not in a new file that replaces the link.
    dotfiles = tmp_path / "dotfiles" / "polyterm.toml"
    dotfiles.parent.mkdir()
    dotfiles.write_text("# tracked in git\noffline = true\n")
    config = tmp_path / "config.toml"
    config.symlink_to(dotfiles)
    app = console(tape, tmp_path, config_path=config)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        await pilot.press("t")
        await until(pilot, lambda: "polyterm-light" in config.read_text())
    assert config.is_symlink(), "the link was replaced by a plain file"
    assert "polyterm-light" in dotfiles.read_text()


async def test_a_steady_stream_of_fills_changes_the_notice_line_at_most_once_per_period(
    tape: Path, tmp_path: Path
) -> None:
    # A busy run fills on every refresh. Toasts over the panes hid the Sentiment pane most
    # of the time; the notice line hides nothing, and changes at most once every
    # EVERY_S seconds, the fills in between summed up into the next notice.
    import time

    from engine.events import Filled
    from engine.orders import Fill, Liquidity, Side
    from polyterm.tui.notices import EVERY_S

    app = console(tape, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        before = len(app.notices.shown)
        asset = app.bridge.latest.markets[0].asset_id
        market = app.bridge.latest.markets[0].market
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < 2 * EVERY_S - 0.3:
            n += 1
            fill = Fill(
                f"o{n}#1",
                f"o{n}",
                asset,
                market,
                Side.BUY,
                5000,
                10_000_000,
                0,
                Liquidity.TAKER,
                0.0,
            )
            app.bridge.events.append(Filled(0.0, fill, "mean_reversion", "entry"))
            await pilot.pause(app.refresh_s)
        await pilot.pause()
        shown = list(app.notices.shown)[before:]
        # The window holds two starts of a period: at most two changes of the line.
        assert 1 <= len(shown) <= 2, f"{len(shown)} notices for {n} refreshes with fills"
        assert any(s.more for s in shown), "the fills in between were not summed up"
        assert "fill" in plain(app.screen.query_one("#notice")).lower()


async def test_pause_stops_entries_that_rest_on_the_book(busy_tape: Path, tmp_path: Path) -> None:
    # mean_reversion and momentum_scalping enter with resting post-only bids when the
    # gap does not pay the spread. After p ("no new entries") no entry may fill: a bid
    # left working that fills is a new position taken while the header says PAUSED.
    from engine.orders import Side
    from engine.runtime.backtest import replay_records
    from tests.kit.console import backend, truth

    records = list(replay_records([busy_tape]))
    half = records[0].t + 40  # entry bids rest on the book then
    first = [r for r in records if r.t < half]
    rest = [r for r in records if r.t >= half]
    app = console(busy_tape, tmp_path, records=first)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        resting = [o for o in truth(app).orders if o.side == Side.BUY]
        assert resting, "no entry rests on the book at the pause"
        await pilot.press("p")
        assert backend(app).paused
        entries = truth(app).telemetry.approved
        buys = app.bridge.latest.telemetry.entries
        await backend(app).advance(rest)
        await until(pilot, lambda: app.shown_snapshot is backend(app).hub.latest)
        assert truth(app).telemetry.approved == entries  # no new entry order: that holds
        assert app.bridge.latest.telemetry.entries == buys, "entries filled while paused"

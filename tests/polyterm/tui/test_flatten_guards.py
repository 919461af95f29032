"""Flatten never does more than the person asked: the palette cannot stack a second
preview over the first, and "the selected market" with nothing selected never becomes
everything."""

from __future__ import annotations

from pathlib import Path

from tests.kit.console import SIZE, console, replayed, until


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
        assert table.selected_asset is None
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

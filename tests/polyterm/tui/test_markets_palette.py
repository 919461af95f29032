"""Markets chosen by name from the command palette, on the console's live session over a
test's own emulator (real loopback HTTP and WebSocket): the palette searches Gamma for
what is typed, "Watch: …" adds the market (listed, its book loaded, subscribed), and
"Stop watching: …" removes it (unsubscribed); the detail screen says when a market ends
and whether it resolved."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot

from engine.orders import OrderType, Side
from engine.runtime.commands import ManualOrder
from polyterm.emulator.server import ExchangeEmulator
from polyterm.tui.app import PolytermApp
from polyterm.tui.screens.detail import MarketDetailScreen
from tests.kit.console import live_console, plain, until
from tests.kit.emulator import served_by
from widgets.markets_table import MarketsTable

pytestmark = pytest.mark.integration

SIZE = (120, 35)
# No strategy trades: a market with nothing held or resting there may be dropped.
QUIET = {
    f"STRATEGIES_{name}_ENABLED": "false"
    for name in (
        "MEAN_REVERSION",
        "MOMENTUM_SCALPING",
        "EVENT_DRIVEN",
        "MICRO_ARBITRAGE",
        "CROSS_MARKET_ARBITRAGE",
    )
}


def traded(app: PolytermApp) -> set[str]:
    snap = app.bridge.latest
    return {r.market for r in snap.markets} if snap is not None else set()


async def _palette(pilot: Pilot[int], typed: str, wanted: str) -> None:
    """Open the palette, type, and run the hit whose text holds `wanted`."""
    app = pilot.app
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*typed)
    results = app.screen.query_one(CommandList)

    def offered() -> int | None:
        for i in range(results.option_count):
            if wanted in str(results.get_option_at_index(i).prompt):
                return i
        return None

    await until(pilot, lambda: offered() is not None)
    results.highlighted = offered()
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(app.screen, CommandPalette))


@pytest.mark.emulator(markets=4)
async def test_a_market_is_watched_from_the_palette_and_then_dropped(
    emulator: ExchangeEmulator, tmp_path: Path
) -> None:
    app = live_console(emulator, tmp_path, max_markets=2, env=QUIET)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(traded(app)) == 2, within=60)
        other = next(
            m.info for m in emulator.exchange.markets if m.info.condition_id not in traded(app)
        )
        await _palette(pilot, f"watch {other.slug}", other.question)
        # Listed and streamed: its rows in the markets pane, with a book from the venue.
        await until(pilot, lambda: other.condition_id in traded(app), within=30)
        await served_by(emulator, lambda served: set(other.token_ids) <= served)
        table = app.screen.query_one(MarketsTable)
        await until(pilot, lambda: all(t in table.shown_assets for t in other.token_ids))
        await until(
            pilot,
            lambda: any(
                r.best_bid is not None
                for r in app.bridge.latest.markets
                if r.market == other.condition_id
            ),
        )
        assert any(n.title == "Markets" and "now trading" in n.message for n in app.notices.posted)
        # Its detail screen says when it ends and that it takes orders.
        table.focus()
        table.move_cursor(row=table.get_row_index(other.token_ids[0]))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MarketDetailScreen))
        title = app.screen.query_one("#detail-title")
        await until(pilot, lambda: "status open, taking orders" in plain(title))
        # (The emulator's made-up markets may carry no end date: then the screen says so.)
        ends = f"ends {other.end_date[:10]}" if other.end_date else "ends — (the venue gives no"
        assert ends in plain(title)
        await pilot.press("escape")

        # Not while an order rests there (its book is what the order needs).
        row = next(r for r in app.bridge.latest.markets if r.asset_id == other.token_ids[0])
        assert row.best_bid is not None
        resting = await app.backend.manual_order(  # type: ignore[union-attr]
            ManualOrder(
                other.token_ids[0],
                Side.BUY,
                5_000_000,
                # The lowest price there is: the flow's swings fill a bid a few ticks
                # under the touch within seconds, and then nothing rests.
                int(row.tick * 10_000),
                OrderType.GTC,
            )
        )
        assert resting.order_id is not None
        await _palette(pilot, f"stop watching {other.question[:20]}", other.question)
        await until(pilot, lambda: any(n.title == "Still watched" for n in app.notices.posted))
        still = next(n for n in app.notices.posted if n.title == "Still watched").message
        assert "1 open orders" in still, still
        assert other.condition_id in traded(app)
        assert app.backend.cancel_order(resting.order_id)  # type: ignore[union-attr]
        await until(pilot, lambda: not app.bridge.latest.orders)

        # Dropped again: unsubscribed, gone from the pane.
        await _palette(pilot, f"stop watching {other.question[:20]}", other.question)
        await until(pilot, lambda: other.condition_id not in traded(app), within=30)
        await served_by(emulator, lambda served: not set(other.token_ids) & served)
        await until(pilot, lambda: not any(t in table.shown_assets for t in other.token_ids))
        assert any("no longer trading" in n.message for n in app.notices.posted)
        await pilot.press("q")

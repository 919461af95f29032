"""The console on a seeded replay, driven with Pilot: every binding and every modal."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from textual.command import CommandList, CommandPalette

from engine.decisions import DecisionKind
from engine.orders import StrategyId
from engine.runtime.backtest import replay_records
from engine.runtime.commands import FlattenScope, KillSwitchState
from polyterm.tui.app import PolytermApp
from polyterm.tui.commands import console_commands
from polyterm.tui.screens.confirm import ConfirmScreen
from polyterm.tui.screens.detail import MarketDetailScreen
from polyterm.tui.screens.flatten import FlattenScreen
from polyterm.tui.screens.help import HelpScreen
from tests.kit.console import SIZE, backend, console, plain, replayed, truth, until
from widgets.header import StatusHeader
from widgets.log_pane import LogPane
from widgets.markets_table import MarketsTable


def held(app: PolytermApp) -> dict[str, int]:
    """The engine's own positions (not what a pane shows): asset -> shares."""
    return {p.asset_id: int(p.shares * 10**6) for p in truth(app).positions if p.shares}


def header_text(app: PolytermApp) -> str:
    return plain(app.screen.query_one(StatusHeader))


async def test_the_dashboard_shows_the_engine(tape: Path, tmp_path: Path) -> None:
    app = console(tape, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        snap = app.bridge.latest
        assert snap is not None
        header = header_text(app)
        assert "PAPER" in header
        assert "RUNNING" in header
        assert "feed replay" in header
        assert f"{len({r.market for r in snap.markets})} markets" in header
        table = app.screen.query_one(MarketsTable)
        assert table.row_count == len(snap.markets) == 12
        first = snap.markets[0]
        row = table.cells_of(first.asset_id)
        assert row["bid"] == f"{first.best_bid * 100:.1f}¢"
        assert row["ask"] == f"{first.best_ask * 100:.1f}¢"
        # Held positions show in their rows; the rest show a dash, not a zero.
        for p in snap.positions:
            cell = table.cells_of(p.asset_id)["position"]
            assert cell == (f"{p.shares:,.2f}" if p.shares else "—")


async def test_p_pauses_entries_for_real_and_resumes(tape: Path, tmp_path: Path) -> None:
    records = list(replay_records([tape]))
    half = records[0].t + 60
    first = [r for r in records if r.t < half]
    rest = [r for r in records if r.t >= half]

    # Control: the second minute of the tape makes entries when nothing is paused.
    control = console(tape, tmp_path / "control", records=first)
    (tmp_path / "control").mkdir()
    async with control.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        before = truth(control).telemetry.approved
        await backend(control).advance(rest)
        assert truth(control).telemetry.approved > before, "the second minute makes no entry"

    app = console(tape, tmp_path, records=first)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        await pilot.press("p")
        assert backend(app).paused
        await until(pilot, lambda: "PAUSED" in header_text(app))
        entries = truth(app).telemetry.approved
        await backend(app).advance(rest)
        assert truth(app).telemetry.approved == entries, "an entry was placed while paused"
        kinds = [s.kind for s in truth(app).signals]
        assert DecisionKind.PAUSED in kinds  # strategies wanted in, and were held back
        await pilot.press("p")
        assert not backend(app).paused
        await until(pilot, lambda: "RUNNING" in header_text(app))


async def test_flatten_preview_lists_the_open_positions_and_cancel_leaves_them(
    busy_tape: Path, tmp_path: Path
) -> None:
    app = console(busy_tape, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        positions = held(app)
        assert len(positions) >= 5
        before = truth(app)
        orders, working = before.counters.orders, {o.order_id for o in before.orders}
        await pilot.press("f")
        assert isinstance(app.screen, FlattenScreen)
        plan = app.screen.plan
        assert plan.scope == FlattenScope()
        previewed = {c.asset_id for c in plan.closes} | {a for a, _, _ in plan.left}
        assert previewed == set(positions)
        for close in plan.closes:
            assert close.shares == positions[close.asset_id]
        shown = plain(app.screen.query_one("#flatten-preview"))
        for asset in positions:
            question, outcome = backend(app).describe(asset)
            assert question[:20] in shown
        await pilot.press("n")
        assert not isinstance(app.screen, FlattenScreen)
        assert held(app) == positions
        await pilot.press("f", "escape")
        assert not isinstance(app.screen, FlattenScreen)
        assert held(app) == positions
        # Cancelling sent nothing and cancelled nothing.
        after = truth(app)
        assert after.counters.orders == orders
        assert {o.order_id for o in after.orders} == working


async def test_flatten_confirm_closes_them(busy_tape: Path, tmp_path: Path) -> None:
    app = console(busy_tape, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        positions = held(app)
        await pilot.press("f")
        assert isinstance(app.screen, FlattenScreen)
        closable = {c.asset_id for c in app.screen.plan.closes}
        left = {a for a, _, _ in app.screen.plan.left}
        assert closable
        await pilot.press("y")
        await until(pilot, lambda: not closable & set(held(app)))
        assert set(held(app)) == left  # only what the preview said it could not close
        await until(
            pilot,
            lambda: (
                not any(p.asset_id in closable and p.shares for p in app.bridge.latest.positions)
            ),
        )
    db = sqlite3.connect(tmp_path / "console.sqlite")
    try:
        flattened = {
            r[0] for r in db.execute("SELECT asset_id FROM exits WHERE reason = 'flatten'")
        }
    finally:
        db.close()
    assert flattened == closable
    assert closable <= set(positions)


async def test_flatten_scopes_market_and_strategy(busy_tape: Path, tmp_path: Path) -> None:
    app = console(busy_tape, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        market_of = {row.asset_id: row.market for row in truth(app).markets}
        table = app.screen.query_one(MarketsTable)
        asset = next(a for a in held(app))
        table.move_cursor(row=table.get_row_index(asset))
        await pilot.press("f", "m")
        modal = app.screen
        assert isinstance(modal, FlattenScreen)
        market = market_of[asset]
        assert modal.plan.scope == FlattenScope("market", market)
        for close in modal.plan.closes:
            assert market_of[close.asset_id] == market
        await pilot.press("s")
        first = modal.plan.scope
        assert first.kind == "strategy"
        for close in modal.plan.closes:
            assert StrategyId(close.strategy).includes(first.value)
        await pilot.press("s")
        assert modal.plan.scope != first
        await pilot.press("a")
        assert modal.plan.scope == FlattenScope()
        await pilot.press("escape")


async def test_k_kills_after_confirmation_and_r_resets(tape: Path, tmp_path: Path) -> None:
    app = console(tape, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        await pilot.press("k")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert truth(app).kill_switch.killed_by is None
        await pilot.press("k", "y")
        await until(pilot, lambda: app.bridge.latest.kill_switch.killed_by == "console")
        await until(pilot, lambda: "KILLED" in header_text(app))
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        assert truth(app).kill_switch.killed_by == "console"
        await pilot.press("r", "y")
        await until(pilot, lambda: app.bridge.latest.kill_switch.killed_by is None)
        assert app.bridge.latest.kill_switch.state == KillSwitchState.ARMED


def _resting_at_forty_seconds(busy_tape: Path, tmp_path: Path) -> PolytermApp:
    # Forty seconds into the bare flow, the strategies' entry bids rest on the books.
    records = list(replay_records([busy_tape]))
    first = [r for r in records if r.t < records[0].t + 40]
    return console(busy_tape, tmp_path, records=first)


def _ledger_statuses(tmp_path: Path, order_ids: list[str]) -> set[str]:
    db = sqlite3.connect(tmp_path / "console.sqlite")
    try:
        marks = ",".join("?" * len(order_ids))
        rows = db.execute(f"SELECT status FROM orders WHERE id IN ({marks})", order_ids)
        return {status for (status,) in rows}
    finally:
        db.close()


async def test_capital_x_cancels_every_open_order_after_confirmation(
    busy_tape: Path, tmp_path: Path
) -> None:
    from polyterm.tui import messages

    finished: list[tuple[str, str]] = []

    def hook(message: object) -> None:
        if isinstance(message, messages.CommandFinished):
            finished.append((message.command, message.summary))

    app = _resting_at_forty_seconds(busy_tape, tmp_path)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await replayed(pilot)
        resting = [o.order_id for o in truth(app).orders]
        assert len(resting) >= 2, "no orders rest at forty seconds"
        held_before = held(app)
        await pilot.press("X")
        assert isinstance(app.screen, ConfirmScreen)
        assert f"({len(resting)})" in plain(app.screen.query_one("#dialog-body"))
        await pilot.press("n")
        await pilot.pause()
        assert [o.order_id for o in truth(app).orders] == resting, "n cancelled orders"
        await pilot.press("X", "y")
        await until(pilot, lambda: not truth(app).orders)
        await until(pilot, lambda: bool(finished))
        await until(pilot, lambda: not app.bridge.latest.orders)
        assert held(app) == held_before, "cancelling orders touched positions"
    assert finished == [("cancel all", f"{len(resting)} cancels sent")]
    assert _ledger_statuses(tmp_path, resting) == {"cancelled"}


async def test_the_palettes_cancel_all_asks_first_and_escape_leaves_the_orders(
    busy_tape: Path, tmp_path: Path
) -> None:
    app = _resting_at_forty_seconds(busy_tape, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        resting = [o.order_id for o in truth(app).orders]
        assert resting, "no orders rest at forty seconds"
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Cancel every open order")
        results = app.screen.query_one(CommandList)
        await until(pilot, lambda: results.option_count > 0 and results.highlighted is not None)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await pilot.pause()
        assert [o.order_id for o in truth(app).orders] == resting
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Cancel every open order")
        results = app.screen.query_one(CommandList)
        await until(pilot, lambda: results.option_count > 0 and results.highlighted is not None)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: not truth(app).orders)
    assert _ledger_statuses(tmp_path, resting) == {"cancelled"}


async def test_slash_filters_the_markets_and_escape_clears(tape: Path, tmp_path: Path) -> None:
    app = console(tape, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        table = app.screen.query_one(MarketsTable)
        everything = table.row_count
        await pilot.press("slash")
        await pilot.press(*"alpha")
        assert 0 < table.row_count < everything
        assert all("Alpha" in str(table.get_row_at(i)[0]) for i in range(table.row_count))
        await pilot.press("enter")  # keeps the filter, back to the table
        assert table.has_focus
        assert table.filter_text == "alpha"
        await pilot.press("escape")
        assert table.row_count == everything


async def test_enter_opens_the_market_detail_and_escape_returns(tape: Path, tmp_path: Path) -> None:
    app = console(tape, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        table = app.screen.query_one(MarketsTable)
        asset = table.selected_asset
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, MarketDetailScreen)
        assert screen.asset_id == asset
        depth = backend(app).depth(asset)
        assert depth is not None
        assert depth.bids
        await until(pilot, lambda: "bid" in plain(screen.query_one("#detail-title")))
        await pilot.press("escape")
        assert not isinstance(app.screen, MarketDetailScreen)


async def test_question_mark_lists_every_binding(tape: Path, tmp_path: Path) -> None:
    app = console(tape, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = plain(app.screen.query_one("#help-keys"))
        for key in ("p", "f", "k", "r", "/", "enter", "?", "t", "l", "q", "ctrl+p", "y", "esc"):
            assert f"\n{key} " in f"\n{text}".replace("│", "\n").replace("\n ", "\n"), key
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_t_switches_theme_and_saves_it_keeping_the_file(tape: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '# my settings\noffline = true  # keep this\n\n[risk]\nmax_order_shares = "20"\n'
    )
    app = console(tape, tmp_path, config_path=config)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        await pilot.press("t")
        assert app.theme == "polyterm-light"
        await until(pilot, lambda: "polyterm-light" in config.read_text())
        text = config.read_text()
        assert "# my settings" in text
        assert "offline = true  # keep this" in text
        assert 'max_order_shares = "20"' in text
        from polyterm.settings.config import load_config

        assert load_config(config, env={}).console.theme == "polyterm-light"
        await pilot.press("t")
        assert app.theme == "polyterm-dark"
        await until(pilot, lambda: 'theme = "polyterm-dark"' in config.read_text())


async def test_l_toggles_the_log_pane(tape: Path, tmp_path: Path) -> None:
    app = console(tape, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        log = app.screen.query_one(LogPane)
        assert not log.display
        await pilot.press("l")
        assert log.display
        await pilot.press("p")  # a command: a log line
        await until(pilot, lambda: any("entries paused" in line.text for line in log.lines))
        await pilot.press("l")
        assert not log.display


async def test_o_sorts_the_markets(tape: Path, tmp_path: Path) -> None:
    app = console(tape, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        table = app.screen.query_one(MarketsTable)
        await pilot.press("o", "o")  # question, then bid
        assert table.sort_column == "bid"
        bids = [app.bridge.latest and r for r in table.shown_assets]
        rows = {r.asset_id: r for r in app.bridge.latest.markets}
        values = [rows[a].best_bid for a in bids if rows[a].best_bid is not None]
        assert values == sorted(values)


async def test_q_stops_the_engine_cleanly_and_exits_0(tape: Path, tmp_path: Path) -> None:
    app = console(tape, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        b = backend(app)
        await pilot.press("q")
        await until(pilot, lambda: b.state == "stopped")
    assert app.return_code == 0
    assert b.hub.closed
    db = sqlite3.connect(tmp_path / "console.sqlite")
    try:
        ended = db.execute("SELECT ended_at FROM runs").fetchall()
    finally:
        db.close()
    assert ended
    assert ended[0][0] is not None


async def test_the_palette_offers_every_command(tape: Path, tmp_path: Path) -> None:
    app = console(tape, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        names = [c.name for c in console_commands(app)]
        for expected in (
            "Pause entries",
            "Flatten all…",
            "Flatten the selected market…",
            "Kill switch: kill and flatten all…",
            "Kill switch: reset (re-arm)…",
            "Cancel every open order…",
            "Buy the selected market…",
            "Sell the selected market…",
            "Filter markets",
            "Market detail",
            "Toggle the log pane",
            "Theme: dark",
            "Theme: light",
            "Keys (help)",
            "Quit",
        ):
            assert expected in names
        for strategy in backend(app).strategies():
            assert f"Flatten strategy {strategy}…" in names
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Pause entries")
        results = app.screen.query_one(CommandList)
        await until(pilot, lambda: results.option_count > 0 and results.highlighted is not None)
        await pilot.press("enter")
        await until(pilot, lambda: backend(app).paused)


async def test_an_engine_failure_is_a_visible_state_not_a_traceback(
    tape: Path, tmp_path: Path
) -> None:
    from contextlib import asynccontextmanager

    from polyterm.faces.replay import ReplayBackend, open_replay_session
    from tests.kit.console import app_config

    class Failing(ReplayBackend):
        async def run(self) -> None:
            raise RuntimeError("the venue went away\nwith a second line")

    @asynccontextmanager
    async def session():  # type: ignore[no-untyped-def]
        async with open_replay_session(app_config(), [tape], tmp_path / "l.sqlite") as b:
            b.__class__ = Failing
            yield b

    app = PolytermApp(session, venue="replay")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.engine_error is not None)
        assert app.engine_error == "the venue went away with a second line"
        await until(pilot, lambda: "FAILED: THE VENUE WENT AWAY" in header_text(app))
        log = app.screen.query_one(LogPane)
        assert log.display  # shown on failure
        await until(pilot, lambda: any("the engine failed" in line.text for line in log.lines))
        assert any(n.severity == "error" for n in app.notices.shown)
        await pilot.press("p")  # nothing to command: greyed out, no crash
        await pilot.press("q")
    assert app.return_code == 1


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


async def test_a_refresh_while_the_panes_are_taken_down_is_no_error(
    tape: Path, tmp_path: Path
) -> None:
    # Shutting down removes the panes while the refresh timer may fire once more, with
    # log lines waiting: that refresh must not raise (it failed the run's teardown).
    import logging

    app = console(tape, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        await app.screen.query_one(LogPane).remove()
        logging.getLogger("polyterm.console").warning("a line while the panes go")
        app.flush()

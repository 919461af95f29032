"""The command palette's provider: every console command, searchable (ctrl+p).

Each entry calls the same action its key does, so the palette and the keys can never
disagree; entries that need a running engine are offered only while one runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from engine.runtime.commands import FlattenScope
from widgets.markets_table import SORTABLE

if TYPE_CHECKING:
    from polyterm.tui.app import PolytermApp


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    help: str
    run: Callable[[], object]


def console_commands(app: PolytermApp) -> list[Command]:
    commands: list[Command] = []
    backend = app.backend
    engine_up = app.engine_running
    if engine_up and backend is not None:
        if backend.paused:
            commands.append(
                Command("Resume entries", "p: strategies may enter again", app.action_toggle_pause)
            )
        else:
            commands.append(
                Command(
                    "Pause entries",
                    "p: no new entries; exits, cancels, settlement go on",
                    app.action_toggle_pause,
                )
            )
        commands.append(
            Command(
                "Flatten all…",
                "f: preview every cancel and close, then confirm",
                app.action_flatten,
            )
        )
        commands.append(
            Command(
                "Flatten the selected market…",
                "f then m: only the market under the cursor",
                partial(app.open_flatten, FlattenScope("market", "")),
            )
        )
        for name in backend.strategies():
            commands.append(
                Command(
                    f"Flatten strategy {name}…",
                    "f then s: only this strategy's orders and positions",
                    partial(app.open_flatten, FlattenScope("strategy", name)),
                )
            )
        commands.append(
            Command(
                "Buy the selected market…",
                "b: order form (preview, risk gate; enter sends)",
                partial(app.action_order, "buy"),
            )
        )
        commands.append(
            Command(
                "Sell the selected market…",
                "s: order form (preview, risk gate; enter sends)",
                partial(app.action_order, "sell"),
            )
        )
        commands.append(
            Command(
                "Cancel every open order…",
                "X: all open orders, strategies' and manual (confirm); x cancels one",
                app.action_cancel_all,
            )
        )
        commands.append(
            Command(
                "Kill switch: kill and flatten all…",
                "k: latch the switch (confirm)",
                app.action_kill,
            )
        )
        commands.append(
            Command(
                "Kill switch: reset (re-arm)…",
                "r: new baseline, entries allowed (confirm)",
                app.action_reset_kill_switch,
            )
        )
    commands += [
        Command("Filter markets", "/: narrow the markets pane by words", app.action_filter),
        Command("Market detail", "enter: depth, sparkline, trades, our orders", app.action_detail),
        Command("Toggle the log pane", "l: engine and console log lines", app.action_toggle_log),
        Command(
            "Reports: summary", "e: the ledger's summary, as `polyterm report`", app.action_reports
        ),
        Command(
            "Theme: dark",
            "polyterm-dark (saved in config.toml)",
            partial(app.set_theme, "polyterm-dark"),
        ),
        Command(
            "Theme: light",
            "polyterm-light (saved in config.toml)",
            partial(app.set_theme, "polyterm-light"),
        ),
        Command("Keys (help)", "?: every key the console binds", app.action_help),
        Command("Quit", "q: stop the engine cleanly, then exit", app.action_quit),
    ]
    for column in SORTABLE:
        commands.append(
            Command(
                f"Sort markets by {column}",
                "o in the markets pane cycles",
                partial(app.sort_markets, column),
            )
        )
    return commands


class PolytermCommands(Provider):
    def _commands(self) -> list[Command]:
        return console_commands(cast("PolytermApp", self.app))

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.name, command.run, help=command.help)

    async def search(self, query: str) -> AsyncIterator[Hit]:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(score, matcher.highlight(command.name), command.run, help=command.help)

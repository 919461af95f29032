"""The command palette's providers (ctrl+p): every console command, and markets by name.

Each command entry calls the same action its key does, so the palette and the keys can
never disagree; entries that need a running engine are offered only while one runs.
The markets provider searches the venue (Gamma) for what is typed and offers to watch
(trade) each open market it finds, and to stop watching each market traded now.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from engine.ports import MarketChoiceError
from engine.runtime.commands import FlattenScope
from widgets.format import short, whole
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


SEARCH_FROM = 3  # characters typed before the venue is searched
IGNORED_WORDS = ("watch", "add", "market", "trade")


class MarketCommands(Provider):
    """Watch a market the venue finds for what is typed; stop watching a traded one."""

    async def search(self, query: str) -> AsyncIterator[Hit]:
        app = cast("PolytermApp", self.app)
        backend = app.backend
        snap = app.bridge.latest
        if backend is None or snap is None or not app.engine_running:
            return
        matcher = self.matcher(query)
        traded: dict[str, str] = {}
        for row in snap.markets:
            traded.setdefault(row.market, row.question)
        if backend.chooses_markets:
            for condition_id, question in traded.items():
                name = f"Stop watching: {question}"
                score = matcher.match(name)
                if score > 0:
                    yield Hit(
                        score,
                        matcher.highlight(name),
                        partial(app.remove_market, condition_id),
                        help="unsubscribe (refused while a position or order is there)",
                    )
        words = [w for w in query.split() if w.lower() not in IGNORED_WORDS]
        text = " ".join(words)
        if not backend.chooses_markets or len(text) < SEARCH_FROM:
            return
        try:
            found = await backend.search_markets(text)
        except MarketChoiceError:
            return  # the venue did not answer: nothing to offer (the log says why)
        for market in found:
            if market.condition_id in traded:
                continue
            name = f"Watch: {market.question}"
            # Gamma found it by its own text search: offered even when the palette's
            # fuzzy match of the question is weak.
            score = max(matcher.match(name), 0.2)
            ends = f" · ends {market.end_date[:10]}" if market.end_date else ""
            yield Hit(
                score,
                matcher.highlight(name),
                partial(app.add_market, market.slug or market.condition_id),
                help=f"{short(market.slug, 40)}{ends} · 24h vol {whole(market.volume_24h)}",
            )

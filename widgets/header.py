"""The status header: mode, venue, feed and its age, markets, PnL, kill switch, state,
clock. One line of Rich text rebuilt per refresh (it is short), coloured by meaning."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.widgets import Static

from engine.runtime.commands import EngineState
from engine.runtime.snapshot import EngineSnapshot
from engine.venue import TradingMode
from widgets.format import DASH, duration, palette, pnl

VENUES = {
    "emulator": "offline emulator",
    "polymarket": "polymarket",
    "backtest": "replay",
    "replay": "replay (seeded emulator tape)",
}
FEED_OK = ("ws_live", "replay")


class StatusHeader(Static):
    DEFAULT_CSS = """
    StatusHeader { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    StatusHeader.-live { background: $warning 30%; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._shown: Text | None = None

    def show(
        self,
        snap: EngineSnapshot | None,
        venue: str,
        engine_state: EngineState,
        error: str | None = None,
    ) -> None:
        """`engine_state` is the console's view of the engine; `error` why it failed."""
        text = Text(no_wrap=True, overflow="ellipsis")
        live = snap is not None and snap.mode is TradingMode.LIVE
        self.set_class(live, "-live")
        if live:
            text.append(" LIVE ", style=f"bold reverse {palette('warn')}")
        elif snap is None:
            text.append(" … ", style="bold reverse")  # the mode is the engine's: not known yet
        else:
            text.append(" PAPER ", style="bold reverse")
        text.append(f" {VENUES.get(venue, venue)}")
        if snap is not None:
            self._feed(text, snap)
        text.append("  │ ")
        words = engine_state.value
        if engine_state is EngineState.FAILED and error:
            words = f"{words}: {error}"
        state = words.upper()
        if engine_state is EngineState.PAUSED:
            text.append(state, style=f"bold {palette('warn')}")
        elif engine_state in (EngineState.FAILED, EngineState.STOPPING, EngineState.STOPPED):
            text.append(state, style=f"bold {palette('pnl-down')}")
        else:
            text.append(state, style="bold")
        if snap is not None:
            clock = datetime.fromtimestamp(snap.at, UTC).strftime("%H:%M:%S UTC")
            text.append(f"  │ {clock}")
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)  # one line, the screen's width: never resized

    def _feed(self, text: Text, snap: EngineSnapshot) -> None:
        feed = snap.feed
        source = feed.current_source
        text.append("  │ feed ")
        text.append(
            source, style=palette("pnl-up") if source in FEED_OK else f"bold {palette('warn')}"
        )
        if source != "replay":
            age = feed.ws_age_s if source.startswith("ws") else feed.rest_age_s
            text.append(f" {duration(age)}" if age is not None else f" {DASH}")
        tracked = len({row.market for row in snap.markets})
        text.append(f"  │ {tracked} markets")
        text.append("  │ realized ")
        text.append(pnl(snap.realized_pnl))
        text.append(" unrealized ")
        text.append(pnl(snap.unrealized_pnl))
        ks = snap.kill_switch
        text.append("  │ kill switch ")
        if ks.killed_by is not None:
            text.append("KILLED", style=f"bold {palette('pnl-down')}")
        elif ks.state == "armed":
            text.append("ARMED", style=palette("pnl-up"))
        elif ks.state == "recovering":
            text.append("RECOVERING", style=palette("warn"))
        else:
            text.append(ks.state.upper(), style=f"bold {palette('pnl-down')}")

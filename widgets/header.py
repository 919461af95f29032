"""The status header: mode, venue, feed and its age, markets, PnL, kill switch, state,
clock. One line of Rich text rebuilt per refresh (it is short), coloured by meaning."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.widgets import Static

from engine.runtime.snapshot import EngineSnapshot
from widgets.format import DASH, duration, palette, pnl

VENUES = {"emulator": "offline emulator", "polymarket": "polymarket", "backtest": "replay"}
FEED_STYLE = {"ws_live": "pnl-up", "ws_stale": "warn", "rest_only": "warn"}


class StatusHeader(Static):
    DEFAULT_CSS = """
    StatusHeader { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    StatusHeader.-live { background: $warning 30%; }
    """

    def show(self, snap: EngineSnapshot | None, venue: str, engine_state: str) -> None:
        """`engine_state` is the console's view ("running", "paused", "failed: ...")."""
        text = Text(no_wrap=True, overflow="ellipsis")
        live = snap is not None and snap.mode == "live"
        self.set_class(live, "-live")
        text.append(" LIVE " if live else " PAPER ", style="bold reverse")
        text.append(f" {VENUES.get(venue, venue)}")
        if snap is None:
            text.append(f"  │ {engine_state}")
            self.update(text)
            return
        feed = snap.feed
        age = feed.ws_age_s if feed.current_source.startswith("ws") else feed.rest_age_s
        style = FEED_STYLE.get(feed.current_source, "")
        text.append("  │ feed ")
        text.append(
            feed.current_source,
            style=palette(style) if style != "warn" else "bold yellow",
        )
        text.append(f" {duration(age)}" if age is not None else f" {DASH}")
        tracked = len({row.market for row in snap.markets})
        text.append(f"  │ {tracked} markets")
        text.append("  │ realized ")
        text.append(pnl(snap.realized_pnl))
        text.append(" unrealized ")
        text.append(pnl(snap.unrealized_pnl))
        ks = snap.kill_switch
        text.append("  │ kill switch ")
        ks_style = palette("pnl-up") if ks.state == "armed" else f"bold {palette('pnl-down')}"
        text.append(ks.state.upper() if ks.killed_by is None else "KILLED", style=ks_style)
        text.append("  │ ")
        state_style = (
            "bold yellow"
            if engine_state == "paused"
            else f"bold {palette('pnl-down')}"
            if engine_state.startswith(("failed", "stopped"))
            else ""
        )
        text.append(engine_state.upper(), style=state_style)
        clock = datetime.fromtimestamp(snap.at, UTC).strftime("%H:%M:%S UTC")
        text.append(f"  │ {clock}")
        self.update(text)

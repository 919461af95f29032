"""The one-line status of a small terminal (80x24, where the panes are tabs): PnL and
equity, the kill switch with its loss against the limit, and the feed."""

from __future__ import annotations

from rich.text import Text

from engine.runtime.commands import KillSwitchState
from engine.runtime.snapshot import EngineSnapshot
from widgets.format import DASH, duration, money, palette, pnl
from widgets.pane import TextPane


def status_text(snap: EngineSnapshot | None) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if snap is None:
        text.append("waiting for the engine's first snapshot", style="dim")
        return text
    text.append("PnL ")
    text.append_text(pnl(snap.pnl))
    text.append(f" (real. {money(snap.realized_pnl, signed=True)})", style="dim")
    ks = snap.kill_switch
    text.append("  │ kill switch ")
    if ks.killed_by is not None:
        text.append("KILLED", style=f"bold {palette('pnl-down')}")
    else:
        ok = ks.state == KillSwitchState.ARMED
        text.append(ks.state.upper(), style=palette("pnl-up") if ok else f"bold {palette('warn')}")
    text.append(f" loss {money(ks.loss)}/{money(ks.limit)}")
    feed = snap.feed
    source = feed.current_source
    text.append("  │ feed ")
    healthy = source in ("ws_live", "replay")
    text.append(source, style=palette("pnl-up") if healthy else f"bold {palette('warn')}")
    if source != "replay":
        age = feed.ws_age_s if source.startswith("ws") else feed.rest_age_s
        text.append(f" {duration(age)}" if age is not None else f" {DASH}")
    return text


class StatusLine(TextPane):
    DEFAULT_CSS = """
    StatusLine { height: 1; padding: 0 1; background: $panel; }
    """

    def show(self, snap: EngineSnapshot | None) -> None:
        self.paint(status_text(snap))

"""Sentiment telemetry: which provider is in use and how fresh it is, why it is a
fallback, the last error, and the latest headlines with their scores and the markets
they moved."""

from __future__ import annotations

from rich.text import Text

from engine.runtime.snapshot import EngineSnapshot
from widgets.format import DASH, duration, palette, short
from widgets.pane import TextPane


class SentimentPane(TextPane):
    DEFAULT_CSS = """
    SentimentPane { height: auto; }
    """

    def show(self, snap: EngineSnapshot) -> None:
        view = snap.sentiment
        text = Text(no_wrap=True, overflow="ellipsis")
        if not view.source and not view.state:
            text.append("sentiment is off (no provider running)", style="dim")
            self.paint(text)
            return
        text.append(f"provider {view.source or DASH}  ")
        state_style = palette("pnl-up") if view.state == "ok" else palette("warn")
        text.append(view.state or DASH, style=state_style)
        text.append(f"  fresh {duration(view.freshness_s)}")
        if view.fallback:
            text.append(f"\nfallback: {short(view.fallback, 60)}", style=palette("warn"))
        if view.last_error:
            text.append(f"\nerror: {short(view.last_error, 60)}", style=palette("pnl-down"))
        if not view.headlines:
            text.append("\nno headlines yet", style="dim")
        for h in view.headlines[:5]:
            style = palette("pnl-up") if h.score > 0 else palette("pnl-down") if h.score < 0 else ""
            text.append("\n")
            text.append(f"{h.score:+.2f}", style=style)
            text.append(f" {short(h.title, 56)}")
            if h.markets:
                text.append(f"\n      → {short(', '.join(h.markets), 58)}", style="dim")
        self.paint(text)

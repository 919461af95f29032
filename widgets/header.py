"""The status header: mode, engine state and the kill switch first, then the feed, PnL,
markets, venue and clock as the width allows. One line of Rich text rebuilt per refresh
(it is short), coloured by meaning.

At every width the header says PAPER or LIVE, the engine's state (RUNNING, PAUSED, ...)
and "kill switch" with its state (and BLOCKED while the gateway stops new orders): those
never give way. The rest is dropped from the
least to the most useful until the line fits (an 80-column terminal keeps the feed and
PnL; 120 adds the markets and the clock; 200 shows everything).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from engine.runtime.commands import EngineState, KillSwitchState
from engine.runtime.snapshot import EngineSnapshot
from engine.venue import TradingMode
from widgets.format import DASH, clock, duration, palette, pnl

VENUES = {
    "emulator": "offline emulator",
    "polymarket": "polymarket",
    "backtest": "replay",
    "replay": "replay (seeded emulator tape)",
}
FEED_OK = ("ws_live", "replay")
SEPARATOR = "  │ "


@dataclass(frozen=True, slots=True)
class Part:
    """One part of the header: its text, and how much it matters (lower goes first)."""

    text: Text
    keep: int  # 0: always shown; higher numbers are dropped first


def header_parts(
    snap: EngineSnapshot | None, venue: str, engine_state: EngineState, error: str | None = None
) -> list[Part]:
    """The header's parts in display order."""
    live = snap is not None and snap.mode is TradingMode.LIVE
    parts: list[Part] = []
    # The mode is the engine's: before its first snapshot it is not known (never "PAPER"
    # for a live run that is still connecting).
    word = " LIVE " if live else " PAPER " if snap is not None else " … "
    mode = Text(word, style="bold reverse")
    if live:
        mode.stylize(palette("warn"))
    parts.append(Part(mode, 0))
    parts.append(Part(_state(engine_state, error), 0))
    parts.append(Part(_kill_switch(snap), 0))
    if snap is not None and snap.trading_blocks:
        # The gateway stopped new orders: as essential as the kill switch.
        reasons = ", ".join(sorted({str(b.reason) for b in snap.trading_blocks}))
        parts.append(Part(Text(f"BLOCKED: {reasons}", style=f"bold {palette('pnl-down')}"), 0))
    if snap is not None:
        parts.append(Part(_feed(snap), 1))
        parts.append(Part(_pnl(snap), 2))
        tracked = len({row.market for row in snap.markets})
        parts.append(Part(Text(f"{tracked} markets"), 4))
    parts.append(Part(Text(VENUES.get(venue, venue)), 5))
    if snap is not None:
        parts.append(Part(Text(f"{clock(snap.at)} UTC"), 3))
    return parts


def fit(parts: list[Part], width: int) -> Text:
    """The parts joined, dropping the least useful until the line fits `width` (the
    essential ones stay even when they do not: an ellipsis then ends the line)."""
    shown = list(parts)
    while True:
        line = _join(shown)
        droppable = [p for p in shown if p.keep > 0]
        if line.cell_len <= width or not droppable:
            return line
        shown.remove(max(droppable, key=lambda p: p.keep))


def _join(parts: list[Part]) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, part in enumerate(parts):
        if i:
            text.append(SEPARATOR if i > 1 else " ")
        text.append_text(part.text)
    return text


def _state(engine_state: EngineState, error: str | None) -> Text:
    words = engine_state.value
    if engine_state is EngineState.FAILED and error:
        words = f"{words}: {error}"
    state = words.upper()
    if engine_state is EngineState.PAUSED:
        return Text(state, style=f"bold {palette('warn')}")
    if engine_state in (EngineState.FAILED, EngineState.STOPPING, EngineState.STOPPED):
        return Text(state, style=f"bold {palette('pnl-down')}")
    return Text(state, style="bold")


def _kill_switch(snap: EngineSnapshot | None) -> Text:
    text = Text("kill switch ")
    if snap is None:
        text.append(DASH)
        return text
    ks = snap.kill_switch
    if ks.killed_by is not None:
        text.append("KILLED", style=f"bold {palette('pnl-down')}")
    elif ks.state == KillSwitchState.ARMED:
        text.append("ARMED", style=palette("pnl-up"))
    elif ks.state == KillSwitchState.RECOVERING:
        text.append("RECOVERING", style=palette("warn"))
    else:
        text.append(ks.state.upper(), style=f"bold {palette('pnl-down')}")
    return text


def _feed(snap: EngineSnapshot) -> Text:
    feed = snap.feed
    source = feed.current_source
    text = Text("feed ")
    text.append(source, style=palette("pnl-up") if source in FEED_OK else f"bold {palette('warn')}")
    if source != "replay":
        age = feed.ws_age_s if source.startswith("ws") else feed.rest_age_s
        text.append(f" {duration(age)}" if age is not None else f" {DASH}")
    return text


def _pnl(snap: EngineSnapshot) -> Text:
    realized, unrealized = pnl(snap.realized_pnl), pnl(snap.unrealized_pnl)
    return Text.assemble("PnL ", realized, " real. ", unrealized, " unr.")


class StatusHeader(Static):
    DEFAULT_CSS = """
    StatusHeader { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    StatusHeader.-live { background: $warning 30%; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._shown: Text | None = None
        self._parts: list[Part] = []

    def show(
        self,
        snap: EngineSnapshot | None,
        venue: str,
        engine_state: EngineState,
        error: str | None = None,
    ) -> None:
        """`engine_state` is the console's view of the engine; `error` why it failed."""
        self.set_class(snap is not None and snap.mode is TradingMode.LIVE, "-live")
        self._parts = header_parts(snap, venue, engine_state, error)
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        width = self.content_region.width or self.app.size.width
        text = fit(self._parts, width)
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)  # one line, the screen's width: never resized

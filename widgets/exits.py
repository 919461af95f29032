"""Exit analytics: how positions were closed (take-profit vs stop-loss share, and every
kind of exit by its label) and the markets that lost the most.

Exits are grouped by the engine's reason id (``ExitReason``) and put into words through
its one label table, so "stop loss" reads the same here, in the text summary and in
every report; a strategy's own words stay in the fills' "why" column.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from rich.text import Text

from engine.execution.exit_reasons import ExitReason, label
from engine.runtime.snapshot import EngineSnapshot
from widgets.format import market_label, money, palette
from widgets.pane import TextPane

WORST_SHOWN = 3


class ExitsPane(TextPane):
    DEFAULT_CSS = """
    ExitsPane { height: auto; }
    """

    def show(self, snap: EngineSnapshot) -> None:
        key = (snap.exit_kinds, snap.exits)  # sections are reused objects while unchanged
        if key == self._key:
            return
        self.paint(exits_text(snap), key)


def exits_text(snap: EngineSnapshot) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    kinds = dict(snap.exit_kinds)
    total = sum(kinds.values())
    if not total:
        text.append("no exits yet", style="dim")
        return text
    tp = kinds.get(ExitReason.TAKE_PROFIT, 0)
    sl = kinds.get(ExitReason.STOP_LOSS, 0)
    text.append(f"{total} exits   take profit ")
    text.append(f"{tp / total:.0%}", style=palette("pnl-up"))
    text.append("   stop loss ")
    text.append(f"{sl / total:.0%}", style=palette("pnl-down"))
    # Every kind that happened, most first, by its label: never "2 other reasons".
    ranked = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
    line = Text("\n")
    for i, (kind, count) in enumerate(ranked):
        if i:
            line.append(" · ", style="dim")
        line.append(f"{label(kind)} {count}")
    text.append_text(line)
    by_market: dict[str, Decimal] = defaultdict(Decimal)
    for e in snap.exits:
        by_market[market_label(e.question, e.outcome, 40)] += e.realized
    # Only markets that lost: a "worst" list showing a gain would read as a loss.
    losers = sorted(((n, r) for n, r in by_market.items() if r < 0), key=lambda kv: kv[1])
    text.append(f"\nworst markets (last {len(snap.exits)} exits)", style="dim")
    if not losers:
        text.append("\n  none lost money", style="dim")
    for name, realized in losers[:WORST_SHOWN]:
        text.append(f"\n  {money(realized, signed=True):>8}", style=palette("pnl-down"))
        text.append(f"  {name}")
    return text

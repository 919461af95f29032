"""Exit analytics: how positions were closed (take-profit vs stop-loss share, every
reason's count) and the markets that lost the most."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from rich.text import Text
from textual.widgets import Static

from engine.runtime.snapshot import EngineSnapshot
from widgets.format import money, palette, short


class ExitsPane(Static):
    DEFAULT_CSS = """
    ExitsPane { height: auto; }
    """

    def show(self, snap: EngineSnapshot) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        reasons = dict(snap.exit_reasons)
        total = sum(reasons.values())
        if not total:
            text.append("no exits yet", style="dim")
            self.update(text)
            return
        tp = sum(n for r, n in reasons.items() if "take" in r or r == "tp")
        sl = sum(n for r, n in reasons.items() if "stop" in r or r == "sl")
        text.append(f"{total} exits  take-profit ")
        text.append(f"{tp / total:.0%}", style=palette("pnl-up"))
        text.append("  stop-loss ")
        text.append(f"{sl / total:.0%}", style=palette("pnl-down"))
        text.append("\nreasons: ")
        text.append(", ".join(f"{r} {n}" for r, n in sorted(reasons.items(), key=lambda x: -x[1])))
        by_market: dict[str, Decimal] = defaultdict(Decimal)
        for e in snap.exits:
            by_market[f"{e.question} {e.outcome}"] += e.realized
        worst = sorted(by_market.items(), key=lambda kv: kv[1])[:3]
        text.append("\nworst markets (recent exits):")
        for name, realized in worst:
            style = palette("pnl-down") if realized < 0 else palette("pnl-up")
            text.append(f"\n  {short(name, 34):<34} ")
            text.append(money(realized, signed=True), style=style)
        self.update(text)

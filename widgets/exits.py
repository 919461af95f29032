"""Exit analytics: how positions were closed (take-profit vs stop-loss share, every
reason's count) and the markets that lost the most."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from rich.text import Text

from engine.runtime.snapshot import EngineSnapshot
from widgets.format import market_label, money, palette
from widgets.pane import TextPane

REASONS_SHOWN = 3
WORST_SHOWN = 2


class ExitsPane(TextPane):
    DEFAULT_CSS = """
    ExitsPane { height: auto; }
    """

    def show(self, snap: EngineSnapshot) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        reasons = reason_kinds(snap.exit_reasons)
        total = sum(reasons.values())
        if not total:
            text.append("no exits yet", style="dim")
            self.paint(text)
            return
        tp = reasons.get("take_profit", 0)
        sl = reasons.get("stop_loss", 0)
        text.append(f"{total} exits   take-profit ")
        text.append(f"{tp / total:.0%}", style=palette("pnl-up"))
        text.append("   stop-loss ")
        text.append(f"{sl / total:.0%}", style=palette("pnl-down"))
        ranked = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
        for reason, count in ranked[:REASONS_SHOWN]:
            text.append(f"\n  {count:>4}  {reason}")
        if len(ranked) > REASONS_SHOWN:
            rest = sum(n for _, n in ranked[REASONS_SHOWN:])
            text.append(f"\n  {rest:>4}  {len(ranked) - REASONS_SHOWN} other reasons", style="dim")
        by_market: dict[str, Decimal] = defaultdict(Decimal)
        for e in snap.exits:
            by_market[market_label(e.question, e.outcome, 36)] += e.realized
        worst = sorted(by_market.items(), key=lambda kv: kv[1])[:WORST_SHOWN]
        text.append(f"\nworst markets (last {len(snap.exits)} exits)", style="dim")
        for name, realized in worst:
            style = palette("pnl-down") if realized < 0 else palette("pnl-up")
            text.append(f"\n  {money(realized, signed=True):>8}", style=style)
            text.append(f"  {name}")
        self.paint(text)


def reason_kinds(reasons: tuple[tuple[str, int], ...]) -> dict[str, int]:
    """Exit reasons by kind: a strategy's reason carries its figures after a colon or a
    parenthesis ("momentum reversed: -652 bps", "reverted to mean (z=+0.58)"); counting
    each wording apart would list every exit once."""
    kinds: dict[str, int] = defaultdict(int)
    for reason, count in reasons:
        kind = reason.split(":", 1)[0].split("(", 1)[0].strip() or reason
        kinds[kind] += count
    return dict(kinds)

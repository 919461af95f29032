"""Execution telemetry: entries and exits, slippage, average notional, how orders were
executed (taker/maker), fees, risk's verdicts, and the latest fills."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from engine.runtime.snapshot import EngineSnapshot
from widgets.format import DASH, bps, clock, market_label, money, palette, price, size
from widgets.pane import TextPane

FILLS_SHOWN = 7
WHY_MAX = 40
MARKET_MIN = 12
FIXED_COLUMNS = 8 + 4 + 6 + 6 + 5  # time, side, price, size and the gaps


class TelemetryPane(TextPane):
    DEFAULT_CSS = """
    TelemetryPane { height: auto; }
    """

    def show(self, snap: EngineSnapshot) -> None:
        t = snap.telemetry
        key = (t, snap.fills)  # sections are reused objects while unchanged
        if key == self._key:
            return
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(f"fills: entries {t.entries} exits {t.exits} · ")
        head.append(f"taker {t.taker} maker {t.maker}\n")
        slip = bps(t.avg_slippage_bps, signed=True)
        head.append(f"slippage {slip}  notional {money(t.avg_notional)}  ")
        head.append(f"fees {money(t.fees)}\n")
        head.append(f"risk on entries: approved {t.approved} · resized {t.resized} · ")
        head.append(f"refused {t.refused}")
        fills = Table(box=None, expand=True, pad_edge=False, show_header=True)
        shown = snap.fills[:FILLS_SHOWN]
        whys = [f.reason or f.strategy for f in shown]
        # The why is what a trader reads the row for: it keeps its words (up to WHY_MAX),
        # the market's name takes what is left.
        room = (self.content_region.width or 80) - FIXED_COLUMNS - MARKET_MIN
        why_width = max(3, min(WHY_MAX, room, max((len(w) for w in whys), default=3)))
        for name, justify, ratio, minimum in (
            ("time", "left", None, 8),
            ("market", "left", 1, MARKET_MIN),
            ("side", "left", None, 4),
            ("price", "right", None, 6),
            ("size", "right", None, 6),
            ("why", "left", None, why_width),
        ):
            fills.add_column(
                name,
                justify=justify,  # type: ignore[arg-type]
                ratio=ratio,
                min_width=minimum,
                no_wrap=True,
                overflow="ellipsis",
            )
        for f, why in zip(shown, whys, strict=True):
            style = palette("pnl-up") if f.side.lower() == "buy" else palette("pnl-down")
            fills.add_row(
                clock(f.at),
                market_label(f.question, f.outcome, 60),
                Text(f.side.lower(), style=style),
                price(f.price),
                size(f.size),
                why,
            )
        if not snap.fills:
            fills.add_row(DASH, "no fills yet", "", "", "", "")
        group = Table.grid(expand=True)
        group.add_row(head)
        group.add_row(fills)
        self.paint(group, key)

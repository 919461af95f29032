"""Execution telemetry: entries and exits, slippage, average notional, how orders were
executed (taker/maker), fees, risk's verdicts, and the latest fills."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.table import Table
from rich.text import Text

from engine.runtime.snapshot import EngineSnapshot
from widgets.format import DASH, market_label, money, palette, price, size
from widgets.pane import TextPane

FILLS_SHOWN = 7


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
        slip = DASH if t.avg_slippage_bps is None else f"{t.avg_slippage_bps:+.1f} bps"
        head.append(f"slippage {slip}  notional {money(t.avg_notional)}  ")
        head.append(f"fees {money(t.fees)}\n")
        head.append(f"risk on entries: approved {t.approved} · resized {t.resized} · ")
        head.append(f"refused {t.refused}")
        fills = Table(box=None, expand=True, pad_edge=False, show_header=True)
        for name, justify, ratio in (
            ("time", "left", None),
            ("market", "left", 2),
            ("side", "left", None),
            ("price", "right", None),
            ("size", "right", None),
            ("why", "left", 1),
        ):
            fills.add_column(
                name,
                justify=justify,  # type: ignore[arg-type]
                ratio=ratio,
                no_wrap=True,
                overflow="ellipsis",
            )
        for f in snap.fills[:FILLS_SHOWN]:
            style = palette("pnl-up") if f.side.lower() == "buy" else palette("pnl-down")
            fills.add_row(
                datetime.fromtimestamp(f.at, UTC).strftime("%H:%M:%S"),
                market_label(f.question, f.outcome, 40),
                Text(f.side.lower(), style=style),
                price(f.price),
                size(f.size),
                f.reason or f.strategy,
            )
        if not snap.fills:
            fills.add_row(DASH, "no fills yet", "", "", "", "")
        group = Table.grid(expand=True)
        group.add_row(head)
        group.add_row(fills)
        self.paint(group, key)

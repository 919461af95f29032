"""Execution telemetry: entries and exits, slippage, average notional, how orders were
executed (taker/maker), fees, risk's verdicts, and the latest fills."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from engine.runtime.snapshot import EngineSnapshot
from widgets.format import DASH, money, palette, price, short, size


class TelemetryPane(Static):
    DEFAULT_CSS = """
    TelemetryPane { height: auto; }
    """

    def show(self, snap: EngineSnapshot) -> None:
        t = snap.telemetry
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(f"entries {t.entries}  exits {t.exits}  ")
        head.append(f"taker {t.taker}  maker {t.maker}\n")
        slip = DASH if t.avg_slippage_bps is None else f"{t.avg_slippage_bps:+.1f} bps"
        head.append(f"slippage {slip}  avg notional {money(t.avg_notional)}  ")
        head.append(f"fees {money(t.fees)}\n")
        head.append(f"risk: approved {t.approved}  resized {t.resized}  refused {t.refused}")
        fills = Table(box=None, expand=True, pad_edge=False, show_header=True)
        for name, justify in (("time", "left"), ("market", "left"), ("side", "left")):
            fills.add_column(name, justify=justify)  # type: ignore[arg-type]
        fills.add_column("price", justify="right")
        fills.add_column("size", justify="right")
        fills.add_column("why", justify="left")
        for f in snap.fills[:6]:
            style = palette("pnl-up") if f.side.lower() == "buy" else palette("pnl-down")
            fills.add_row(
                datetime.fromtimestamp(f.at, UTC).strftime("%H:%M:%S"),
                short(f"{f.question} {f.outcome}", 26),
                Text(f.side.lower(), style=style),
                price(f.price),
                size(f.size),
                short(f.reason or f.strategy, 18),
            )
        if not snap.fills:
            fills.add_row(DASH, "no fills yet", "", "", "", "")
        group = Table.grid(expand=True)
        group.add_row(head)
        group.add_row(fills)
        self.update(group)

"""The depth ladder of the market detail screen: both sides of one token's book, our
resting orders marked on their levels, and the latest prints."""

from __future__ import annotations

from decimal import Decimal

from rich.table import Table
from rich.text import Text

from engine.runtime.snapshot import DepthRow, OrderRow, TradePrintRow
from widgets.format import DASH, clock, palette, price, size
from widgets.pane import TextPane

# The watched token's book and prints, as the engine's snapshot carries them.
DepthView = DepthRow
TradePrint = TradePrintRow
BAR_MAX = 12


class DepthLadder(TextPane):
    """Bids left, asks right, best prices on the top row; a size bar per level; ◀ ▶ mark
    the levels our orders rest on."""

    DEFAULT_CSS = """
    DepthLadder { height: auto; }
    """

    def show(self, depth: DepthView | None, orders: tuple[OrderRow, ...] = ()) -> None:
        key = (depth, orders)
        if key == self._key:
            return
        if depth is None:
            self.paint(Text("no book for this token yet", style="dim"), key)
            return
        ours = {(o.side.lower(), o.price) for o in orders}
        biggest = max([s for _, s in depth.bids + depth.asks] or [Decimal(1)])
        sizes = [size(s) for _, s in depth.bids + depth.asks]
        size_w = max([len("bid size"), *map(len, sizes)])
        price_w = len(price(Decimal(1)))
        # The bars take what the figures leave (a narrow pane keeps every figure whole).
        room = (self.content_region.width or 80) - 2 * (size_w + price_w + 1) - 14
        bar_w = max(3, min(BAR_MAX, room // 2))
        table = Table(box=None, expand=True, pad_edge=False)
        table.add_column("", width=1, no_wrap=True)
        table.add_column("bid size", justify="right", min_width=size_w, no_wrap=True)
        table.add_column("depth", width=bar_w, no_wrap=True, overflow="crop")
        table.add_column(
            "bid", justify="right", style=palette("pnl-up"), min_width=price_w, no_wrap=True
        )
        table.add_column(
            "ask", justify="right", style=palette("pnl-down"), min_width=price_w, no_wrap=True
        )
        table.add_column("depth", width=bar_w, no_wrap=True, overflow="crop")
        table.add_column("ask size", justify="right", min_width=size_w, no_wrap=True)
        table.add_column("", width=1, no_wrap=True)
        rows = max(len(depth.bids), len(depth.asks))
        for i in range(rows):
            bid = depth.bids[i] if i < len(depth.bids) else None
            ask = depth.asks[i] if i < len(depth.asks) else None
            table.add_row(
                "◀" if bid and ("buy", bid[0]) in ours else "",
                size(bid[1]) if bid else "",
                Text(_bar(bid[1], biggest, bar_w, right=True), style=palette("pnl-up"))
                if bid
                else "",
                price(bid[0]) if bid else "",
                price(ask[0]) if ask else "",
                Text(_bar(ask[1], biggest, bar_w, right=False), style=palette("pnl-down"))
                if ask
                else "",
                size(ask[1]) if ask else "",
                "▶" if ask and ("sell", ask[0]) in ours else "",
            )
        if not rows:
            table.add_row("", DASH, "", DASH, DASH, "", DASH, "")
        self.paint(table, key)


def _bar(value: Decimal, biggest: Decimal, width: int, *, right: bool) -> str:
    cells = int(width * value / biggest) if biggest else 0
    return ("█" * cells).rjust(width) if right else "█" * cells


class TradesList(TextPane):
    """The latest prints on the token, newest first."""

    def show(self, trades: tuple[TradePrint, ...]) -> None:
        if trades == self._key:
            return
        if not trades:
            self.paint(Text("no trades seen since the console started", style="dim"), trades)
            return
        table = Table(box=None, expand=True, pad_edge=False)
        table.add_column("time")
        table.add_column("side")
        table.add_column("price", justify="right")
        table.add_column("size", justify="right")
        for t in trades[:12]:
            style = palette("pnl-up") if t.side.upper() == "BUY" else palette("pnl-down")
            table.add_row(
                clock(t.at),
                Text(t.side.lower(), style=style),
                price(t.price),
                size(t.size),
            )
        self.paint(table, trades)

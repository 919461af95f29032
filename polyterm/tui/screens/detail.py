"""The market detail screen (Enter on a market): one token's depth ladder on both sides
with our orders marked, its price sparkline, recent trades, our orders and position
there, and the YES/NO complement (the other side of the same market, and what the two
asks and bids add up to)."""

from __future__ import annotations

from decimal import Decimal

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Sparkline

from engine.runtime.snapshot import EngineSnapshot, MarketRow
from polyterm.tui.bridge import Frame
from widgets.depth import DepthLadder, TradesList
from widgets.format import DASH, cents, palette, pnl, price, short, size
from widgets.header import StatusHeader
from widgets.pane import TextPane


class MarketDetailScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("backspace", "app.pop_screen", "Back", show=False, id="back-alt"),
    ]

    def __init__(self, asset_id: str) -> None:
        super().__init__(id="detail")
        self.asset_id = asset_id
        self._frame: Frame | None = None
        self._spark_version = -1

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="header")
        yield TextPane(id="detail-title")
        with Horizontal(id="detail-body"):
            with Vertical(id="detail-left"):
                yield DepthLadder(id="depth", classes="pane")
                with Vertical(id="price-pane", classes="pane"):
                    yield Sparkline([], id="price-spark")
                    yield TextPane(id="price-range")
            with Vertical(id="detail-right"):
                yield TextPane(id="ours", classes="pane")
                yield TextPane(id="complement", classes="pane")
                yield TradesList(id="trades", classes="pane")
        yield Footer()

    def on_mount(self) -> None:
        titles = {
            "#depth": "Depth ladder (bids | asks; ◀ ▶ our orders)",
            "#price-pane": "Mid price, one point a second",
            "#ours": "Our orders and position here",
            "#complement": "YES/NO complement",
            "#trades": "Recent trades",
        }
        for selector, title in titles.items():
            self.query_one(selector).border_title = title

    def show(self, frame: Frame) -> None:
        self._frame = frame
        self.query_one(StatusHeader).show(
            frame.snap, frame.venue, frame.engine_state, frame.engine_error
        )
        snap, backend = frame.snap, frame.backend
        if snap is None or backend is None:
            return
        asset = self.asset_id
        rows = {r.asset_id: r for r in snap.markets}
        row = rows.get(asset)
        self.query_one("#detail-title", TextPane).paint(_title(row, backend.describe(asset)))
        depth = backend.depth(asset)
        orders = tuple(o for o in snap.orders if o.asset_id == asset)
        self.query_one(DepthLadder).show(depth, orders)
        self.query_one(TradesList).show(depth.trades if depth is not None else ())
        self.query_one("#ours", TextPane).paint(_ours(snap, asset))
        other = backend.complement(asset)
        self.query_one("#complement", TextPane).paint(
            _complement(row, rows.get(other) if other else None)
        )
        history = frame.history
        if history is not None and history.version != self._spark_version:
            self._spark_version = history.version
            series = history.mid_series(asset)
            self.query_one("#price-spark", Sparkline).data = series
            self.query_one("#price-range", TextPane).paint(_range(series))

    def repaint(self) -> None:
        self._spark_version = -1
        for pane in self.query(TextPane):
            pane.repaint()
        if self._frame is not None:
            self.show(self._frame)


def _title(row: MarketRow | None, described: tuple[str, str]) -> Text:
    question, outcome = described
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f" {question} ", style="bold")
    text.append(f" {outcome} ", style="reverse")
    if row is None:
        text.append("  no book yet", style="dim")
        return text
    text.append(f"   bid {cents(row.best_bid)}  ask {cents(row.best_ask)}")
    text.append(f"  spread {cents(row.spread)}  last {cents(row.last_trade)}")
    volume = DASH if row.volume_24h is None else f"{row.volume_24h:,.0f}"
    text.append(f"  24h volume {volume}  tick {price(row.tick)}")
    if row.needs_snapshot:
        text.append("  (book awaiting a fresh snapshot)", style=palette("warn"))
    return text


def _ours(snap: EngineSnapshot, asset: str) -> Table:
    table = Table(box=None, expand=True, pad_edge=False)
    for name in ("", "side", "price", "size", "filled", "status", "strategy"):
        table.add_column(name, justify="right" if name in ("price", "size", "filled") else "left")
    position = next((p for p in snap.positions if p.asset_id == asset and p.shares), None)
    if position is None:
        table.add_row("position", "none", "", "", "", "", "")
    else:
        table.add_row(
            "position",
            "long",
            price(position.avg_price),
            size(position.shares),
            "",
            Text.assemble("unreal. ", pnl(position.unrealized)),
            Text.assemble("real. ", pnl(position.realized)),
        )
    orders = [o for o in snap.orders if o.asset_id == asset]
    for o in orders:
        buy = o.side.upper() == "BUY"
        table.add_row(
            o.order_id,
            Text(o.side.lower(), style=palette("pnl-up") if buy else palette("pnl-down")),
            price(o.price),
            size(o.size),
            size(o.filled),
            o.status,
            short(o.strategy, 18),
        )
    if not orders:
        table.add_row("orders", "none open", "", "", "", "", "")
    return table


def _complement(row: MarketRow | None, other: MarketRow | None) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if other is None:
        text.append("no complement token in this market", style="dim")
        return text
    text.append(f"{short(other.outcome, 12)}: bid {cents(other.best_bid)}  ask ")
    text.append(f"{cents(other.best_ask)}  last {cents(other.last_trade)}")
    if row is None:
        return text
    asks = _sum(row.best_ask, other.best_ask)
    bids = _sum(row.best_bid, other.best_bid)
    text.append("\nboth asks ")
    text.append(_money_line(asks, below_one_is_edge=True))
    text.append("   both bids ")
    text.append(_money_line(bids, below_one_is_edge=False))
    text.append(
        "\nbuying both below 1 or selling both above 1 is the YES/NO arbitrage", style="dim"
    )
    return text


def _sum(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None or b is None else a + b


def _money_line(total: Decimal | None, *, below_one_is_edge: bool) -> Text:
    if total is None:
        return Text(DASH)
    edge = total < 1 if below_one_is_edge else total > 1
    return Text(f"{total:.4f}", style=f"bold {palette('pnl-up')}" if edge else "")


def _range(series: list[float]) -> Text:
    if not series:
        return Text(f"{DASH} (a point a second once the book has both sides)", style="dim")
    lo, hi, last = min(series), max(series), series[-1]
    return Text(
        f"last {last * 100:.2f}¢  low {lo * 100:.2f}¢  high {hi * 100:.2f}¢  ({len(series)} s)",
        no_wrap=True,
    )

"""The market detail screen (Enter on a market): one token's depth ladder on both sides
with our orders marked, its price sparkline, recent trades, our orders and position
there, the YES/NO complement (the other side of the same market, and what the two asks
and bids add up to), and when the market ends and whether it resolved. `b`/`s` open the
order form on this token."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Sparkline

from engine.runtime.snapshot import EngineSnapshot, MarketRow
from polyterm.tui.bridge import Frame
from polyterm.tui.layout import Layout, layout_for
from widgets.depth import DepthLadder, TradesList
from widgets.format import DASH, duration, palette, pnl, price, short, size, whole
from widgets.header import StatusHeader
from widgets.notice_bar import NoticeBar
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
        yield NoticeBar(id="notice")
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
        self.on_resize()

    def on_resize(self) -> None:
        size = self.app.size
        chosen = layout_for(size.width, size.height)
        for name in Layout:
            self.set_class(name is chosen, f"-{name.value}")

    def show_notice(self, line: str | None, severity: str, fresh: bool) -> None:
        self.query_one(NoticeBar).show(line, severity, fresh)

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
        title = _title(row, backend.describe(asset))
        if row is not None:
            winner = backend.describe(row.winner)[1] if row.winner else None
            title.append("\n")
            title.append_text(market_status(row, snap.at, winner))
        self.query_one("#detail-title", TextPane).paint(title)
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
        self.query_one(NoticeBar).repaint()
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
    text.append(f"   bid {price(row.best_bid)}  ask {price(row.best_ask)}")
    text.append(f"  spread {price(row.spread)}  last {price(row.last_trade)}")
    text.append(f"  24h volume {whole(row.volume_24h)}  tick {price(row.tick)}")
    if row.needs_snapshot:
        text.append("  (book awaiting a fresh snapshot)", style=palette("warn"))
    return text


def market_status(row: MarketRow, now: float, winner: str | None) -> Text:
    """When the market ends and where it stands: open and taking orders, closed, or
    resolved (and which outcome won)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(" ends ", style="dim")
    ends = _parse_end(row.end_date)
    if ends is None:
        text.append(row.end_date or "— (the venue gives no end date)")
    else:
        text.append(ends.strftime("%Y-%m-%d %H:%M UTC"))
        left = ends.timestamp() - now
        text.append(f" (in {duration(left)})" if left > 0 else " (past its end date)", "dim")
    text.append("   status ", style="dim")
    if row.winner is not None:
        mine = row.winner == row.asset_id
        text.append(
            f"resolved: {winner or 'the other outcome'} won",
            style=f"bold {palette('pnl-up') if mine else palette('pnl-down')}",
        )
    elif not row.accepting_orders:
        text.append("closed: not taking orders", style=f"bold {palette('warn')}")
    else:
        text.append("open, taking orders", style=palette("pnl-up"))
    return text


def _parse_end(value: str) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _ours(snap: EngineSnapshot, asset: str) -> Group:
    """Our position here on one line, then our open orders here (with the venue's
    status)."""
    line = Text(no_wrap=True, overflow="ellipsis")
    position = next((p for p in snap.positions if p.asset_id == asset and p.shares), None)
    if position is None:
        line.append("no position here", style="dim")
    else:
        line.append(f"long {size(position.shares)} @ {price(position.avg_price)}", "bold")
        line.append("   unrealized ")
        line.append_text(pnl(position.unrealized))
        line.append("   realized ")
        line.append_text(pnl(position.realized))
        if position.dust:
            line.append("   dust: held to settlement", style="dim")
    orders = [o for o in snap.orders if o.asset_id == asset]
    if not orders:
        return Group(line, Text("no open orders here", style="dim"))
    table = Table(box=None, expand=True, pad_edge=False)
    for name in ("order", "side", "price", "size", "filled", "status", "strategy"):
        table.add_column(
            name,
            justify="right" if name in ("price", "size", "filled") else "left",
            no_wrap=True,
            overflow="ellipsis",
        )
    for o in orders:
        buy = o.side.upper() == "BUY"
        table.add_row(
            o.order_id,
            Text(o.side.lower(), style=palette("pnl-up") if buy else palette("pnl-down")),
            price(o.price),
            size(o.size),
            size(o.filled) if o.filled else DASH,
            o.status.replace("_", " "),
            short(o.strategy, 16),
        )
    return Group(line, table)


def _complement(row: MarketRow | None, other: MarketRow | None) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if other is None:
        text.append("no complement token in this market", style="dim")
        return text
    text.append(f"{short(other.outcome, 12)}: bid {price(other.best_bid)}  ask ")
    text.append(f"{price(other.best_ask)}  last {price(other.last_trade)}")
    if row is None:
        return text
    asks = _sum(row.best_ask, other.best_ask)
    bids = _sum(row.best_bid, other.best_bid)
    text.append("\nboth asks ")
    text.append(_money_line(asks, below_one_is_edge=True))
    text.append("   both bids ")
    text.append(_money_line(bids, below_one_is_edge=False))
    text.append(
        f"\nbuying both below {price(Decimal(1))} or selling both above is the YES/NO arbitrage",
        style="dim",
    )
    return text


def _sum(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None or b is None else a + b


def _money_line(total: Decimal | None, *, below_one_is_edge: bool) -> Text:
    if total is None:
        return Text(DASH)
    edge = total < 1 if below_one_is_edge else total > 1
    return Text(price(total), style=f"bold {palette('pnl-up')}" if edge else "")


def _mid(value: float) -> str:
    """A mid (a float from the history) in the price convention."""
    return price(Decimal(str(round(value, 6))))


def _range(series: list[float]) -> Text:
    if not series:
        return Text(f"{DASH} (a point a second once the book has both sides)", style="dim")
    lo, hi, last = min(series), max(series), series[-1]
    return Text(
        f"last {_mid(last)}  low {_mid(lo)}  high {_mid(hi)}  ({len(series)} s)",
        no_wrap=True,
    )

"""The main screen: the header, the markets pane, orders and positions, risk, charts,
execution telemetry, exit analytics, sentiment, the log pane (toggled) and the notice
line.

The layout follows the terminal's size (:mod:`polyterm.tui.layout`), chosen at start
and again on every resize: on a small terminal one pane fills the body and the others
are one key away (1-6), with a one-line status of PnL, the kill switch and the feed; a
medium one shows the markets and the orders with one more pane beside them; a wide one
shows everything. Every pane is patched from the latest snapshot at the app's refresh
cadence; what a row shows beyond the book (our position, the last signal, sentiment, the
mid's trend) is rebuilt only when one of its sources changed.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input

from engine.runtime.snapshot import EngineSnapshot
from polyterm.tui.bridge import Frame
from polyterm.tui.history import SessionHistory
from polyterm.tui.layout import SIDE_TABS, TABS, Layout, layout_for
from widgets.charts import SeriesChart
from widgets.exits import ExitsPane
from widgets.format import palette, spark
from widgets.header import StatusHeader
from widgets.kill_switch import KillSwitchPane
from widgets.log_pane import LogPane
from widgets.markets_table import SPARK_POINTS, MarketExtras, MarketsTable
from widgets.notice_bar import NoticeBar
from widgets.positions import OrdersPositionsPane
from widgets.sentiment import SentimentPane
from widgets.status_line import StatusLine
from widgets.tab_strip import TabStrip
from widgets.telemetry import TelemetryPane

# Which widget each tab shows, and what takes the focus there.
TAB_PANES = {
    "markets": "#markets-pane",
    "orders": "#positions",
    "risk": "#risk-column",
    "fills": "#telemetry",
    "exits": "#exits",
    "sentiment": "#sentiment",
}
ACTIVITY = ("fills", "exits", "sentiment")


class DashboardScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "clear_filter", "Clear filter", show=False, id="clear-filter"),
        *(
            Binding(key, f"show_tab('{name}')", label, show=False, id=f"tab-{name}")
            for name, key, label in TABS
        ),
    ]

    def __init__(self) -> None:
        super().__init__(id="dashboard")
        self.layout_name: Layout = Layout.MEDIUM
        self.tab = "markets"  # the pane a small terminal shows (1-6)
        self.side = "risk"  # the pane beside the orders on a medium terminal
        self._extras: Mapping[str, MarketExtras] = {}
        self._extras_key: tuple[object, ...] = ()
        self._frame: Frame | None = None
        self._trends: dict[str, Text | str] = {}
        self._trends_version = -1

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="header")
        yield TabStrip(id="tabs")
        with Vertical(id="markets-pane", classes="pane"):
            yield Input(placeholder="filter markets: words in the question or outcome", id="filter")
            yield MarketsTable(id="markets")
        with Horizontal(id="lower"):
            yield OrdersPositionsPane(id="positions", classes="pane")
            with Vertical(id="risk-column"):
                yield KillSwitchPane(id="kill-switch", classes="pane")
                yield SeriesChart("equity", signed=False, id="equity-chart", classes="pane")
                yield SeriesChart("day PnL", id="day-pnl-chart", classes="pane")
            with Vertical(id="activity-column"):
                yield TelemetryPane(id="telemetry", classes="pane")
                yield ExitsPane(id="exits", classes="pane")
                yield SentimentPane(id="sentiment", classes="pane")
        yield LogPane(id="log", classes="pane")
        yield StatusLine(id="status-line")
        yield NoticeBar(id="notice")
        yield Footer()

    def on_mount(self) -> None:
        titles = {
            "#markets-pane": "Markets",
            "#positions": "Orders & positions",
            "#kill-switch": "Kill switch & risk",
            "#equity-chart": "Session equity",
            "#day-pnl-chart": "Day PnL vs kill-switch limit",
            "#telemetry": "Execution telemetry",
            "#exits": "Exit analytics",
            "#sentiment": "Sentiment",
            "#log": "Log",
        }
        for selector, title in titles.items():
            self.query_one(selector).border_title = title
        self.query_one("#log").display = False
        self.query_one("#filter").display = False
        self.apply_layout(layout_for(self.app.size.width, self.app.size.height))
        self.query_one(MarketsTable).focus()

    # -- layout ---------------------------------------------------------------------------
    def on_resize(self) -> None:
        size = self.app.size
        chosen = layout_for(size.width, size.height)
        if chosen is not self.layout_name:
            self.apply_layout(chosen)

    def apply_layout(self, layout: Layout) -> None:
        """Show the panes `layout` shows (and the tab or side pane chosen)."""
        self.layout_name = layout
        for each in Layout:
            self.set_class(each is layout, f"-{each.value}")
        compact = layout is Layout.COMPACT
        wide = layout is Layout.WIDE
        tab = self.tab
        side = self.side
        shown: set[str]
        if wide:
            shown = set(TAB_PANES)
        elif compact:
            shown = {tab}
        else:
            shown = {"markets", "orders", side}
        self.query_one("#markets-pane").display = "markets" in shown
        self.query_one("#lower").display = bool(shown - {"markets"})
        self.query_one("#positions").display = "orders" in shown
        self.query_one("#risk-column").display = "risk" in shown
        self.query_one("#activity-column").display = bool(shown & set(ACTIVITY))
        for pane in ACTIVITY:
            self.query_one(TAB_PANES[pane]).display = pane in shown
        self.query_one(TabStrip).display = not wide
        self.query_one(StatusLine).display = compact
        self.query_one(MarketsTable).use_layout(layout.value)
        self.query_one(OrdersPositionsPane).use_layout(layout.value)
        self._show_tabs()
        if self._frame is not None:
            self.show(self._frame)

    def _show_tabs(self) -> None:
        strip = self.query_one(TabStrip)
        if self.layout_name is Layout.COMPACT:
            strip.show(TABS, self.tab, "l log · ? keys")
        elif self.layout_name is Layout.MEDIUM:
            side = [t for t in TABS if t[0] in SIDE_TABS]
            strip.show(side, self.side, "beside the orders · wider than 180x45 shows all")

    def action_show_tab(self, name: str) -> None:
        """Bring pane `name` into view: the body on a small terminal, the side slot on a
        medium one; on a wide one (everything shown) the focus goes to it."""
        if name not in TAB_PANES:
            return
        layout = self.layout_name
        if layout is Layout.COMPACT:
            self.tab = name
        elif layout is Layout.MEDIUM and name in SIDE_TABS:
            self.side = name
        if layout is not Layout.WIDE:
            self.apply_layout(layout)
        self._focus_pane(name)

    def _focus_pane(self, name: str) -> None:
        if name == "markets":
            self.query_one(MarketsTable).focus()
        elif name == "orders":
            self.query_one("#orders-table").focus()

    # -- refresh ---------------------------------------------------------------------------
    def show(self, frame: Frame) -> None:
        self._frame = frame
        self.query_one(StatusHeader).show(
            frame.snap, frame.venue, frame.engine_state, frame.engine_error
        )
        snap = frame.snap
        if self.layout_name is Layout.COMPACT:
            self.query_one(StatusLine).show(snap)
        if snap is None:
            return
        table = self.query_one(MarketsTable)
        table.show(snap, self._row_extras(snap, frame.history))
        self._markets_subtitle(table, snap)
        self.query_one(OrdersPositionsPane).show(snap)
        self.query_one(KillSwitchPane).show(snap)
        self.query_one(TelemetryPane).show(snap)
        self.query_one(ExitsPane).show(snap)
        self.query_one(SentimentPane).show(snap)
        history = frame.history
        if history is not None:
            self.query_one("#equity-chart", SeriesChart).plot(
                history.equity(), None, history.version
            )
            self.query_one("#day-pnl-chart", SeriesChart).plot(
                history.day_pnl(), history.loss_floor(), history.version
            )

    def show_notice(self, line: str | None, severity: str, fresh: bool) -> None:
        self.query_one(NoticeBar).show(line, severity, fresh)

    def repaint(self) -> None:
        self._extras_key = ()
        self._trends_version = -1
        self.query_one(NoticeBar).repaint()
        self.query_one(TabStrip).repaint()
        self._show_tabs()
        self.query_one(MarketsTable).repaint()
        self.query_one(OrdersPositionsPane).repaint()
        for pane in self.query(".pane"):
            repaint = getattr(pane, "repaint", None)
            if repaint is not None and not isinstance(pane, MarketsTable | OrdersPositionsPane):
                repaint()
        if self._frame is not None:
            self.show(self._frame)

    def _row_extras(
        self, snap: EngineSnapshot, history: SessionHistory | None
    ) -> Mapping[str, MarketExtras]:
        """Per token: position, last signal, sentiment and trend; rebuilt only when one of
        the snapshot sections behind them (or the history) changed."""
        key = (
            snap.positions,
            snap.signals,
            snap.sentiment.markets,
            history.version if history is not None else -1,
            len(snap.markets),
        )
        if key == self._extras_key:
            return self._extras
        self._extras_key = key
        version = history.version if history is not None else -1
        if version != self._trends_version:  # a new point a second, not every refresh
            self._trends_version = version
            self._trends = (
                {
                    row.asset_id: _trend(history.mid_series(row.asset_id, SPARK_POINTS))
                    for row in snap.markets
                }
                if history is not None
                else {}
            )
        held = {p.asset_id: p.shares for p in snap.positions if p.shares}
        signals = {s.asset_id: s for s in snap.signals}
        moods = {m.market: m.sentiment for m in snap.sentiment.markets}
        extras: dict[str, MarketExtras] = {}
        for row in snap.markets:
            asset = row.asset_id
            trend = self._trends.get(asset, "")
            extras[asset] = MarketExtras(
                position=held.get(asset),
                signal=signals.get(asset),
                sentiment=moods.get(row.market),
                trend=trend,
            )
        self._extras = extras
        return extras

    def _markets_subtitle(self, table: MarketsTable, snap: EngineSnapshot) -> None:
        parts = []
        if table.filter_text:
            parts.append(f"filter “{table.filter_text}”: {table.row_count} of {len(snap.markets)}")
        if table.sort_column is not None:
            parts.append(f"sorted by {table.sort_column}{' ↓' if table.sort_reverse else ' ↑'}")
        subtitle = " · ".join(parts)
        pane = self.query_one("#markets-pane")
        if pane.border_subtitle != subtitle:
            pane.border_subtitle = subtitle

    # -- the filter ------------------------------------------------------------------------
    def open_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = self.query_one(MarketsTable).filter_text
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(MarketsTable).set_filter(event.value)
        self._refresh_subtitle()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.query_one("#filter").display = False
        self.query_one(MarketsTable).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        table = self.query_one(MarketsTable)
        table.set_filter("")
        table.focus()
        self._refresh_subtitle()

    def _refresh_subtitle(self) -> None:
        if self._frame is not None and self._frame.snap is not None:
            self._markets_subtitle(self.query_one(MarketsTable), self._frame.snap)

    # -- what the app asks -----------------------------------------------------------------
    @property
    def selected_asset(self) -> str | None:
        return self.query_one(MarketsTable).selected_asset

    def add_log(self, lines: list[tuple[str, str]]) -> None:
        # The refresh timer can fire once more while the app shuts down and the panes
        # are already gone: lines then have nowhere to go, which is no error.
        for pane in self.query(LogPane):
            pane.add_lines(lines)

    def toggle_log(self) -> bool:
        pane = self.query_one(LogPane)
        pane.display = not pane.display
        return bool(pane.display)


def _trend(series: list[float]) -> Text | str:
    """The mid's sparkline, coloured by which way it went over the window."""
    line = spark(series, SPARK_POINTS)
    if len(series) < 2 or series[-1] == series[0]:
        return line
    return Text(line, style=palette("pnl-up") if series[-1] > series[0] else palette("pnl-down"))

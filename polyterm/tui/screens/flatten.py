"""The flatten modal: the preview of every cancel and every closing order (with its worst
price, expected price and PnL at the current book, and what cannot be closed and why),
for a scope chosen here: everything, the selected market, or one strategy. `y` sends it;
`n` or Escape leaves every order and position as it is."""

from __future__ import annotations

from dataclasses import dataclass

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from engine.fixed import cash_decimal, price_decimal, size_decimal
from engine.runtime.commands import FlattenPlan, FlattenScope
from engine.runtime.snapshot import OrderRow
from polyterm.faces.backend import EngineBackend
from polyterm.tui.bridge import Frame
from widgets.format import DASH, market_label, palette, pnl, price, short, size


@dataclass(frozen=True, slots=True)
class ScopeChoice:
    scope: FlattenScope
    label: str


def scope_choices(
    backend: EngineBackend, selected_asset: str | None
) -> tuple[ScopeChoice | None, list[ScopeChoice]]:
    """(the selected market's scope, when a market is selected; one scope per strategy)."""
    market = None
    if selected_asset is not None:
        condition = backend.market_of(selected_asset)
        if condition is not None:
            question, _ = backend.describe(selected_asset)
            market = ScopeChoice(
                FlattenScope("market", condition), f"market “{short(question, 50)}”"
            )
    strategies = [
        ScopeChoice(FlattenScope("strategy", n), f"strategy {n}") for n in backend.strategies()
    ]
    return market, strategies


class FlattenScreen(ModalScreen[FlattenScope | None]):
    BINDINGS = [
        Binding("y", "confirm", "Flatten now", id="confirm"),
        Binding("n", "cancel", "Cancel", id="cancel"),
        Binding("escape", "cancel", "Cancel", show=False, id="cancel-escape"),
        Binding("a", "scope_all", "All", id="scope-all"),
        Binding("m", "scope_market", "Selected market", id="scope-market"),
        Binding("s", "scope_strategy", "Next strategy", id="scope-strategy"),
    ]

    def __init__(
        self,
        backend: EngineBackend,
        *,
        selected_asset: str | None = None,
        scope: FlattenScope | None = None,
        orders: tuple[OrderRow, ...] = (),
    ) -> None:
        """`orders`: the open orders of the latest snapshot, to describe the cancels."""
        super().__init__(classes="flatten")
        self.backend = backend
        self.market_choice, self.strategy_choices = scope_choices(backend, selected_asset)
        self.choice = ScopeChoice(FlattenScope(), "all positions and orders")
        if scope is not None and scope.kind == "market" and self.market_choice is not None:
            self.choice = self.market_choice
        elif scope is not None and scope.kind == "strategy":
            self.choice = next(
                (c for c in self.strategy_choices if c.scope == scope),
                ScopeChoice(scope, f"strategy {scope.value}"),
            )
        self.plan: FlattenPlan = backend.flatten_preview(self.choice.scope)
        self._orders: dict[str, OrderRow] = {o.order_id: o for o in orders}
        self._previewed_at: float | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="-danger"):
            yield Static(id="flatten-scope")
            with VerticalScroll(id="flatten-plan"):
                yield Static(id="flatten-preview")
            yield Static(id="dialog-keys")

    def on_mount(self) -> None:
        self.query_one("#dialog").border_title = "Flatten — preview"
        self._render_plan()

    # -- scope ----------------------------------------------------------------------------
    def _choose(self, choice: ScopeChoice) -> None:
        self.choice = choice
        self.plan = self.backend.flatten_preview(choice.scope)
        self._render_plan()

    def action_scope_all(self) -> None:
        self._choose(ScopeChoice(FlattenScope(), "all positions and orders"))

    def action_scope_market(self) -> None:
        if self.market_choice is None:
            self.notify("no market is selected: pick one in the markets pane first", timeout=3)
            return
        self._choose(self.market_choice)

    def action_scope_strategy(self) -> None:
        if not self.strategy_choices:
            self.notify("no strategies are running", timeout=3)
            return
        names = [c.scope for c in self.strategy_choices]
        at = names.index(self.choice.scope) + 1 if self.choice.scope in names else 0
        self._choose(self.strategy_choices[at % len(self.strategy_choices)])

    # -- answer ---------------------------------------------------------------------------
    def action_confirm(self) -> None:
        if not self.plan.cancels and not self.plan.closes:
            self.notify("nothing to flatten in this scope", timeout=3)
            return
        self.dismiss(self.choice.scope)

    def action_cancel(self) -> None:
        self.dismiss(None)

    # -- refresh --------------------------------------------------------------------------
    def show(self, frame: Frame) -> None:
        """Keep the preview current: books move while the modal is open (once a second
        of engine time is enough; a replay's frozen clock previews once)."""
        snap = frame.snap
        if snap is None:
            return
        self._orders = {o.order_id: o for o in snap.orders}
        if self._previewed_at is not None and snap.at - self._previewed_at < 1.0:
            return
        self._previewed_at = snap.at
        self.plan = self.backend.flatten_preview(self.choice.scope)
        self._render_plan()

    def repaint(self) -> None:
        self._render_plan()

    def _render_plan(self) -> None:
        plan = self.plan
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append("scope ", style="dim")
        head.append(self.choice.label, style="bold")
        head.append(
            f"   {len(plan.cancels)} cancels · {len(plan.closes)} closing orders · "
            f"{len(plan.left)} not closable",
        )
        self.query_one("#flatten-scope", Static).update(head)
        self.query_one("#flatten-preview", Static).update(
            Group(self._closes(plan), self._cancels(plan), self._left(plan))
        )
        keys = Text()
        keys.append(" y ", style="bold reverse")
        keys.append(" flatten now   ")
        keys.append(" n ", style="bold reverse")
        keys.append("/")
        keys.append(" esc ", style="bold reverse")
        keys.append(" cancel   scope: ")
        for key, label in (("a", "all"), ("m", "selected market"), ("s", "next strategy")):
            keys.append(f" {key} ", style="bold reverse")
            keys.append(f" {label}  ")
        self.query_one("#dialog-keys", Static).update(keys)

    def _label(self, asset: str) -> str:
        question, outcome = self.backend.describe(asset)
        return market_label(question, outcome, 48)

    def _closes(self, plan: FlattenPlan) -> Table:
        table = _table("Closing orders (FAK sells, at most the worst price)")
        table.add_column("position")
        table.add_column("shares", justify="right")
        table.add_column("worst price", justify="right")
        table.add_column("expected price", justify="right")
        table.add_column("expected fill", justify="right")
        table.add_column("expected PnL", justify="right")
        for close in plan.closes:
            table.add_row(
                self._label(close.asset_id),
                size(size_decimal(close.shares)),
                price(price_decimal(close.limit_price)),
                DASH
                if close.expected_price is None
                else price(price_decimal(close.expected_price)),
                size(size_decimal(close.expected_filled)),
                pnl(None if close.expected_pnl is None else cash_decimal(close.expected_pnl)),
            )
        if not plan.closes:
            table.add_row(
                Text("no positions to close in this scope", style="dim"), "", "", "", "", ""
            )
        return table

    def _cancels(self, plan: FlattenPlan) -> Table:
        table = _table("Cancels")
        table.add_column("order")
        table.add_column("market")
        table.add_column("side")
        table.add_column("price", justify="right")
        table.add_column("open size", justify="right")
        for order_id in plan.cancels:
            row = self._orders.get(order_id)
            if row is None:
                table.add_row(order_id, DASH, DASH, DASH, DASH)
                continue
            buy = row.side.upper() == "BUY"
            table.add_row(
                order_id,
                market_label(row.question, row.outcome, 48),
                Text(row.side.lower(), style=palette("pnl-up") if buy else palette("pnl-down")),
                price(row.price),
                size(row.size - row.filled),
            )
        if not plan.cancels:
            table.add_row(Text("no open orders in this scope", style="dim"), "", "", "", "")
        return table

    def _left(self, plan: FlattenPlan) -> Table:
        table = _table("Cannot close")
        table.add_column("position")
        table.add_column("shares", justify="right")
        table.add_column("why")
        for asset, shares, why in plan.left:
            table.add_row(self._label(asset), size(size_decimal(shares)), why)
        if not plan.left:
            table.add_row(Text("nothing", style="dim"), "", "")
        return table


def _table(title: str) -> Table:
    return Table(
        title=title,
        title_justify="left",
        title_style="bold",
        expand=True,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )

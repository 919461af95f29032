"""The order form (`b` / `s` on a market): a person's own order, previewed and sent through
the same risk gate and gateway as a strategy's (the ledger records it as ``manual``).

Outcome (this token or its complement), side, size in shares, limit price (the worst it
may fill at, in the console's price convention), type (FAK takes what the book shows now
and cancels the rest; GTC rests until cancelled; GTD until it expires; FOK all or
nothing) and post-only. The preview follows every keystroke and the book: what it would
cost, the fee, the worst price, what the book fills at once, and what the risk gate
says. Enter (or ctrl+s) sends; a refusal keeps the form open with the rule that refused
it; a LIVE order asks once more. Esc leaves without sending.
"""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, Select, Static

from engine.fixed import cash_decimal, price_decimal, size_decimal
from engine.orders import OrderType, Side
from engine.runtime.commands import ManualOrder, ManualOutcome
from engine.runtime.snapshot import EngineSnapshot
from polyterm.faces.backend import EngineBackend
from polyterm.faces.order_input import (
    OrderInputError,
    expiry_seconds,
    price_units,
    size_units,
)
from polyterm.tui.bridge import Frame
from polyterm.tui.screens.confirm import ConfirmScreen
from widgets.format import DASH, market_label, money, palette, price, price_style, size


class OrderScreen(ModalScreen[str | None]):
    """Dismissed with the id of the order sent (None: nothing was sent)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="order-cancel"),
        Binding("ctrl+s", "send", "Send", id="order-send", priority=True),
    ]

    def __init__(
        self, backend: EngineBackend, asset_id: str, side: Side, *, live: bool = False
    ) -> None:
        super().__init__(classes="order")
        self.backend = backend
        self.asset_id = asset_id
        self.side = side
        self.live = live
        self.style = price_style()
        self.outcome: ManualOutcome | None = None  # the latest preview
        self.problem: str | None = None  # why the form cannot make an order yet
        self.sending = False
        self._at: float = 0.0  # the engine's clock, for a GTD expiry
        snap = backend.hub.latest
        if snap is not None:
            self._at = snap.at

    # -- the form -----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        backend = self.backend
        question, _ = backend.describe(self.asset_id)
        tokens = [self.asset_id]
        other = backend.complement(self.asset_id)
        if other is not None:
            tokens.append(other)
        outcomes = [(backend.describe(t)[1], t) for t in tokens]
        unit = "¢" if self.style == "cents" else "$"
        with Vertical(id="dialog"):
            yield Static(Text(question, style="bold"), id="order-market")
            with Horizontal(classes="order-row"):
                yield Label("outcome", classes="order-label")
                yield Select(
                    outcomes,
                    value=self.asset_id,
                    allow_blank=False,
                    compact=True,
                    id="order-outcome",
                )
                yield Label("side", classes="order-label")
                yield Select(
                    [("buy", Side.BUY), ("sell", Side.SELL)],
                    value=self.side,
                    allow_blank=False,
                    compact=True,
                    id="order-side",
                )
            with Horizontal(classes="order-row"):
                yield Label("size", classes="order-label")
                yield Input(
                    self._default_size(), placeholder="shares", compact=True, id="order-size"
                )
                yield Label(f"limit {unit}", classes="order-label")
                yield Input(
                    self._default_price(),
                    placeholder="worst price",
                    compact=True,
                    id="order-price",
                )
            with Horizontal(classes="order-row"):
                yield Label("type", classes="order-label")
                yield Select(
                    [
                        (t.value, t)
                        for t in (OrderType.FAK, OrderType.GTC, OrderType.GTD, OrderType.FOK)
                    ],
                    value=OrderType.FAK,
                    allow_blank=False,
                    compact=True,
                    id="order-type",
                )
                yield Label("GTD min", classes="order-label")
                yield Input("60", compact=True, id="order-expiry")
                yield Checkbox("post-only", compact=True, id="order-post-only")
            yield Static(id="order-book")
            yield Static(id="order-preview")
            yield Static(id="dialog-keys")

    def on_mount(self) -> None:
        dialog = self.query_one("#dialog")
        dialog.border_title = "Order — LIVE" if self.live else "Order (paper)"
        dialog.set_class(self.live, "-danger")
        keys = Text.assemble(
            ("enter", "bold reverse"),
            " / ",
            ("ctrl+s", "bold reverse"),
            " send   ",
            ("esc", "bold reverse"),
            " cancel   ",
            ("tab", "bold reverse"),
            " next field",
        )
        self.query_one("#dialog-keys", Static).update(keys)
        self.query_one("#order-size", Input).focus()
        self.preview()

    def _token_row_prices(self) -> tuple[Decimal | None, Decimal | None]:
        row = self.backend.market_row(self._token())
        return (row.best_bid, row.best_ask) if row is not None else (None, None)

    def _default_price(self) -> str:
        bid, ask = self._token_row_prices()
        best = ask if self.side is Side.BUY else bid
        if best is None:
            return ""
        return f"{best * 100:.1f}" if self.style == "cents" else f"{best:.3f}"

    def _default_size(self) -> str:
        if self.side is Side.SELL:
            snap = self.backend.hub.latest
            held = _held(snap, self.asset_id)
            return f"{held:.2f}" if held else ""
        return ""

    def _token(self) -> str:
        if not self.is_mounted:
            return self.asset_id
        value = self.query_one("#order-outcome", Select).value
        return str(value) if isinstance(value, str) else self.asset_id

    # -- the order as typed -------------------------------------------------------------
    def order(self) -> ManualOrder:
        """The order the form says, or OrderInputError naming the field to fix."""
        size_text = self.query_one("#order-size", Input).value
        price_text = self.query_one("#order-price", Input).value
        if not size_text.strip():
            raise OrderInputError("size: type the number of shares (e.g. 10)")
        if not price_text.strip():
            raise OrderInputError("limit: type the worst price you accept")
        side = self.query_one("#order-side", Select).value
        kind = self.query_one("#order-type", Select).value
        assert isinstance(side, Side)
        assert isinstance(kind, OrderType)
        expires_at = None
        if kind is OrderType.GTD:
            expires_at = self._at + expiry_seconds(self.query_one("#order-expiry", Input).value)
        return ManualOrder(
            asset_id=self._token(),
            side=side,
            size=size_units(size_text),
            price=price_units(price_text, self.style, field="limit"),
            order_type=kind,
            post_only=self.query_one("#order-post-only", Checkbox).value,
            expires_at=expires_at,
        )

    def preview(self) -> None:
        """What the risk gate and the book say of the order as the form has it now."""
        try:
            order = self.order()
        except OrderInputError as exc:
            self.problem, self.outcome = str(exc), None
        else:
            self.problem = None
            self.outcome = self.backend.manual_preview(order)
        self._paint(self.backend.hub.latest)

    def _paint(self, snap: EngineSnapshot | None) -> None:
        token = self._token()
        bid, ask = self._token_row_prices()
        book = Text(no_wrap=True, overflow="ellipsis")
        _, outcome = self.backend.describe(token)
        book.append(f"{outcome}: ", style="bold")
        book.append(f"bid {price(bid)}  ask {price(ask)}")
        held = _held(snap, token)
        book.append(f"   held {size(held) if held else DASH}", style="dim")
        self.query_one("#order-book", Static).update(book)
        self.query_one("#order-preview", Static).update(self._preview_text())

    def _preview_text(self) -> Text:
        text = Text()
        if self.problem is not None:
            text.append("fix: ", style=f"bold {palette('warn')}")
            text.append(self.problem)
            return text
        outcome = self.outcome
        if outcome is None:
            return text
        try:
            order = self.order()
        except OrderInputError:
            return text
        limit = price_decimal(order.price)
        shares = size_decimal(order.size)
        filled = size_decimal(outcome.expected_filled)
        side = "buy" if order.side is Side.BUY else "sell"
        text.append(f"{side} {size(shares)} at {price(limit)} or better", style="bold")
        text.append(f"   worst price {price(limit)}\n")
        if order.side is Side.BUY:
            text.append(f"cost at most {money(limit * shares)}")
        else:
            text.append(f"proceeds at least {money(limit * shares)}")
        if outcome.approved:
            cost = money(cash_decimal(outcome.expected_cost))
            text.append(f"   now: fills {size(filled)} for {cost}")
            text.append(f", fee {money(cash_decimal(outcome.expected_fee))}")
        text.append("\n")
        text.append("risk gate: ")
        if outcome.approved:
            text.append("approved", style=f"bold {palette('pnl-up')}")
            if order.order_type in (OrderType.GTC, OrderType.GTD) and filled < shares:
                text.append(f" (the rest, {size(shares - filled)}, rests on the book)", "dim")
        else:
            text.append(f"refused ({outcome.rule})", style=f"bold {palette('pnl-down')}")
            text.append(f": {outcome.reason or ''}")
        return text

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        if self.is_mounted:
            self.preview()

    # The refresh: the book moves while the form is open.
    def show(self, frame: Frame) -> None:
        if frame.snap is not None:
            self._at = frame.snap.at
        self.preview()

    def repaint(self) -> None:
        self.preview()

    # -- answers ---------------------------------------------------------------------------
    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_send()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_send(self) -> None:
        if self.sending:
            return
        try:
            order = self.order()
        except OrderInputError as exc:
            self.problem = str(exc)
            self._paint(self.backend.hub.latest)
            self.notify(str(exc), title="Order not sent", severity="warning")
            return
        if self.live:
            words = (
                f"Send a LIVE {order.side.value.lower()} of {size(size_decimal(order.size))} "
                f"shares at {price(price_decimal(order.price))} or better ({order.order_type})?"
            )

            def answered(yes: bool | None) -> None:
                if yes:
                    self._send(order)

            self.app.push_screen(ConfirmScreen("LIVE order", Text(words), "send it"), answered)
            return
        self._send(order)

    @work(group="order", exclusive=True, exit_on_error=False, description="manual order")
    async def _send(self, order: ManualOrder) -> None:
        self.sending = True
        try:
            outcome = await self.backend.manual_order(order)
        finally:
            self.sending = False
        if outcome.order_id is None:
            self.outcome, self.problem = outcome, None
            self._paint(self.backend.hub.latest)
            self.notify(
                f"{outcome.rule}: {outcome.reason}", title="Order refused", severity="warning"
            )
            return
        self.dismiss(outcome.order_id)


def _held(snap: EngineSnapshot | None, asset_id: str) -> Decimal:
    if snap is None:
        return Decimal(0)
    for p in snap.positions:
        if p.asset_id == asset_id:
            return p.shares
    return Decimal(0)


def mentions(order_id: str, snap: EngineSnapshot) -> bool:
    """`snap` shows the order: resting, or its fills."""
    return any(o.order_id == order_id for o in snap.orders) or any(
        f.order_id == order_id for f in snap.fills
    )


def describe_order(order_id: str, snap: EngineSnapshot | None) -> str:
    """Where an order stands in `snap`, in words (for the notice after sending)."""
    if snap is None:
        return f"{order_id} sent"
    for o in snap.orders:
        if o.order_id == order_id:
            filled = f", {size(o.filled)} filled" if o.filled else ""
            label = market_label(o.question, o.outcome, 40)
            status = o.venue_status or o.status  # live: what the venue last said of it
            return (
                f"{order_id} {status.replace('_', ' ')}: {o.side.lower()} {size(o.size)} at "
                f"{price(o.price)}{filled} · {label}"
            )
    fills = [f for f in snap.fills if f.order_id == order_id]
    if fills:
        shares = sum((f.size for f in fills), Decimal(0))
        label = market_label(fills[0].question, fills[0].outcome, 40)
        return f"{order_id} filled {size(shares)} · {label}"
    return f"{order_id} done (nothing rests, nothing filled: the book had nothing at the limit)"

"""A yes/no confirmation: the action and its consequences, `y` to go ahead, `n` or
Escape to leave everything as it is."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm"),
        Binding("n", "answer(False)", "No", id="cancel"),
        Binding("escape", "answer(False)", "Cancel", show=False, id="cancel-escape"),
    ]

    def __init__(self, title: str, body: Text | str, yes: str, *, danger: bool = True) -> None:
        super().__init__(classes="confirm")
        self.title_text = title
        self.body = body
        self.yes = yes
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="-danger" if self.danger else ""):
            yield Static(self.body, id="dialog-body")
            keys = Text.assemble(
                ("y", "bold reverse"),
                f" {self.yes}    ",
                ("n", "bold reverse"),
                " / ",
                ("esc", "bold reverse"),
                " cancel",
            )
            yield Static(keys, id="dialog-keys")

    def on_mount(self) -> None:
        self.query_one("#dialog").border_title = self.title_text

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

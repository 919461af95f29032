"""The help modal: every key the console binds, read from the bindings themselves (so it
cannot drift from them), grouped by where it works, and the command palette."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

# Keys Textual binds that a user of the console should know about.
TEXTUAL_KEYS = (
    ("ctrl+p", "Command palette: every console command, searchable"),
    ("tab / shift+tab", "Move focus between panes"),
    ("up / down / pgup / pgdn", "Move in a table"),
)


def _key(binding: Binding) -> str:
    names = {"slash": "/", "question_mark": "?", "escape": "esc", "enter": "enter"}
    return " / ".join(names.get(k.strip(), k.strip()) for k in binding.key.split(","))


def _described(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    out = []
    for b in bindings:
        if isinstance(b, Binding) and b.description:
            out.append((_key(b), b.tooltip or b.description))
    return out


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="close"),
        Binding("question_mark", "dismiss", "Close", show=False, id="close-help"),
    ]

    def __init__(self, sections: list[tuple[str, Iterable[BindingType]]]) -> None:
        """`sections`: (where, bindings) pairs, e.g. ("Everywhere", App.BINDINGS)."""
        super().__init__(classes="help")
        self.sections = [(title, _described(bindings)) for title, bindings in sections]
        self.sections.append(("Textual", list(TEXTUAL_KEYS)))

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            with VerticalScroll():
                yield Static(self._key_tables(), id="help-keys")
            yield Static(
                Text.assemble(("esc", "bold reverse"), " / ", ("?", "bold reverse"), " close")
            )

    def on_mount(self) -> None:
        self.query_one("#dialog").border_title = "Keys"

    def _key_tables(self) -> Table:
        table = Table(show_header=False, expand=True, box=None, pad_edge=False)
        table.add_column("key", style="bold", width=16, no_wrap=True)
        table.add_column("what", ratio=1)
        for i, (title, rows) in enumerate(self.sections):
            if i:
                table.add_row("", "")
            table.add_row(Text(title, style="bold underline"), "")
            for key, what in rows:
                table.add_row(key, what)
        return table

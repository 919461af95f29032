"""The tab strip of a small terminal: which pane fills the body, each one key away
(1 markets, 2 orders, ...). On a medium terminal it names the pane in the side slot."""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.widgets import Static


class TabStrip(Static):
    DEFAULT_CSS = """
    TabStrip { height: 1; padding: 0 1; background: $surface; color: $text-muted; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._key: object = None

    def show(self, tabs: Sequence[tuple[str, str, str]], active: str, hint: str = "") -> None:
        """`tabs`: (name, key, label); `active`: the name of the tab shown."""
        key = (tuple(tabs), active, hint)
        if key == self._key:
            return
        self._key = key
        text = Text(no_wrap=True, overflow="ellipsis")
        for name, binding, label in tabs:
            chosen = name == active
            text.append(f" {binding} ", style=Style(bold=True, reverse=chosen))
            text.append(f"{label} ", style=Style(bold=True) if chosen else Style(dim=True))
            text.append(" ")
        if hint:
            text.append(hint, style="dim")
        self.update(text, layout=False)

    def repaint(self) -> None:
        self._key = None

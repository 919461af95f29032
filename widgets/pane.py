"""The base of the text panes: content rebuilt at refresh time, handed to Textual only
when it differs from what is shown, so a quiet pane costs no repaint or layout pass."""

from __future__ import annotations

from rich.console import RenderableType
from textual.widgets import Static


class TextPane(Static):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._key: object = None

    def paint(self, renderable: RenderableType, key: object = None) -> None:
        """Show `renderable` unless `key` (the renderable itself when None) is what is
        already shown. Rich Text compares by text and styles."""
        key = renderable if key is None else key
        if key == self._key:
            return
        self._key = key
        # A pane whose height the stylesheet fixes (lines or fr) keeps its size whatever
        # it shows: skip the layout pass (a whole-screen one, the costliest part of a
        # refresh). An auto-height pane grows and shrinks with its content: lay it out.
        height = self.styles.height
        self.update(renderable, layout=height is None or height.is_auto)

    def repaint(self) -> None:
        """Forget what is shown: the next paint draws (after a theme change)."""
        self._key = None

"""The console's screens: the dashboard, the market detail screen and the modals.

A screen that shows engine data implements :class:`Watching`: the app's refresh timer
hands it the latest :class:`~polyterm.tui.bridge.Frame` and, after a theme change, asks it
to repaint.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from polyterm.tui.bridge import Frame


@runtime_checkable
class Watching(Protocol):
    def show(self, frame: Frame) -> None: ...

    def repaint(self) -> None: ...

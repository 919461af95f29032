"""The notice bar: the console's latest notice on one line of its own above the footer,
where it hides no pane. Highlighted by severity while fresh, dimmed after (still there to
read until the next one)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from widgets.format import palette

ICONS = {"information": "●", "warning": "▲", "error": "✖"}


class NoticeBar(Static):
    DEFAULT_CSS = """
    NoticeBar { height: 1; padding: 0 1; background: $surface; color: $text-muted; }
    NoticeBar.-fresh { color: $foreground; background: $panel; }
    NoticeBar.-warning.-fresh { background: $warning 25%; }
    NoticeBar.-error.-fresh { background: $error 30%; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._key: object = None

    def on_mount(self) -> None:
        self.show(None)  # the bar explains itself until the first notice

    def show(self, line: str | None, severity: str = "information", fresh: bool = False) -> None:
        key = (line, severity, fresh)
        if key == self._key:
            return
        self._key = key
        self.set_class(fresh, "-fresh")
        self.set_class(severity == "warning", "-warning")
        self.set_class(severity == "error", "-error")
        text = Text(no_wrap=True, overflow="ellipsis")
        if line is None:
            text.append("no news yet: fills, kill-switch changes and command results show here")
        else:
            style = {"warning": palette("warn"), "error": f"bold {palette('pnl-down')}"}
            text.append(f"{ICONS.get(severity, '●')} ", style=style.get(severity, ""))
            text.append(line)
        self.update(text, layout=False)

    def repaint(self) -> None:
        self._key = None

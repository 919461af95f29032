"""What the console tells a person, one line at a time: the notice board behind the notice
bar.

Toasts over the panes hid the bottom of whatever was under them most of the time (a busy
run fills every couple of seconds). Here every notice (fills, the kill switch, the feed,
commands, errors, Textual's own) goes to one line of its own above the footer, where it
hides nothing, and to the log pane, where it stays. The line changes at most once every
``EVERY_S`` seconds: what arrives meanwhile is coalesced into the next one ("+2 more"),
the most severe first; an error shows at once. A notice stays highlighted for its
timeout, then dims and stays readable until the next one.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from typing import Literal

Severity = Literal["information", "warning", "error"]
RANK: dict[str, int] = {"information": 0, "warning": 1, "error": 2}
EVERY_S = 3.0  # the line changes at most this often (errors excepted)
DEFAULT_TIMEOUT_S = 5.0
KEPT = 200


@dataclass(frozen=True, slots=True)
class Notice:
    message: str
    title: str = ""
    severity: Severity = "information"
    timeout: float = DEFAULT_TIMEOUT_S
    more: int = 0  # notices coalesced into this one
    at: float = 0.0  # when it was shown (monotonic seconds)

    @property
    def line(self) -> str:
        """The notice as one line of plain text."""
        head = f"{self.title}: " if self.title else ""
        tail = f"  (+{self.more} more in the log)" if self.more else ""
        return head + " ".join(self.message.split()) + tail


class NoticeBoard:
    """The current notice and the ones waiting for their turn; `version` moves whenever
    what the bar should show changes."""

    def __init__(self, every_s: float = EVERY_S) -> None:
        self.every_s = every_s
        self.current: Notice | None = None
        self.pending: list[Notice] = []
        self.posted: deque[Notice] = deque(maxlen=KEPT)  # every notice, as asked
        self.shown: deque[Notice] = deque(maxlen=KEPT)  # what the line showed, in order
        self.version = 0

    def post(self, notice: Notice, now: float) -> None:
        self.posted.append(notice)
        self.pending.append(notice)
        self.tick(now)

    def tick(self, now: float) -> None:
        """Show the waiting notices (coalesced) once the line may change."""
        if not self.pending:
            return
        current = self.current
        urgent = any(n.severity == "error" for n in self.pending)
        if current is not None and now - current.at < self.every_s and not urgent:
            return
        waiting, self.pending = self.pending, []
        # The most severe, the latest among equals: that is what a person must see.
        top = max(enumerate(waiting), key=lambda iv: (RANK[iv[1].severity], iv[0]))[1]
        shown = replace(top, more=len(waiting) - 1, at=now)
        self.current = shown
        self.shown.append(shown)
        self.version += 1

    def fresh(self, now: float) -> bool:
        """Still within its timeout (highlighted)."""
        current = self.current
        return current is not None and now - current.at < current.timeout

    def clear(self) -> None:
        self.current = None
        self.pending = []
        self.version += 1

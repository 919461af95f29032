"""Every Textual message the console posts, in one place (past-tense nouns).

The engine's own events never reach widgets: the bridge turns the discrete ones into
these, batched per refresh (a busy run fills many orders a second; the console says so
once per refresh, not once per fill). Snapshots are not messages at all: the refresh
timer reads the latest one.
"""

from __future__ import annotations

from textual.message import Message

from engine.events import Filled, KillSwitchChanged, PositionSettled, TradingBlockChanged
from polyterm.tui.notices import Notice


class EngineStarted(Message):
    """The session is open (venue up, ledger open) and the engine runs."""

    def __init__(self, venue: str) -> None:
        super().__init__()
        self.venue = venue


class EngineStopped(Message):
    """The engine's run ended: `error` says why when it failed."""

    def __init__(self, error: str | None) -> None:
        super().__init__()
        self.error = error


class FillsArrived(Message):
    """Fills committed to the ledger since the last refresh, oldest first."""

    def __init__(self, fills: list[Filled]) -> None:
        super().__init__()
        self.fills = fills


class KillSwitchMoved(Message):
    def __init__(self, change: KillSwitchChanged) -> None:
        super().__init__()
        self.change = change


class FeedSourceSwitched(Message):
    def __init__(self, source: str, previous: str, reason: str | None) -> None:
        super().__init__()
        self.source = source
        self.previous = previous
        self.reason = reason


class EngineErrorRaised(Message):
    """An error the engine recorded and survived (the run goes on)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__()
        self.where = where
        self.message = message


class MarketSettled(Message):
    """A market resolved while we held a position in it."""

    def __init__(self, settlement: PositionSettled) -> None:
        super().__init__()
        self.settlement = settlement


class TradingBlockMoved(Message):
    """The gateway stopped new orders (heartbeat lost, reconciliation, ...) or let them
    go out again."""

    def __init__(self, change: TradingBlockChanged) -> None:
        super().__init__()
        self.change = change


class CommandFinished(Message):
    """A console command (flatten, kill, reset, pause) is done: `summary` says how."""

    def __init__(self, command: str, summary: str, ok: bool = True) -> None:
        super().__init__()
        self.command = command
        self.summary = summary
        self.ok = ok


class NoticePosted(Message):
    """Something to tell the person (the app's notify): for the notice line."""

    def __init__(self, notice: Notice) -> None:
        super().__init__()
        self.notice = notice

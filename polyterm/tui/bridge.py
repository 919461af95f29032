"""The bridge between the engine and the console: what arrived since the last refresh.

Two workers on the app's loop feed it (the engine runs on the same loop, so nothing here
needs a lock): one keeps only the latest snapshot (the hub is latest-wins too), one
collects discrete events. The app's refresh timer then takes both at once: panes are
patched from the latest snapshot, and the events become a handful of messages (fills
coalesced into one) and log lines. Engine log records reach the log pane the same way,
through a logging handler that only appends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from textual.message import Message

from engine.events import (
    EngineEvent,
    ErrorRaised,
    FeedSourceChanged,
    Filled,
    KillSwitchChanged,
    PositionSettled,
    TradingBlockChanged,
)
from engine.runtime.commands import EngineState
from engine.runtime.snapshot import EngineSnapshot
from polyterm.faces.backend import EngineBackend
from polyterm.tui.history import SessionHistory
from polyterm.tui.messages import (
    EngineErrorRaised,
    FeedSourceSwitched,
    FillsArrived,
    KillSwitchMoved,
    MarketSettled,
    TradingBlockMoved,
)

LOG_LINES = 2000


@dataclass(frozen=True, slots=True)
class Frame:
    """What one refresh shows: the latest snapshot and the console's view around it."""

    snap: EngineSnapshot | None
    engine_state: EngineState
    venue: str
    backend: EngineBackend | None
    history: SessionHistory | None
    engine_error: str | None = None  # why the engine failed (engine_state FAILED)


class LogTap(logging.Handler):
    """Keeps formatted log records for the log pane; emit only appends (any thread)."""

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.lines: deque[tuple[str, str]] = deque(maxlen=LOG_LINES)
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            when = time.strftime("%H:%M:%S", time.localtime(record.created))
            self.lines.append(
                (record.levelname, f"{when} {record.levelname:<7} {self.format(record)}")
            )
        except Exception:  # noqa: BLE001 - logging must never raise into the engine
            self.handleError(record)

    def take(self) -> list[tuple[str, str]]:
        out = list(self.lines)
        self.lines.clear()
        return out


class EngineBridge:
    def __init__(self) -> None:
        self.latest: EngineSnapshot | None = None
        self.events: list[EngineEvent] = []
        self.snapshots = 0  # received, for the benchmark
        self.dropped_events = 0
        self._arrived = asyncio.Event()  # set on each snapshot (and replaced)

    async def follow_snapshots(self, backend: EngineBackend) -> None:
        """The console's one subscription to the engine's snapshots: the panes show the
        latest, the backend's history takes its points from them."""
        async for snap in backend.hub.subscribe():
            self.latest = snap
            self.snapshots += 1
            backend.observe(snap)
            arrived, self._arrived = self._arrived, asyncio.Event()
            arrived.set()

    async def snapshot_where(self, predicate: Callable[[EngineSnapshot], bool]) -> EngineSnapshot:
        """The first snapshot (the latest, or one still to come through the console's one
        subscription) for which `predicate` holds; the caller bounds the wait."""
        while True:
            arrived = self._arrived
            if self.latest is not None and predicate(self.latest):
                return self.latest
            await arrived.wait()

    async def follow_events(self, backend: EngineBackend) -> None:
        await backend.news_from_here()
        async for event in backend.stream.subscribe():
            self.events.append(event)

    def take_messages(self) -> list[Message]:
        """The events since the last call as console messages: fills as one batch."""
        if not self.events:
            return []
        events, self.events = self.events, []
        out: list[Message] = []
        fills: list[Filled] = []
        for event in events:
            if isinstance(event, Filled):
                fills.append(event)
            elif isinstance(event, KillSwitchChanged):
                out.append(KillSwitchMoved(event))
            elif isinstance(event, FeedSourceChanged):
                out.append(FeedSourceSwitched(event.source, event.previous, event.reason))
            elif isinstance(event, ErrorRaised):
                out.append(EngineErrorRaised(event.where, event.message))
            elif isinstance(event, PositionSettled):
                out.append(MarketSettled(event))
            elif isinstance(event, TradingBlockChanged):
                out.append(TradingBlockMoved(event))
        if fills:
            out.insert(0, FillsArrived(fills))
        return out

"""The event stream: discrete events (fills, feed changes, errors, state) for the faces.

Bounded per subscriber: a subscriber that falls behind loses the oldest events, never
the engine's time, and is told how many it lost. Closing the stream lets every
subscriber drain what it already has, then ends it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

from engine.events import EngineEvent


class _Subscriber:
    __slots__ = ("events", "dropped", "wake")

    def __init__(self, maxlen: int) -> None:
        self.events: deque[EngineEvent] = deque(maxlen=maxlen)
        self.dropped = 0
        self.wake = asyncio.Event()


class EventStream:
    def __init__(self) -> None:
        self._subscribers: list[_Subscriber] = []
        self.closed = False
        self.published = 0

    def publish(self, event: EngineEvent) -> None:
        self.published += 1
        for sub in self._subscribers:
            if len(sub.events) == sub.events.maxlen:
                sub.dropped += 1
            sub.events.append(event)
            sub.wake.set()

    def close(self) -> None:
        self.closed = True
        for sub in self._subscribers:
            sub.wake.set()

    async def subscribe(self, maxlen: int = 1000) -> AsyncIterator[EngineEvent]:
        sub = _Subscriber(maxlen)
        self._subscribers.append(sub)
        try:
            while True:
                while sub.events:
                    yield sub.events.popleft()
                if self.closed:
                    return
                sub.wake.clear()
                await sub.wake.wait()
        finally:
            self._subscribers.remove(sub)

    def dropped(self) -> int:
        return sum(s.dropped for s in self._subscribers)

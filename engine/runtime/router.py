"""Where events leave the core: into the ledger at once, to the faces once on disk.

Every event is recorded by the ledger writer (which batches and commits). Discrete events
(fills, exits, feed changes, errors, state) wait here until the ledger reports their
batch committed, then go to the event stream, so no face ever shows a fill that a crash
could still lose. The recent fills and exits the snapshot shows are kept here for the
same reason.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from engine.events import STREAMED, EngineEvent, Filled, PositionClosed
from engine.fixed import cash_decimal, price_decimal, size_decimal
from engine.ports import Ledger
from engine.runtime.snapshot import ExitRow, FillRow
from engine.runtime.stream import EventStream

Describe = Callable[[str], tuple[str, str]]  # asset id -> (question, outcome)
# Event kinds are final: a set lookup, not an isinstance walk of the tuple, per event.
_STREAMED = frozenset(STREAMED)


class EventRouter:
    def __init__(self, ledger: Ledger, stream: EventStream, describe: Describe) -> None:
        self.ledger = ledger
        self.stream = stream
        self.describe = describe
        self.last_seq = 0
        self.recent_fills: deque[FillRow] = deque(maxlen=50)
        self.recent_exits: deque[ExitRow] = deque(maxlen=50)
        self.version = 0  # bumps when recent fills or exits change
        self._pending: deque[tuple[int, EngineEvent]] = deque()
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        ledger.add_commit_listener(self._on_commit)

    def emit(self, event: EngineEvent) -> None:
        seq = self.ledger.record(event)
        self.last_seq = seq
        if type(event) in _STREAMED:
            self._pending.append((seq, event))

    async def wait_committed(self, seq: int | None = None) -> None:
        """Until everything emitted so far (or up to `seq`) is on disk."""
        target = self.last_seq if seq is None else seq
        if self.ledger.committed_seq >= target:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, fut))
        await fut

    def _on_commit(self, committed: int) -> None:
        pending = self._pending
        while pending and pending[0][0] <= committed:
            _, event = pending.popleft()
            self._show(event)
            self.stream.publish(event)
        if self._waiters:
            keep = []
            for target, fut in self._waiters:
                if target <= committed:
                    if not fut.done():
                        fut.set_result(None)
                else:
                    keep.append((target, fut))
            self._waiters = keep

    def _show(self, event: EngineEvent) -> None:
        if isinstance(event, Filled):
            f = event.fill
            question, outcome = self.describe(f.asset_id)
            self.recent_fills.appendleft(
                FillRow(
                    f.fill_id,
                    f.order_id,
                    f.at,
                    f.asset_id,
                    question,
                    outcome,
                    f.side.value,
                    price_decimal(f.price),
                    size_decimal(f.size),
                    cash_decimal(f.fee),
                    f.liquidity.value,
                    event.strategy,
                    event.reason,
                )
            )
            self.version += 1
        elif isinstance(event, PositionClosed):
            question, outcome = self.describe(event.asset_id)
            self.recent_exits.appendleft(
                ExitRow(
                    event.at,
                    event.asset_id,
                    question,
                    outcome,
                    event.strategy,
                    event.reason,
                    size_decimal(event.shares),
                    price_decimal(event.entry_price),
                    price_decimal(event.exit_price),
                    cash_decimal(event.realized),
                    event.kind,
                )
            )
            self.version += 1

"""A deterministic session for the console: a tape replayed through the same engine on a
simulated clock, then held open at the tape's last moment.

The snapshot tests and most Pilot tests run the console on this: the tape is the seeded
emulator's flow (``polyterm exchange --export-tape``), so the same seed gives the same
books, fills, positions, charts and clock on every machine. Commands work as in a live
run, against the books as the tape left them: a flatten's closing orders fill on the
paper venue at once, since no time passes. ``advance()`` feeds more records (a test uses
it to show that a paused engine places no entries).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from pathlib import Path

from engine.adapters.net.tasks import cancel_and_wait
from engine.clock import SimClock
from engine.ledger.writer import SqliteLedger
from engine.market.health import FeedHealth, FeedSource
from engine.runtime.backtest import BacktestRunner, ReplayRecord
from engine.runtime.core import FlattenScope
from engine.runtime.live import FlattenReport
from polyterm.faces.backend import EngineBackend
from polyterm.faces.backtest import TapeOnly, replay_records
from polyterm.faces.wiring import build_engine
from polyterm.settings.config import AppConfig


def by_second(records: Iterable[ReplayRecord]) -> Iterator[list[ReplayRecord]]:
    """Records grouped by the second of tape time they fall in."""
    for _, group in itertools.groupby(records, key=lambda r: int(r.t)):
        yield list(group)


class ReplayBackend(EngineBackend):
    def __init__(
        self,
        runner: BacktestRunner,
        records: Iterable[ReplayRecord],
        starting_cash: int,
    ) -> None:
        super().__init__(runner.core, runner.builder, runner.hub, runner.router.stream, "replay")
        self.runner = runner
        self.records = records
        self.starting_cash = starting_cash
        self.replayed = asyncio.Event()  # the tape is in: the console shows its end
        self._stop = asyncio.Event()
        self._poke = asyncio.Event()

    async def run(self) -> None:
        error: BaseException | None = None
        publisher: asyncio.Task[None] | None = None
        try:
            await self.advance(self.records)
            self.replayed.set()
            publisher = asyncio.create_task(self._publisher(), name="replay-publisher")
            await self._stop.wait()
        except Exception as exc:  # the run still ends cleanly; then it propagates
            error = exc
        finally:
            if publisher is not None:
                await cancel_and_wait(publisher)
        await self.runner.finish(error)

    async def news_from_here(self) -> None:
        await self.replayed.wait()

    async def advance(self, records: Iterable[ReplayRecord]) -> None:
        """Feed `records`, publishing a snapshot at the end of each second of tape time
        (the history takes one point per second, as in a live run)."""
        for chunk in by_second(records):
            await self.runner.feed(chunk, starting_cash=self.starting_cash)
            await self.publish()

    async def publish(self) -> None:
        """A snapshot of everything already on disk, as the live runner publishes."""
        snap = self.builder.build()
        await self.runner.router.wait_committed()
        self.history.observe(snap)
        self.hub.publish(snap)

    async def _publisher(self) -> None:
        # Commands change state without time passing: publish after each one.
        while True:
            await self._poke.wait()
            self._poke.clear()
            await self.publish()

    def stop(self) -> None:
        self._stop.set()

    def pause(self) -> None:
        self.core.pause()
        self._poke.set()

    def resume(self) -> None:
        self.core.resume()
        self._poke.set()

    async def flatten(self, scope: FlattenScope) -> FlattenReport:
        plan = self.core.flatten(scope, who="console")
        await self.publish()
        return FlattenReport(plan, self.core.flatten_outcome(plan))

    async def kill(self) -> FlattenReport:
        plan = self.core.kill("console")
        await self.publish()
        return FlattenReport(plan, self.core.flatten_outcome(plan))

    def reset(self) -> None:
        self.core.reset_kill_switch("console")
        self._poke.set()


@contextlib.asynccontextmanager
async def open_replay_session(
    app: AppConfig,
    tapes: Sequence[Path],
    ledger_path: Path,
    *,
    records: Iterable[ReplayRecord] | None = None,
) -> AsyncIterator[ReplayBackend]:
    """A replay of `tapes` (or of `records` read from them) into a new ledger at
    `ledger_path`."""
    clock = SimClock()
    health = FeedHealth()
    health.set_source(FeedSource.REPLAY, 0.0)
    ledger = await SqliteLedger(ledger_path).open()
    try:
        parts = build_engine(
            app.engine,
            clock,
            ledger,
            feed=TapeOnly(),
            health=health,
            mode="paper",
            venue="replay",
            seed=app.emulator_seed,
        )
        runner = BacktestRunner(
            parts.core, clock, parts.gateway, ledger, parts.router, parts.builder, hub=parts.hub
        )
        source = records if records is not None else replay_records(tapes)
        yield ReplayBackend(runner, source, parts.starting_cash)
    finally:
        await ledger.close()

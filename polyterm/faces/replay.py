"""A deterministic session for the console: a tape replayed through the same engine on a
simulated clock, then held open at the tape's last moment.

The snapshot tests and most Pilot tests run the console on this: the tape is the seeded
emulator's flow (``polyterm exchange --export-tape``), so the same seed gives the same
books, fills, positions, charts and clock on every machine. Commands work as in a live
run, against the books as the tape left them: a flatten's closing orders fill on the
paper exchange at once, since no time passes. ``advance()`` feeds more records (a test uses
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
from engine.config import EngineConfig
from engine.ledger.writer import SqliteLedger
from engine.runtime.backtest import BacktestRunner, ReplayRecord, replay_records
from engine.runtime.commands import (
    EngineState,
    FlattenPlan,
    FlattenReport,
    FlattenScope,
    ManualOrder,
    ManualOutcome,
)
from engine.runtime.kernel import build_engine, replay_health
from engine.runtime.snapshot import EngineSnapshot
from polyterm.faces.backend import EngineBackend
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
        config: EngineConfig,
    ) -> None:
        super().__init__(runner.hub, runner.router.stream, "replay", config)
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
        snap = self.runner.builder.build()
        await self.runner.router.wait_committed()
        self.history.observe(snap)  # every one: the replay's history is deterministic
        self.hub.publish(snap)

    def observe(self, snap: EngineSnapshot) -> None:
        return None  # publish() already took every snapshot into the history

    async def _publisher(self) -> None:
        # Commands change state without time passing: publish after each one.
        while True:
            await self._poke.wait()
            self._poke.clear()
            await self.publish()

    def stop(self) -> None:
        self._stop.set()

    @property
    def state(self) -> EngineState:
        return self.runner.state

    def pause(self) -> None:
        self.runner.pause()
        self._poke.set()

    def resume(self) -> None:
        self.runner.resume()
        self._poke.set()

    def flatten_preview(self, scope: FlattenScope) -> FlattenPlan:
        return self.runner.flatten_preview(scope)

    async def flatten(self, scope: FlattenScope) -> FlattenReport:
        report = self.runner.flatten(scope, who="console")
        await self.publish()
        return report

    async def kill(self) -> FlattenReport:
        report = self.runner.kill("console")
        await self.publish()
        return report

    def reset(self) -> None:
        self.runner.reset("console")
        self._poke.set()

    def watch(self, asset_id: str | None) -> None:
        self.runner.watch(asset_id)
        self._poke.set()

    def manual_preview(self, order: ManualOrder) -> ManualOutcome:
        return self.runner.manual_preview(order)

    async def manual_order(self, order: ManualOrder) -> ManualOutcome:
        outcome = self.runner.manual_order(order, who="console")
        # Its fills on disk first: the snapshot published next shows them.
        await self.runner.router.wait_committed()
        await self.publish()
        return outcome

    def cancel_order(self, order_id: str) -> bool:
        done = self.runner.cancel_order(order_id, who="console")
        self._poke.set()
        return done


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
    ledger = await SqliteLedger(ledger_path).open()
    try:
        engine = build_engine(
            app.engine,
            clock,
            ledger,
            venue="replay",
            health=replay_health(),
            seed=app.emulator_seed,
        )
        runner = engine.backtest_runner(clock, ledger)
        source = records if records is not None else replay_records(tapes)
        yield ReplayBackend(runner, source, engine.starting_cash, app.engine)
    finally:
        await ledger.close()

"""The backtest runner: tape records through the same core, on a simulated clock.

Before each record the clock advances to the record's time and fires every timer due on
the way (the core's housekeeping, orders arriving after their latency, expiries); then
the record is applied and a decision pass runs, as a live run's loop would once free.
Orders reach the simulated venue after its seeded latency, as timers; its answers go
back through the order manager's one entry point at once. The ledger
commits only at fixed record counts, so the same tape and configuration give the same
ledger file, byte for byte. Nothing here waits on real time: it runs as fast as the CPU.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path

import msgspec

from engine.adapters.tape.tape import read_tape
from engine.clock import SimClock, perf_ns
from engine.execution.flatten import FlattenPlan, FlattenReport, FlattenScope
from engine.market.markets import MarketInfo, market_from_json
from engine.orders import OrderRequest, OrderStatus
from engine.ports import Ledger, SimulatedGateway
from engine.runtime.core import EngineCore
from engine.runtime.latency import LatencyRecorder
from engine.runtime.manual import ManualOrder, ManualOutcome
from engine.runtime.router import EventRouter
from engine.runtime.snapshot import EngineSnapshot, SnapshotHub
from engine.runtime.snapshot_builder import SnapshotBuilder
from engine.runtime.state import EngineState
from engine.runtime.summary import summary_dict


class ReplayRecord(msgspec.Struct, frozen=True, gc=False):
    """One tape record as the runner needs it (the tape adapter makes these). One per
    message, never part of a cycle (bytes, a float, a tuple of frozen markets): the
    collector need not track it."""

    t: float
    src: str
    frame: str | bytes | None = None
    markets: tuple[MarketInfo, ...] | None = None


class BacktestProgress(msgspec.Struct, frozen=True):
    records: int
    messages: int
    sim_time: float
    orders: int
    fills: int


ProgressSink = Callable[[BacktestProgress], None]


def replay_records(tapes: Sequence[Path]) -> Iterator[ReplayRecord]:
    """Every record of every tape, in order, as the backtest runner takes them."""
    for path in tapes:
        for record in read_tape(path):
            if record.markets is not None:
                markets = tuple(market_from_json(m) for m in record.markets)
                yield ReplayRecord(record.t, record.src, markets=markets)
            elif record.frame is not None:
                yield ReplayRecord(record.t, record.src, frame=record.frame)


class BacktestRunner:
    def __init__(
        self,
        core: EngineCore,
        clock: SimClock,
        gateway: SimulatedGateway,
        ledger: Ledger,
        router: EventRouter,
        builder: SnapshotBuilder,
        *,
        hub: SnapshotHub | None = None,
        commit_every: int = 5000,
        progress: ProgressSink | None = None,
        progress_every: int = 2000,
    ) -> None:
        self.core = core
        # Latency is real time: it would make two replays of one tape differ.
        core.intake.stop_measuring_latency()
        self.clock = clock
        self.gateway = gateway
        self.ledger = ledger
        self.router = router
        self.builder = builder
        self.hub = hub or SnapshotHub()
        self.commit_every = commit_every
        self.progress = progress
        self.progress_every = progress_every
        # A backtest's figure is the CPU time of the pass of a frame that made orders
        # (its clock is simulated: no receive time to time from).
        self.latency: LatencyRecorder = core.latency
        self.records = 0
        self.final: EngineSnapshot | None = None
        self._stop = False
        self._started = False
        self._in_flight = 0  # orders waiting out their latency
        core.oms.bind(self)

    # -- the order manager's outbound (OrderOutbound) ---------------------------------------
    def send(self, order: OrderRequest) -> None:
        """An order leaves: it reaches the venue after its seeded latency (a timer)."""
        delay = self.gateway.latency()
        if delay > 0:
            self._in_flight += 1
            self.clock.call_at(self.clock.monotonic() + delay, partial(self._arrive, order))
        else:
            self._place(order)

    def send_cancel(self, order_id: str, reason: str) -> None:
        oms = self.core.oms
        oms.on_reports(self.gateway.withdraw(order_id, self.clock.time(), reason))

    def _arrive(self, order: OrderRequest) -> None:
        self._in_flight -= 1
        self._place(order)

    def _place(self, order: OrderRequest) -> None:
        self.core.oms.on_reports(self.gateway.place(order, self.clock.time()))

    def stop(self) -> None:
        """End the replay after the current record (a signal handler may call this)."""
        self._stop = True

    # -- commands (a replay held open at its last record takes them as a live run does;
    # no time passes, so a flatten's closing orders are answered at once) --------------------
    @property
    def state(self) -> EngineState:
        return self.core.state

    def pause(self) -> None:
        self.core.pause()

    def resume(self) -> None:
        self.core.resume()

    def flatten_preview(self, scope: FlattenScope | None = None) -> FlattenPlan:
        return self.core.flatten_preview(scope)

    def flatten(self, scope: FlattenScope | None = None, *, who: str = "user") -> FlattenReport:
        plan = self.core.flatten(scope, who=who)
        return FlattenReport(plan, self.core.flatten_outcome(plan))

    def kill(self, who: str = "user") -> FlattenReport:
        plan = self.core.kill(who)
        return FlattenReport(plan, self.core.flatten_outcome(plan))

    def reset(self, who: str = "user") -> None:
        self.core.reset_kill_switch(who)

    def watch(self, asset_id: str | None) -> None:
        self.core.watch(asset_id)

    def manual_preview(self, order: ManualOrder) -> ManualOutcome:
        return self.core.manual_preview(order)

    def manual_order(self, order: ManualOrder, *, who: str = "user") -> ManualOutcome:
        """A person's order (the console held open on a replay): answered at once."""
        return self.core.manual_order(order, who)

    def cancel_order(self, order_id: str, *, who: str = "user") -> bool:
        return self.core.cancel_order(order_id, who)

    async def run(self, records: Iterable[ReplayRecord], *, starting_cash: int) -> EngineSnapshot:
        """Replay `records`, then end the run (orders cancelled, ledger flushed)."""
        error: BaseException | None = None
        try:
            await self.feed(records, starting_cash=starting_cash)
        except Exception as exc:  # the summary and ledger still close; then it propagates
            error = exc
        return await self._finish(error)

    async def feed(self, records: Iterable[ReplayRecord], *, starting_cash: int) -> None:
        """Apply `records` (the run starts at the first) and leave the run open: the
        clock stays at the last record's time until more are fed, and commands (flatten,
        kill) trade against the books as they are. :meth:`finish` ends the run."""
        core = self.core
        clock = self.clock
        for record in records:
            if not self._started:
                await self._start(record.t, starting_cash)
            clock.advance_to(record.t)
            if record.markets is not None:
                core.on_markets(record.markets)
            elif record.frame is not None:
                started = perf_ns()
                core.on_frame(record.frame, record.t, record.src)
                made = core.decide()
                if made:
                    self.latency.add(perf_ns() - started, made)
            self.records += 1
            if self.records % self.commit_every == 0:
                await self.ledger.flush()  # also lets a stop signal in
            if self._stop:
                break
            if self.progress is not None and self.records % self.progress_every == 0:
                self._report()

    async def finish(self, error: BaseException | None = None) -> EngineSnapshot:
        """End a run :meth:`feed` left open; raises `error` after the ledger closes."""
        return await self._finish(error)

    async def _start(self, t: float, starting_cash: int) -> None:
        self._started = True
        self.clock.advance_to(t)
        run_id = await self.ledger.start_run(
            self.core.mode, self.core.venue, self.core.config_json(), t, starting_cash
        )
        self.core.start(run_id)
        self._arm_timer()
        # What is loaded by now (code, configuration, the engine) lives as long as the
        # replay: out of the collector's full passes, as the live runner does.
        gc.freeze()

    def _arm_timer(self) -> None:
        self.clock.call_at(self.core.next_timer_at(), self._tick)

    def _tick(self) -> None:
        self.core.on_timer()
        self._arm_timer()

    def _report(self) -> None:
        assert self.progress is not None
        parts = self.core.parts
        self.progress(
            BacktestProgress(
                self.records,
                parts.intake.counts["messages"],
                self.clock.time(),
                parts.oms.counts["orders"],
                parts.accounting.counts["fills"],
            )
        )

    async def _finish(self, error: BaseException | None) -> EngineSnapshot:
        core = self.core
        clock = self.clock
        final: EngineSnapshot | None = None
        try:
            if self._started:
                # Orders still on their way reach the book; then nothing more is due.
                while self._in_flight and (due := clock.next_due()) is not None:
                    clock.advance_to(due)
                core.decide()
                core.stopping()
                oms = core.oms
                for order_id in oms.open_ids():
                    oms.cancel(order_id, "backtest ended")
                    oms.close(order_id, OrderStatus.CANCELLED, "backtest ended", tell=False)
                core.finish(None if error is None else str(error) or type(error).__name__)
                summary = summary_dict(self.builder.build())
                await self.ledger.end_run(
                    core.run_id, json.dumps(summary, default=str), clock.time()
                )
                await self.router.wait_committed()
            else:
                core.finish(None if error is None else str(error) or type(error).__name__)
            final = self.builder.build()
        finally:
            if self._started:
                gc.unfreeze()  # another run in this process starts from scratch
            self.final = final
            if final is not None:
                self.hub.publish(final)
            self.hub.close()
            self.router.stream.close()
            if self.progress is not None:
                self._report()
        if error is not None:
            raise error
        return final

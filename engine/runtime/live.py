"""The live runner: the core under asyncio, fed by a market feed on the system clock.

Tasks: the feed (delivering frames to the core), the sentiment source when one is
configured (delivering headlines; the markets they move are decided on at once), the
gateway's own background work (a live venue's heartbeats and user channel), the
submitter and the canceller (carrying orders and cancels from the order manager's queues
to the gateway, so a slow gateway never stalls a decision; orders queued together reach
the gateway together, and cancels asked together leave as one batch; the answers go back
through the order manager's one entry point), the core's timer, the snapshot publisher,
and the garbage collector's passes, held off the decision path
(engine.runtime.collector). A frame's decisions run as soon as it is applied, before the
next frame is read, while the engine keeps up (the frame arrived under
``CONFLATE_AFTER_S`` ago); behind that (frames waited in buffers), one pass runs after
the read for however many frames arrived meanwhile, each book decided once on its latest
state, in slices of ``DECIDE_SLICE`` books, as many as fit in ``DECIDE_BUDGET_S``
between socket reads. Frame -> order latency is timed per order, from the receipt of the
frame that triggered its decision to its hand-off to the gateway (``send``).

Stopping (``stop()``, a signal, ``duration`` elapsed, the feed ending) winds every task
down, asks the gateway to cancel every open order (those it cannot confirm are closed on
the record), flushes the ledger, and publishes the final snapshot to every subscriber
before the hub closes.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import Sequence

from engine.clock import Clock
from engine.execution.flatten import FlattenPlan, FlattenReport, FlattenScope
from engine.market.markets import MarketInfo
from engine.market.sentiment import Headline
from engine.orders import TAKING_TYPES, OrderRequest, OrderStatus
from engine.ports import (
    Ledger,
    MarketChoiceError,
    MarketChooser,
    MarketFeed,
    OrderGateway,
    SentimentSource,
)
from engine.runtime.collector import SafePointCollector
from engine.runtime.core import EngineCore
from engine.runtime.latency import LatencyRecorder
from engine.runtime.manual import ManualOrder, ManualOutcome
from engine.runtime.router import EventRouter
from engine.runtime.snapshot import EngineSnapshot, SnapshotHub
from engine.runtime.snapshot_builder import SnapshotBuilder
from engine.runtime.state import EngineState
from engine.runtime.stream import EventStream
from engine.runtime.summary import summary_dict
from engine.venue import OrderUpdate, VenueReport

log = logging.getLogger("engine.runtime")

# Orders in flight at once, each waiting on the gateway independently. Orders queued
# together all reach the gateway together, so a venue's batch call can carry them (the
# live gateway posts up to 15 a request); a decision never waits for a free slot.
ORDERS_IN_FLIGHT = 64
STOP_CANCEL_S = 5.0  # how long stopping waits for the gateway's answers to its cancels
# Books decided per loop turn. All five strategies on a book cost ~25 us, so a pass over
# 2,000 changed books would block the loop for ~50 ms; in slices of 32 (~1 ms) socket
# reads and timers run between them, and under load decisions conflate: a book that
# changed ten times meanwhile is decided once, on its latest state. (Measured with
# benchmarks/bench_ingest.py: 64 gave a longer loop-lag tail at 50k msg/s.)
DECIDE_SLICE = 32
# Slices decided per loop turn while time is left of this budget: a backlog (frames that
# queued behind a collector pass or a snapshot) drains in a few turns, not one slice a
# turn behind every socket read, while a turn still ends within a few milliseconds.
DECIDE_BUDGET_S = 0.004
# A snapshot's market rows are rebuilt 16 at a time (~3 us each when they moved, ~0.3 us
# when not) until a loop turn has spent SNAPSHOT_TURN_S: 64 rows a turn held the loop
# ~0.55 ms (1.2 ms at p99), and a frame that came meanwhile waited so long; 16 a turn
# made a 1,000-market pass 125 turns, and the snapshots' pace slowed under load.
SNAPSHOT_ROWS_PER_TURN = 16
SNAPSHOT_TURN_S = 0.00015
# How often the runner looks whether a collector pass is due (it runs one only at a turn
# with no decision pending and no order or cancel in the gateway's hands).
COLLECT_CHECK_S = 0.02
# A frame applied within this long of its receipt is decided at once (the engine keeps up);
# an older one means frames are queueing: decisions conflate into one pass after the read.
CONFLATE_AFTER_S = 0.002


class _Stop(Exception):
    """Raised inside the task group to wind every task down together."""


class LiveRunner:
    def __init__(
        self,
        core: EngineCore,
        feed: MarketFeed,
        gateway: OrderGateway,
        ledger: Ledger,
        router: EventRouter,
        builder: SnapshotBuilder,
        *,
        hub: SnapshotHub | None = None,
        stream: EventStream | None = None,
        sentiment: SentimentSource | None = None,
    ) -> None:
        self.core = core
        self.feed = feed
        self.sentiment = sentiment
        self.gateway = gateway
        self.ledger = ledger
        self.router = router
        self.builder = builder
        self.hub = hub or SnapshotHub()
        self.stream = stream or router.stream
        self.clock: Clock = core.clock
        self.latency: LatencyRecorder = core.latency
        self._stop = asyncio.Event()
        # The one queue an order waits in (and one for cancels): the order manager puts
        # into them through send() / send_cancel().
        self._orders: asyncio.Queue[OrderRequest] = asyncio.Queue()
        self._cancels: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._decide_pending = False
        self._markets_frozen = False  # gc.freeze() once the first markets are loaded
        self.collector = SafePointCollector()
        # Orders and cancels handed to the runner whose gateway call has not returned
        # (signing, the ledger's record, the request): no collector pass meanwhile.
        self._in_hand = 0
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        core.oms.bind(self)

    # -- the order manager's outbound (OrderOutbound) ---------------------------------------
    def send(self, order: OrderRequest) -> None:
        """The hand-off to the gateway: an order from a decision is timed from the frame
        that triggered it."""
        us = self.core.intake.latency_us()
        if us is not None:
            self.latency.add(int(us * 1000))
        self._in_hand += 1
        self._orders.put_nowait(order)

    def send_cancel(self, order_id: str, reason: str) -> None:
        self._in_hand += 1
        self._cancels.put_nowait((order_id, reason))

    # -- commands ------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the run to end (safe from a signal handler)."""
        self._stop.set()

    @property
    def state(self) -> EngineState:
        return self.core.state

    def pause(self) -> None:
        """No new entries; exits, cancels and settlement go on."""
        self.core.pause()

    def resume(self) -> None:
        self.core.resume()

    def flatten_preview(self, scope: FlattenScope | None = None) -> FlattenPlan:
        return self.core.flatten_preview(scope)

    async def flatten(
        self, scope: FlattenScope | None = None, *, who: str = "user", timeout_s: float = 10.0
    ) -> FlattenReport:
        """Cancel and close everything in scope; wait (up to `timeout_s`) for the closing
        orders to finish; report what is still held, and why."""
        return await self._settle_plan(self.core.flatten(scope, who=who), timeout_s)

    async def kill(self, who: str = "user", timeout_s: float = 10.0) -> FlattenReport:
        """Latch the kill switch and flatten everything."""
        return await self._settle_plan(self.core.kill(who), timeout_s)

    def reset(self, who: str = "user") -> None:
        """Re-arm the kill switch explicitly (recorded with who and when)."""
        self.core.reset_kill_switch(who)

    def watch(self, asset_id: str | None) -> None:
        """Carry this token's depth in the snapshots (None: none)."""
        self.core.watch(asset_id)

    def manual_preview(self, order: ManualOrder) -> ManualOutcome:
        """What the risk gate says of a person's order, and what the book would give."""
        return self.core.manual_preview(order)

    async def manual_order(
        self, order: ManualOrder, *, who: str = "user", timeout_s: float = 10.0
    ) -> ManualOutcome:
        """Send a person's order through the risk gate and the gateway; wait (up to
        `timeout_s`) for a taking order's answer."""
        outcome = self.core.manual_order(order, who)
        if outcome.order_id is not None and order.order_type in TAKING_TYPES:
            await self._until_done((outcome.order_id,), timeout_s)
        return outcome

    def cancel_order(self, order_id: str, *, who: str = "user") -> bool:
        """Take one open order off the book; False when it is not open."""
        return self.core.cancel_order(order_id, who)

    async def cancel_all(self, *, who: str = "user", timeout_s: float = 10.0) -> tuple[str, ...]:
        """Take every open order off the book and wait (up to `timeout_s`) for the venue's
        confirmations; the orders that are still open after it (none, normally)."""
        asked = self.core.cancel_all(who)
        await self._until_done(asked, timeout_s)
        return tuple(oid for oid in asked if self.core.oms.get(oid) is not None)

    # -- markets by name (the console's palette) ------------------------------------------
    def _chooser(self) -> MarketChooser:
        feed = self.feed
        if not isinstance(feed, MarketChooser):
            raise MarketChoiceError("this feed's markets cannot change while it runs")
        return feed

    async def search_markets(self, text: str, limit: int = 10) -> Sequence[MarketInfo]:
        """Open markets the venue finds for `text`."""
        return await self._chooser().search_markets(text, limit)

    async def add_market(self, ref: str) -> MarketInfo:
        """Trade one more market (a slug, condition id or token id) from now on."""
        return await self._chooser().add_market(ref)

    async def remove_market(self, condition_id: str) -> MarketInfo:
        """Stop trading a market; refused while a position or an order is there (its
        exits need its book: flatten it first)."""
        chooser = self._chooser()
        snap = self.builder.build()
        tokens = {r.asset_id for r in snap.markets if r.market == condition_id}
        held = [p for p in snap.positions if p.asset_id in tokens and p.shares]
        resting = [o for o in snap.orders if o.asset_id in tokens]
        if held or resting:
            raise MarketChoiceError(
                f"{len(held)} positions and {len(resting)} open orders are there: "
                "flatten the market first (f, then m)"
            )
        return await chooser.remove_market(condition_id)

    async def _settle_plan(self, plan: FlattenPlan, timeout_s: float) -> FlattenReport:
        await self._until_done(plan.orders, timeout_s)
        return FlattenReport(plan, self.core.flatten_outcome(plan))

    async def _until_done(self, order_ids: tuple[str, ...], timeout_s: float) -> None:
        oms = self.core.oms
        try:
            async with asyncio.timeout(timeout_s):
                while any(oms.get(oid) is not None for oid in order_ids):
                    await self.clock.sleep(0.02)
        except TimeoutError:
            pass

    # -- the sink the feed delivers to --------------------------------------------------
    def on_markets(self, markets: Sequence[MarketInfo]) -> None:
        self.core.on_markets(markets)
        if not self._markets_frozen:
            # Markets and their books live as long as the run: keep them (and everything
            # loaded before) out of the collector's full passes, which at 2,000 books
            # took ~60 ms of loop time each; ~10 ms frozen. Once: a market listed later
            # would also freeze whatever else is alive then (connections, requests in
            # flight), which could then never be collected.
            self._markets_frozen = True
            self.collector.freeze()

    def on_frame(self, raw: bytes | str, recv_ts: float, source: str) -> None:
        core = self.core
        core.on_frame(raw, recv_ts, source)
        if self._decide_pending or self._loop is None or not core.pending_decisions:
            return  # nothing to decide, or a conflated pass is due already
        if self.clock.time() - recv_ts < CONFLATE_AFTER_S:
            self._decide()  # keeping up: this frame's decisions before the next read
        else:
            self._schedule_decision()

    # -- the sink the sentiment source delivers to ----------------------------------------
    def on_headlines(self, headlines: Sequence[Headline]) -> None:
        if self.core.trading:
            self.core.on_headlines(headlines)
            self._schedule_decision()

    def _schedule_decision(self) -> None:
        # Once per frame: the cheap test first (a pass is usually scheduled already).
        if not self._decide_pending and self._loop is not None and self.core.pending_decisions:
            self._decide_pending = True
            self._loop.call_soon(self._decide)

    def _decide(self) -> None:
        self._decide_pending = False
        core = self.core
        clock = self.clock
        try:
            until = clock.monotonic() + DECIDE_BUDGET_S
            core.decide(DECIDE_SLICE)
            while core.pending_decisions and clock.monotonic() < until:
                core.decide(DECIDE_SLICE)
        except Exception as exc:  # noqa: BLE001 - a callback has no task to fail: stop the run
            self._fail(exc)
            return
        if core.pending_decisions and self._loop is not None:
            # The rest of the pass after the next socket read: frames are never held up
            # behind decisions, and each book is decided once, on its latest state.
            self._decide_pending = True
            self._loop.call_soon(self._decide)

    def _fail(self, exc: BaseException) -> None:
        """An error outside the task group (a scheduled decision): end the run with it."""
        if self._failure is None:
            self._failure = exc
        self._stop.set()

    # -- the run ---------------------------------------------------------------------------
    async def run(self, duration: float | None = None, *, starting_cash: int) -> EngineSnapshot:
        core = self.core
        self._loop = asyncio.get_running_loop()
        run_id = await self.ledger.start_run(
            core.mode, core.venue, core.config_json(), self.clock.time(), starting_cash
        )
        core.start(run_id)
        self._markets_frozen = False
        gc.freeze()  # the code and configuration loaded so far never become garbage
        self.collector.take()
        error: BaseException | None = None
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._collections(), name="engine-collector")
                tg.create_task(self._run_feed(), name="engine-feed")
                if self.sentiment is not None:
                    core.follow_sentiment(self.sentiment.status)
                    tg.create_task(self._run_sentiment(), name="engine-sentiment")
                tg.create_task(self.gateway.run(), name="engine-gateway")
                tg.create_task(self._submitter(), name="engine-submit")
                tg.create_task(self._canceller(), name="engine-cancel")
                tg.create_task(self._timers(), name="engine-timers")
                tg.create_task(self._snapshots(), name="engine-snapshots")
                tg.create_task(self._stopper(duration), name="engine-stopper")
        except* _Stop:
            pass
        except* Exception as group:
            error = group.exceptions[0]
        finally:
            self.collector.give_back()
            gc.unfreeze()  # another run in this process (a test) starts from scratch
        return await self._finish(error or self._failure)

    async def _finish(self, error: BaseException | None) -> EngineSnapshot:
        core = self.core
        message = None
        if error is not None:
            message = str(error) or type(error).__name__
            log.info("engine failed: %s", message)  # the face reports it (one line)
        final: EngineSnapshot | None = None
        try:
            core.stopping()
            if self.gateway.keeps_orders and core.config.execution.on_stop == "leave":
                # Left working at the venue (the next run reconciles them): the ledger
                # shows them open, as they are.
                log.warning("stopping: %d live orders left working", len(core.oms.open_ids()))
            else:
                await self._cancel_open("engine stopped")
            core.finish(message)
            summary = summary_dict(self.builder.build())
            await self.ledger.end_run(
                core.run_id, json.dumps(summary, default=str), self.clock.time()
            )
            await self.router.wait_committed()
            final = self.builder.build()  # with everything just committed
        finally:
            if final is not None:
                self.hub.publish(final)
            self.hub.close()
            self.stream.close()
        if error is not None:
            raise error
        return final

    async def _stopper(self, duration: float | None) -> None:
        if duration is None:
            await self._stop.wait()
        else:
            try:
                async with asyncio.timeout(duration):
                    await self._stop.wait()
            except TimeoutError:
                pass
        raise _Stop

    async def _run_feed(self) -> None:
        await self.feed.run(self)
        # A finite feed ran out: one last decision on the final books, then stop.
        self.core.decide()
        self._stop.set()

    async def _run_sentiment(self) -> None:
        """Headlines until the run ends. A source records its own trouble in its status
        and never raises; one that does anyway ends sentiment, not the run."""
        assert self.sentiment is not None
        try:
            await self.sentiment.run(self)
        except Exception as exc:  # noqa: BLE001 - sentiment is optional: trading goes on
            status = self.sentiment.status
            status.state = "error"
            status.last_error = (str(exc) or type(exc).__name__).splitlines()[0][:200]
            log.error("sentiment source stopped: %s", status.last_error)

    async def _cancel_open(self, reason: str) -> None:
        """Ask the gateway to take every open order off the book; what it does not
        confirm in time is closed on the record (the ledger never shows an order working
        after the run that placed it ended)."""
        oms = self.core.oms
        open_ids = oms.open_ids()
        if not open_ids:
            return
        try:
            async with asyncio.timeout(STOP_CANCEL_S):
                oms.on_reports(await self._cancel(open_ids, reason))
        except TimeoutError:
            log.warning("stopping: the gateway did not confirm every cancel in time")
        for order_id in oms.open_ids():
            oms.close(order_id, OrderStatus.CANCELLED, reason, tell=False)

    async def _cancel(self, order_ids: Sequence[str], reason: str) -> tuple[VenueReport, ...]:
        try:
            if len(order_ids) == 1:
                return tuple(await self.gateway.cancel(order_ids[0], reason))
            return tuple(await self.gateway.cancel_many(order_ids, reason))
        except (OSError, RuntimeError, ValueError) as exc:
            log.warning("cancel of %s failed: %s", ", ".join(order_ids), exc)
            return ()

    async def _submitter(self) -> None:
        """Each order to the gateway in a task of its own, up to ``ORDERS_IN_FLIGHT``."""
        slots = asyncio.Semaphore(ORDERS_IN_FLIGHT)
        async with asyncio.TaskGroup() as tg:
            while True:
                order = await self._orders.get()
                await slots.acquire()
                tg.create_task(self._submit(order, slots), name=f"engine-submit-{order.order_id}")

    async def _submit(self, order: OrderRequest, slots: asyncio.Semaphore) -> None:
        reports: tuple[VenueReport, ...]
        try:
            reports = tuple(await self.gateway.submit(order))
        except (OSError, RuntimeError, ValueError) as exc:
            # The gateway raises only when the order certainly did not reach the venue.
            why = f"gateway: {exc}"
            reports = (OrderUpdate(order.order_id, OrderStatus.REJECTED, self.clock.time(), why),)
        finally:
            slots.release()
            self._in_hand -= 1
        self.core.oms.on_reports(reports)

    async def _canceller(self) -> None:
        """Cancels asked together (a cancel-all, a flatten, a pause) leave together: all
        that wait in the queue go as one request per reason (a venue's batch cancel)."""
        oms = self.core.oms
        cancels = self._cancels
        while True:
            waiting = [await cancels.get()]
            while not cancels.empty():
                waiting.append(cancels.get_nowait())
            by_reason: dict[str, list[str]] = {}
            for order_id, reason in waiting:
                ids = by_reason.setdefault(reason, [])
                if order_id not in ids:
                    ids.append(order_id)
            try:
                for reason, ids in by_reason.items():
                    oms.on_reports(await self._cancel(ids, reason))
            finally:
                self._in_hand -= len(waiting)

    async def _timers(self) -> None:
        core = self.core
        clock = self.clock
        while True:
            delay = core.next_timer_at() - clock.monotonic()
            if delay > 0:
                await clock.sleep(delay)
            core.on_timer()

    async def _collections(self) -> None:
        """The collector's passes, at turns where a pause delays no decision and no
        order (engine.runtime.collector)."""
        collector = self.collector
        core = self.core
        try:
            while True:
                await self.clock.sleep(COLLECT_CHECK_S)
                if collector.due() and (
                    (not core.pending_decisions and not self._in_hand) or collector.overdue()
                ):
                    collector.collect()
        finally:
            collector.give_back()  # the run winds down: the automatic collector again

    async def _snapshots(self) -> None:
        interval = self.core.config.snapshot_interval_s
        builder = self.builder
        while True:
            # The sections a part a loop turn (market rows a chunk at a time): frames are
            # read in between (a whole pass held the loop ~3 ms at 250 markets, 10-20 ms
            # at 1,000); the build then only assembles.
            for _ in builder.prepare(SNAPSHOT_ROWS_PER_TURN, SNAPSHOT_TURN_S):
                await asyncio.sleep(0)
            snap = builder.build(prepared=True)
            # Publish only what is on disk: wait for everything emitted up to this build.
            await self.router.wait_committed()
            self.hub.publish(snap)
            await self.clock.sleep(interval)

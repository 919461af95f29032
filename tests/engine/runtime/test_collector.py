"""The garbage collector's passes, held off the decision path.

During a live run the automatic collector is off; the runner runs CPython's generational
passes itself, at loop turns with no decision pending and no order or cancel in the
gateway's hands, so no pass lands between a frame and its order. The collector is on
again when the run ends."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from engine.market.health import FeedSource
from engine.orders import Side
from engine.runtime.collector import OVERDUE_FACTOR, SafePointCollector
from engine.strategies.base import MarketContext, Signal
from tests.kit.engine import level
from tests.kit.gateways import FakeLiveGateway, live_run
from tests.kit.waits import until


@pytest.fixture
def thresholds() -> Iterator[None]:
    """Small thresholds for the test (and the process's own back after it)."""
    was = gc.get_threshold()
    enabled = gc.isenabled()
    gc.set_threshold(50, 2, 2)
    gc.enable()
    gc.collect()  # every generation's count from zero
    try:
        yield
    finally:
        gc.set_threshold(*was)
        if enabled:
            gc.enable()
        else:
            gc.disable()


def _cycles(n: int) -> None:
    """Garbage only the collector can free (each list holds itself)."""
    for _ in range(n):
        cycle: list[object] = []
        cycle.append(cycle)


@contextmanager
def taken() -> Iterator[SafePointCollector]:
    """A collector holding the automatic one off, every count from zero."""
    collector = SafePointCollector()
    gc.collect()  # nothing between this and take(): no automatic pass shifts a count
    collector.take()
    try:
        yield collector
    finally:
        collector.give_back()


@pytest.mark.usefixtures("thresholds")
def test_it_holds_the_automatic_collector_off_until_given_back() -> None:
    with taken() as collector:
        assert not gc.isenabled()
        assert collector.active
        _cycles(200)
        assert gc.get_count()[0] > 50  # nothing collected them behind its back
        assert collector.due()
    assert gc.isenabled()
    assert not collector.active


@pytest.mark.usefixtures("thresholds")
def test_a_process_that_turned_the_collector_off_keeps_it_off() -> None:
    gc.disable()
    collector = SafePointCollector()
    collector.take()
    assert not collector.active
    _cycles(200)
    assert not collector.due()
    collector.give_back()
    assert not gc.isenabled()  # not turned on by someone who did not turn it off


@pytest.mark.usefixtures("thresholds")
def test_passes_follow_the_generational_schedule() -> None:
    with taken() as collector:
        generations = []
        for _ in range(16):
            _cycles(60)
            generations.append(collector.collect())
    # Once more young passes ran than the second threshold (CPython's `count >
    # threshold`), the next pass is a middle one (it takes the young generation too).
    # Past the third threshold in middle passes a full pass would be due, but the old
    # generation has not grown: middle passes go on.
    assert generations == [0, 0, 0, 1] * 4
    assert collector.passes == [12, 4, 0]


class Node:
    """A cycle the collector can free, and tell that it did (a weak reference)."""

    def __init__(self) -> None:
        self.me = self


@pytest.mark.usefixtures("thresholds")
def test_a_full_pass_comes_once_the_old_generation_grew_by_a_quarter() -> None:
    with taken() as collector:
        old = len(gc.get_objects(2))
        # Survivors, a quarter of the old generation and more: middle passes age them.
        kept: list[list[object]] = [[] for _ in range(old // 4 + 1_000)]
        generations = [collector.collect() for _ in range(32)]
        assert len(kept) > old // 4
    # Past the third threshold in middle passes, the next pass is a full one (CPython
    # looks at every pass); its growth counts from there: none since, no second one.
    assert generations[:17] == [0, 0, 0, 1] * 3 + [2, 0, 0, 0, 1]
    assert collector.passes[2] == 1


@pytest.mark.usefixtures("thresholds")
def test_freezing_frees_young_garbage_first_and_counts_growth_from_there() -> None:
    with taken() as collector:
        garbage = weakref.ref(Node())
        assert garbage() is not None  # a cycle: only a pass frees it
        collector.freeze()
        try:
            assert garbage() is None  # not frozen for the rest of the run
            kept: list[list[object]] = [[] for _ in range(1_000)]  # small beside what was frozen
            generations = [collector.collect() for _ in range(16)]
            assert kept
        finally:
            gc.unfreeze()
    # The frozen objects left the old generation: growth is measured from what is left
    # (against the size before the freeze, no full pass would come for a long while).
    assert 2 in generations


@pytest.mark.usefixtures("thresholds")
def test_a_busy_loop_still_collects_once_overdue() -> None:
    with taken() as collector:
        _cycles(60)
        assert collector.due()
        assert not collector.overdue()
        _cycles(50 * OVERDUE_FACTOR)
        assert collector.overdue()


class Garbage:
    """Makes cyclic garbage on every decision (strategies' contexts and signals are
    objects too) and notes whether a collector pass started during one."""

    name = "garbage"
    weight = 1.0

    def __init__(self) -> None:
        self.deciding = False
        self.decisions = 0

    def on_tick(self, ctx: MarketContext) -> Signal | None:
        self.deciding = True
        try:
            _cycles(200)  # four times the young threshold: the old code collected here
            self.decisions += 1
        finally:
            self.deciding = False
        return None


@pytest.mark.usefixtures("thresholds")
async def test_no_collector_pass_starts_during_a_decision(tmp_path: Path) -> None:
    strategy = Garbage()
    inside: list[bool] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            inside.append(strategy.deciding)

    gc.callbacks.append(seen)
    try:
        async with live_run(tmp_path / "l.sqlite", [strategy]) as (_runner, _gateway, feed):
            for i in range(20):
                size = str(100 + i)
                feed.frame(level("Y", "0.41", size, "SELL"))
            await until(lambda: strategy.decisions >= 20)
            await until(lambda: bool(inside))  # the passes run between decisions
            held_off = not gc.isenabled()
        assert gc.isenabled()  # on again once the run ended
    finally:
        gc.callbacks.remove(seen)
    assert not any(inside), "a collector pass started inside a decision"
    assert held_off


class Buyer:
    """Buys Y once, on the first decision."""

    name = "buyer"
    weight = 1.0

    def __init__(self) -> None:
        self.bought = False

    def on_tick(self, ctx: MarketContext) -> Signal | None:
        if ctx.asset_id != "Y" or self.bought:
            return None
        self.bought = True
        return Signal(self.name, "Y", Side.BUY, 1.0, "in")


async def test_no_collector_pass_starts_while_an_order_is_on_its_way(tmp_path: Path) -> None:
    """Signing, the ledger's record and the request all come after the hand-off: a pass
    waits until the gateway's call returned."""
    was = gc.get_threshold()
    gc.set_threshold(2_000, 10, 10)  # due at 2,000 young objects, overdue far beyond
    strategy = Buyer()
    on_its_way: list[int] = []
    gateway_seen: list[FakeLiveGateway] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and gateway_seen:
            on_its_way.append(gateway_seen[0].in_flight)

    gc.callbacks.append(seen)
    try:
        async with live_run(tmp_path / "l.sqlite", [strategy]) as (runner, gateway, feed):
            feed.health.set_source(FeedSource.WS_LIVE, runner.clock.monotonic())
            gateway.answer_after_s = 0.3  # a slow venue
            gateway_seen.append(gateway)
            feed.frame(level("Y", "0.41", "100", "SELL"))
            await until(lambda: gateway.in_flight > 0)
            for _ in range(100):  # until a pass is due
                if runner.collector.due():
                    break
                _cycles(100)
            assert runner.collector.due()
            assert not runner.collector.overdue()
            await until(lambda: gateway.in_flight == 0)
            await until(lambda: not runner.collector.due())  # collected once it returned
    finally:
        gc.callbacks.remove(seen)
        gc.set_threshold(*was)
    assert on_its_way, "the collector never ran"
    assert not any(on_its_way), "a collector pass started while an order was on its way"

"""The garbage collector's passes, held off the decision path.

During a live run the automatic collector is off; the runner runs CPython's generational
passes itself, at loop turns with no decision pending and no order waiting, so no pass
lands between a frame and its order. The collector is on again when the run ends."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.runtime.collector import OVERDUE_FACTOR, SafePointCollector
from engine.strategies.base import MarketContext, Signal
from tests.kit.engine import level
from tests.kit.gateways import live_run
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
        if not enabled:
            gc.disable()


def _cycles(n: int) -> None:
    """Garbage only the collector can free (each list holds itself)."""
    for _ in range(n):
        cycle: list[object] = []
        cycle.append(cycle)


@pytest.mark.usefixtures("thresholds")
def test_it_holds_the_automatic_collector_off_until_given_back() -> None:
    collector = SafePointCollector()
    collector.take()
    try:
        assert not gc.isenabled()
        assert collector.active
        _cycles(200)
        assert gc.get_count()[0] > 50  # nothing collected them behind its back
        assert collector.due()
    finally:
        collector.give_back()
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
    collector = SafePointCollector()
    collector.take()
    try:
        generations = []
        for _ in range(7):
            _cycles(60)
            generations.append(collector.collect())
        # Once more than two young passes ran (CPython's `count > threshold`), the next
        # pass is a middle one (it takes the young generation too); no full pass while
        # the old generation has not grown.
        assert generations == [0, 0, 0, 1, 0, 0, 0]
        assert collector.passes == [6, 1, 0]
    finally:
        collector.give_back()


@pytest.mark.usefixtures("thresholds")
def test_a_full_pass_comes_once_the_old_generation_grew_by_a_quarter() -> None:
    collector = SafePointCollector()
    collector.take()
    kept: list[list[object]] = []
    try:
        old = len(gc.get_objects(2))
        generations = []
        for _ in range(12):
            kept.extend([] for _ in range(old // 4))  # survivors, promoted by middle passes
            generations.append(collector.collect())
        assert 2 in generations
        assert collector.passes[2] >= 1
    finally:
        collector.give_back()


@pytest.mark.usefixtures("thresholds")
def test_a_busy_loop_still_collects_once_overdue() -> None:
    collector = SafePointCollector()
    collector.take()
    try:
        _cycles(60)
        assert collector.due()
        assert not collector.overdue()
        _cycles(50 * OVERDUE_FACTOR)
        assert collector.overdue()
    finally:
        collector.give_back()


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

"""An offline run's event loop gets a CPU of its own; the emulator process and the
engine's other threads share the rest; every mask is given back afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from polyterm.faces.cpus import CpuSplit, cpus_apart, split_cpus

LINUX_AFFINITY = hasattr(os, "sched_setaffinity")
needs_two_cpus = pytest.mark.skipif(
    not LINUX_AFFINITY or len(os.sched_getaffinity(0)) < 2,
    reason="needs CPU affinity and at least two CPUs",
)


def test_the_loop_takes_the_lowest_cpu_and_the_others_the_rest() -> None:
    assert split_cpus({0, 1}) == CpuSplit(0, frozenset({1}))
    assert split_cpus([7, 2, 5]) == CpuSplit(2, frozenset({5, 7}))


@pytest.mark.parametrize("allowed", [set(), {3}])
def test_fewer_than_two_cpus_keep_nothing_apart(allowed: set[int]) -> None:
    assert split_cpus(allowed) is None


@needs_two_cpus
def test_a_child_that_is_gone_pins_nothing() -> None:
    before = os.sched_getaffinity(0)
    with cpus_apart(2**22 + 1) as split:  # above Linux's largest pid: no such process
        assert split is None
        assert os.sched_getaffinity(0) == before
    assert os.sched_getaffinity(0) == before


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        yield child
    finally:
        child.kill()
        child.wait()


@pytest.mark.integration
@needs_two_cpus
def test_the_loop_thread_runs_alone_until_the_block_ends(
    sleeper: subprocess.Popen[bytes],
) -> None:
    allowed = os.sched_getaffinity(0)
    other_seen: list[set[int]] = []
    go, done, leave = threading.Event(), threading.Event(), threading.Event()

    def worker() -> None:  # a thread started before, as the ledger's writer is
        go.wait(10)
        other_seen.append(os.sched_getaffinity(0))
        done.set()
        leave.wait(10)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        with cpus_apart(sleeper.pid) as split:
            assert split is not None
            assert os.sched_getaffinity(0) == {split.loop}
            assert os.sched_getaffinity(sleeper.pid) == set(split.others)
            assert split.loop not in split.others
            assert {split.loop} | split.others == allowed
            go.set()
            assert done.wait(10)
        assert other_seen == [set(split.others)]
        assert os.sched_getaffinity(0) == allowed  # given back
        assert thread.native_id is not None
        assert os.sched_getaffinity(thread.native_id) == allowed
    finally:
        go.set()
        leave.set()
        thread.join(10)

"""CPUs apart for an offline run's engine and its emulator process (Linux).

``polyterm --no-ui --offline`` serves the emulator from a process of its own so that its
order flow does not run between the engine's frames. A process of its own is not yet a
core of its own: the scheduler wakes the engine on the CPU of the emulator that just
wrote to the socket, and there they take turns, with the engine's caches cold after each
of the emulator's turns. So while the emulator runs, the engine's event-loop thread has
one CPU to itself, and the emulator and the engine's other threads (the ledger writer,
the executor's workers) share the rest. Measured at 250 markets (frame -> order, pooled
over runs): the share of orders over 1 ms fell from ~20% to ~3%.

Only within the CPUs the process may use: under ``taskset -c 2,3`` the loop gets CPU 2
and the rest CPU 3; given a single CPU, nothing is pinned. Every thread moved gets its
mask back when the emulator stops (the tests run a headless run in-process).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("polyterm.cpus")


@dataclass(frozen=True, slots=True)
class CpuSplit:
    """The event loop's CPU, and the CPUs of everything else the run started."""

    loop: int
    others: frozenset[int]


def split_cpus(allowed: Collection[int]) -> CpuSplit | None:
    """The lowest allowed CPU for the loop, the rest for the others; None with fewer
    than two (nothing to keep apart)."""
    cpus = sorted(set(allowed))
    if len(cpus) < 2:
        return None
    return CpuSplit(cpus[0], frozenset(cpus[1:]))


def _threads() -> list[int]:
    """This process's threads (their kernel ids)."""
    try:
        return [int(name) for name in os.listdir(Path("/proc/self/task"))]
    except OSError:
        return [threading.get_native_id()]


@contextlib.contextmanager
def cpus_apart(child_pid: int) -> Iterator[CpuSplit | None]:
    """Pin the calling thread (the event loop's) to one CPU, and `child_pid` and this
    process's other threads to the rest, until the block ends; None (and nothing
    pinned) where the platform cannot or the process has a single CPU."""
    if not hasattr(os, "sched_setaffinity"):
        yield None
        return
    split = split_cpus(os.sched_getaffinity(0))
    if split is None:
        yield None
        return
    me = threading.get_native_id()
    saved: dict[int, set[int]] = {}
    applied: CpuSplit | None = split
    try:
        # The child first: it has no threads yet (its interpreter is still starting), so
        # the ones it starts inherit the mask.
        os.sched_setaffinity(child_pid, split.others)
        for tid in _threads():
            with contextlib.suppress(ProcessLookupError):  # a thread that just ended
                saved[tid] = os.sched_getaffinity(tid)
                os.sched_setaffinity(tid, {split.loop} if tid == me else split.others)
    except OSError as exc:  # a cpuset that refuses the masks, or no permission
        log.info("offline: CPUs not kept apart (%s)", exc)
        _restore(saved)
        saved.clear()
        applied = None
    if applied is not None:
        log.info(
            "offline: the engine's loop on CPU %d; the emulator and the engine's other "
            "threads on %s",
            applied.loop,
            ",".join(map(str, sorted(applied.others))),
        )
    try:
        yield applied
    finally:
        _restore(saved)


def _restore(saved: dict[int, set[int]]) -> None:
    for tid, mask in saved.items():
        with contextlib.suppress(OSError):  # ended meanwhile
            os.sched_setaffinity(tid, mask)

"""Stopping a task without losing a cancel.

Python 3.11's asyncio has two ways to lose a cancel that this module exists to avoid:

- ``await asyncio.wait_for(aw, t)`` returns the result when the cancel arrives in the same
  loop iteration as ``aw`` completes (fixed in 3.12), so a loop around it never ends:
  use ``async with asyncio.timeout(t)`` instead, which runs ``aw`` in the calling task;
- ``task.cancel()`` then ``await task`` under ``contextlib.suppress(CancelledError)`` also
  swallows a cancel aimed at the *caller* while it waits.

:func:`cancel_and_wait` never awaits the task itself, so the only CancelledError the
caller can see is its own, and it propagates as usual.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any], within: float | None = None) -> bool:
    """Cancel `task` and wait until it has finished; False if it still runs after `within` s.

    A cancel of the caller while it waits propagates (the task keeps unwinding on its own).
    The task's outcome stays on the task: ``task.cancelled()``, or ``task.exception()``
    when it had failed before the cancel reached it; the caller decides what that means.
    """
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=within)
    return bool(done)

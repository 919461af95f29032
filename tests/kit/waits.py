"""Waiting on a condition in an asyncio test: polls, never sleeps a fixed time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(predicate: Callable[[], bool], within: float = 15.0) -> None:
    """Until `predicate` holds (fails after `within` seconds)."""
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)

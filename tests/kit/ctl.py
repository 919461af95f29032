"""`polyterm ctl` as a user runs it (a real process) against an instance, and waiting on
what it answers (conditions, never fixed sleeps)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

from tests.kit.process import POLYTERM

# Mean reversion alone, quick to signal: these runs test control, not the strategies.
TRADING_ENV = {
    "STRATEGIES_MOMENTUM_SCALPING_ENABLED": "false",
    "STRATEGIES_EVENT_DRIVEN_ENABLED": "false",
    "STRATEGIES_MICRO_ARBITRAGE_ENABLED": "false",
    "STRATEGIES_CROSS_MARKET_ARBITRAGE_ENABLED": "false",
    "STRATEGIES_MEAN_REVERSION_WINDOW": "6",
    "STRATEGIES_MEAN_REVERSION_ENTRY_Z": "0.8",
    "STRATEGIES_MEAN_REVERSION_SAMPLE_INTERVAL_S": "0.1",
    "STRATEGY_ENTRY_COOLDOWN_S": "0.5",
}


def ctl(
    args: list[str], env: dict[str, str], timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*POLYTERM, "ctl", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def ctl_json(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """`polyterm ctl ARGS --json` that must succeed: its one document."""
    done = ctl([*args, "--json"], env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    return json.loads(lines[0])  # type: ignore[no-any-return]


def wait_status(
    env: dict[str, str],
    predicate: Callable[[dict[str, Any]], bool],
    within: float = 90,
    alive: Callable[[], str | None] = lambda: None,
) -> dict[str, Any]:
    """Poll `ctl status --json` until `predicate` holds; `alive` names why to give up
    early (the instance died), or None."""
    deadline = time.monotonic() + within
    last: dict[str, Any] | str = "no answer yet"
    while time.monotonic() < deadline:
        dead = alive()
        assert dead is None, dead
        done = ctl(["status", "--json"], env)
        if done.returncode == 0:
            last = json.loads(done.stdout)
            assert isinstance(last, dict)
            if predicate(last):
                return last
        else:
            last = done.stderr
        time.sleep(0.3)
    raise AssertionError(f"status never matched within {within} s; last: {last}")


async def actl(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """`polyterm ctl ARGS` from inside an event loop (a console under Pilot)."""
    proc = await asyncio.create_subprocess_exec(
        *POLYTERM,
        "ctl",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(90):
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def assert_flat(answer: dict[str, Any], *, exact: bool = False) -> None:
    """A flatten's (or kill's) answer: whatever it could not close is named in `left` with
    why (below the venue's minimum size cannot be sold); `exact`: nothing else is held."""
    left = answer["command"]["left"]
    assert all(item["why"] for item in left), left
    if exact:
        assert answer["open_positions"] == len(left), answer["command"]

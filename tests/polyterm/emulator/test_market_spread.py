"""A step's market messages leave across the step, as a venue's arrive, not as one burst
of every market's messages at its start (a client's frame -> order latency would measure
the queue behind that burst, which no venue makes)."""

from __future__ import annotations

import asyncio
import json
import time

import websockets

from polyterm.emulator.server import SPREAD_GAP_S, SPREAD_SHARE, EmulatorOptions
from tests.kit.venue import venue

STEP_S = 0.1
BUSY = {"markets": 30, "events_per_second": 60.0, "step_seconds": STEP_S, "seed": 3}


async def _arrivals(spread: bool, seconds: float = 1.5) -> list[float]:
    """Receipt times of the flow's market messages."""
    times: list[float] = []
    async with venue(spread=spread, **BUSY) as emu:
        assert emu.urls is not None
        tokens = list(emu.exchange.by_token)
        async with websockets.connect(emu.urls.market_ws, max_queue=None) as ws:
            await ws.send(json.dumps({"assets_ids": tokens, "type": "market"}))
            end = time.monotonic() + seconds
            while (left := end - time.monotonic()) > 0:
                try:
                    async with asyncio.timeout(left):
                        raw = await ws.recv()
                except TimeoutError:
                    break
                message = json.loads(raw)
                if isinstance(message, dict) and message.get("event_type") == "price_change":
                    times.append(time.monotonic())
    return times


def _occupied(times: list[float], window_s: float = 0.005) -> float:
    """The share of `window_s` windows, from the first message to the last, that saw one."""
    first = times[0]
    windows = {int((t - first) / window_s) for t in times}
    return len(windows) / (int((times[-1] - first) / window_s) + 1)


async def test_a_steps_messages_arrive_across_the_step() -> None:
    times = await _arrivals(spread=True)
    assert len(times) > 500
    # A slice every SPREAD_GAP_S over SPREAD_SHARE of each step: ~80% of 5 ms windows see
    # a message (one burst per step would leave ~90% of them empty).
    assert _occupied(times) > SPREAD_SHARE / 2


async def test_spreading_is_the_default_and_can_be_turned_off() -> None:
    assert EmulatorOptions().spread is True
    async with venue(spread=False, **BUSY) as emu:
        assert emu.step_slices(400) == [(0, 400)]  # one burst per step
    async with venue(**BUSY) as emu:
        cuts = emu.step_slices(400)
        assert len(cuts) == int(STEP_S * SPREAD_SHARE / SPREAD_GAP_S)
        assert cuts[0][0] == 0
        assert cuts[-1][1] == 400
        assert all(a[1] == b[0] for a, b in zip(cuts, cuts[1:], strict=False))

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


async def test_spreading_keeps_the_flows_pace_on_a_busy_loop() -> None:
    """Each slice is due at its own time from the step's start: a busy loop that makes
    every millisecond's sleep take two merges late slices, it does not stretch the step
    (80 sleeps of ~2 ms made each 0.1 s step last ~0.16 s: a third of the flow lost)."""
    loop = asyncio.get_running_loop()
    busy = True

    def neighbour() -> None:  # other work in the emulator's process: 1 ms of every 2
        if busy:
            time.sleep(0.001)
            loop.call_later(0.001, neighbour)

    async with venue(spread=True, **BUSY) as emu:
        assert emu.urls is not None
        tokens = list(emu.exchange.by_token)
        async with websockets.connect(emu.urls.market_ws, max_queue=None) as ws:
            await ws.send(json.dumps({"assets_ids": tokens, "type": "market"}))

            async def drain() -> None:
                while True:
                    await ws.recv()

            reader = asyncio.create_task(drain())
            try:
                await asyncio.sleep(0.3)
                neighbour()
                steps0, start = emu.flow.steps, time.monotonic()
                await asyncio.sleep(2.0)
                steps, wall = emu.flow.steps - steps0, time.monotonic() - start
            finally:
                busy = False
                reader.cancel()
    assert steps >= 0.85 * wall / STEP_S, f"{steps} steps in {wall:.2f} s"

"""Review of issue 9: an error applying a frame must end the feed loudly whichever path
the frame took (market_ws.py: "the feed fails loudly instead of reconnecting over a
bug"). On the direct path it does; a frame applied in slices fails inside the drainer
task, whose error nobody reads once the next frame starts another drainer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from engine.adapters.polymarket.books import BookStore
from engine.adapters.polymarket.feed import PolymarketFeed
from engine.clock import SystemClock
from engine.market.markets import MarketInfo
from polyterm.emulator.server import ExchangeEmulator
from tests.kit.feed import FAST_HOT, fast_feed_config

pytestmark = pytest.mark.integration


class Boom(RuntimeError):
    pass


class FailsOnce:
    """Applies frames; the 20th WebSocket frame hits a bug."""

    def __init__(self) -> None:
        self.store = BookStore()
        self.ws_frames = 0

    def on_markets(self, markets: Sequence[MarketInfo]) -> None:
        pass

    def on_frame(self, raw: bytes | str, recv_ts: float, source: str) -> None:
        if source == "ws":
            self.ws_frames += 1
            if self.ws_frames == 20:
                raise Boom("a bug applying this frame")
        self.store.apply_frame(raw)


@pytest.mark.parametrize("slice_bytes", [1 << 20, 1024], ids=["whole", "sliced"])
@pytest.mark.emulator(
    markets=4, events_per_second=0.0, mispricings_per_hour=0.0, rate=2000.0, frame_messages=50
)
async def test_an_error_applying_a_frame_ends_the_feed(
    emulator: ExchangeEmulator, slice_bytes: int
) -> None:
    assert emulator.urls is not None
    config = fast_feed_config(emulator.urls, ws_slice_bytes=slice_bytes)
    feed = PolymarketFeed(config, FAST_HOT, SystemClock())
    sink = FailsOnce()
    task = asyncio.create_task(feed.run(sink))
    try:
        done, _ = await asyncio.wait({task}, timeout=5.0)
        assert done, (
            f"the feed still runs {sink.ws_frames} frames after the error "
            f"(sliced frames: {feed.health.ws_sliced_frames})"
        )
        error = task.exception()
        assert isinstance(error, Boom) or (
            isinstance(error, BaseExceptionGroup) and error.subgroup(Boom) is not None
        ), f"the feed ended with {error!r}, not the error applying the frame"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

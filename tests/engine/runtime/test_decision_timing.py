"""When the live runner decides, and how it times frame -> order.

A fresh frame's decisions run as soon as it is applied, before the next frame is read;
frames that queued (received a while ago) conflate into one pass on the latest books. An
order's latency runs from the receipt of the frame that triggered its decision to its
hand-off to the gateway, and the snapshot carries the figures."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from engine.market.health import FeedSource
from engine.orders import Side
from engine.strategies.base import MarketContext, Signal
from tests.kit.engine import level
from tests.kit.gateways import live_run
from tests.kit.waits import until


class Watcher:
    """Keeps the best ask of Y at every decision; buys Y once when asked to."""

    name = "watcher"
    weight = 1.0

    def __init__(self) -> None:
        self.asks: list[int | None] = []
        self.buy = False

    def on_tick(self, ctx: MarketContext) -> Signal | None:
        if ctx.asset_id != "Y":
            return None
        self.asks.append(ctx.book.best_ask)
        if self.buy:
            self.buy = False
            return Signal(self.name, "Y", Side.BUY, 1.0, "in")
        return None


async def test_a_fresh_frame_is_decided_before_the_next_one_is_read(tmp_path: Path) -> None:
    watcher = Watcher()
    async with live_run(tmp_path / "l.sqlite", [watcher]) as (_, _gateway, feed):
        watcher.asks.clear()
        feed.frame(level("Y", "0.41", "100", "SELL"))  # two frames in one read, no pause
        feed.frame(level("Y", "0.41", "0", "SELL"))
        assert watcher.asks == [4100, 4200]  # each decided on its own book


async def test_frames_that_queued_are_decided_once_on_the_latest_books(tmp_path: Path) -> None:
    watcher = Watcher()
    async with live_run(tmp_path / "l.sqlite", [watcher]) as (runner, _gateway, feed):
        watcher.asks.clear()
        sink = feed.sink
        assert sink is not None
        late = runner.clock.time() - 1.0  # received a second ago: the engine is behind
        sink.on_frame(json.dumps([level("Y", "0.41", "100", "SELL")]), late, "ws")
        sink.on_frame(json.dumps([level("Y", "0.41", "0", "SELL")]), late, "ws")
        assert watcher.asks == []  # not decided under the backlog...
        await until(lambda: bool(watcher.asks))
        assert watcher.asks == [4200]  # ...but once, on the latest book


async def test_an_orders_latency_runs_from_the_receipt_of_its_frame(tmp_path: Path) -> None:
    watcher = Watcher()
    async with live_run(tmp_path / "l.sqlite", [watcher]) as (runner, gateway, feed):
        feed.health.set_source(FeedSource.WS_LIVE, runner.clock.monotonic())
        sink = feed.sink
        assert sink is not None
        watcher.buy = True
        received = runner.clock.time() - 0.25  # it waited a quarter second in a buffer
        sink.on_frame(json.dumps([level("Y", "0.41", "100", "SELL")]), received, "ws")
        await until(lambda: bool(gateway.orders))
        figures = runner.latency.figures()
        assert figures is not None
        assert figures.count == 1
        assert figures.max_us >= 250_000
        await until(lambda: runner.builder.build().frame_to_order is not None)
        view = runner.builder.build().frame_to_order
        assert view is not None
        assert view.figures == figures
        assert view.histogram.count == 1
        assert sum(view.histogram.counts) == 1
        assert view.histogram.sum_us >= 250_000


async def test_a_decisions_log_lines_are_written_after_its_order_left(tmp_path: Path) -> None:
    """The [sizing] and ORDER lines cost tens of microseconds each on a cold path: they
    wait until the pass's orders are handed to the gateway."""
    watcher = Watcher()
    seen: list[tuple[str, int]] = []  # each line, with the orders handed off when written

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            figures = runner.latency.figures()
            seen.append((record.getMessage()[:6], figures.count if figures else 0))

    loggers = [logging.getLogger("engine.trades"), logging.getLogger("engine.sizing")]
    levels = [lg.level for lg in loggers]
    handler = Lines(logging.INFO)
    for lg in loggers:
        lg.setLevel(logging.INFO)
        lg.addHandler(handler)
    try:
        async with live_run(tmp_path / "l.sqlite", [watcher]) as (runner, gateway, feed):
            feed.health.set_source(FeedSource.WS_LIVE, runner.clock.monotonic())
            sink = feed.sink
            assert sink is not None
            watcher.buy = True
            sink.on_frame(
                json.dumps([level("Y", "0.41", "100", "SELL")]), runner.clock.time(), "ws"
            )
            await until(lambda: bool(gateway.orders))
    finally:
        for lg, was in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(was)
    lines = [(text, handed) for text, handed in seen if text in ("[sizin", "ORDER ")]
    assert [text for text, _ in lines] == ["[sizin", "ORDER "]  # in the order asked for
    assert all(handed == 1 for _, handed in lines)  # both after the hand-off

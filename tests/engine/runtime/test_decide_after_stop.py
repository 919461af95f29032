"""Review of issue 9: a run that stops with decisions still pending must not leave a
callback rescheduling itself on the loop for ever (the TUI's loop outlives the run)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from engine.clock import SystemClock
from engine.ledger.writer import SqliteLedger
from engine.market.health import FeedHealth, FeedSource
from engine.market.markets import MarketInfo, Outcome
from engine.runtime.kernel import build_engine
from engine.runtime.live import LiveRunner
from engine.runtime.state import EngineState
from tests.kit.tapes import runner_config as config

N_MARKETS = 1500  # 3,000 books: ~94 decision slices of 32


def _markets() -> list[MarketInfo]:
    return [
        MarketInfo(f"0x{i}", f"Q{i}?", f"q{i}", (Outcome(f"Y{i}", "Yes"), Outcome(f"N{i}", "No")))
        for i in range(N_MARKETS)
    ]


class BurstThenStop:
    """Markets, one REST answer that changes every book, and the user's stop in the same
    turn (a stop, a --duration or a failure while a big re-snapshot lands)."""

    def __init__(self, clock: SystemClock) -> None:
        self.clock = clock
        self.health = FeedHealth()
        self.health.set_source(FeedSource.WS_LIVE, 0.0)
        self.runner: LiveRunner | None = None

    def want_snapshot(self, asset_ids: object) -> None: ...
    def hit(self, asset_id: str) -> None: ...
    def market_listed(self, event: object) -> None: ...
    def market_resolved(self, condition_id: str) -> None: ...

    async def run(self, sink) -> None:  # type: ignore[no-untyped-def]
        markets = _markets()
        sink.on_markets(markets)
        books = [
            {
                "event_type": "book",
                "asset_id": token,
                "market": m.condition_id,
                "bids": [{"price": "0.40", "size": "10"}],
                "asks": [{"price": "0.60", "size": "10"}],
                "timestamp": "1000001000",
            }
            for m in markets
            for token in m.token_ids
        ]
        sink.on_frame(json.dumps(books), self.clock.time(), "rest")
        assert self.runner is not None
        self.runner.stop()
        await asyncio.Event().wait()


async def test_no_decision_callback_spins_after_the_run_ends(tmp_path: Path) -> None:
    clock = SystemClock()
    ledger = await SqliteLedger(tmp_path / "l.sqlite").open()
    feed = BurstThenStop(clock)
    parts = build_engine(
        config(), clock, ledger, venue="t", feed=feed, health=feed.health, strategies=[]
    )
    runner = parts.live_runner(feed, ledger)
    feed.runner = runner
    calls = 0
    decide = parts.core.decide

    def counting(limit: int | None = None) -> int:
        nonlocal calls
        calls += 1
        return decide(limit)

    parts.core.decide = counting  # type: ignore[method-assign]
    try:
        await runner.run(None, starting_cash=parts.starting_cash)
        assert parts.core.state is EngineState.STOPPED
        after_run = calls
        for _ in range(200):  # the loop goes on (the console stays open)
            await asyncio.sleep(0)
        # A stopped engine decides nothing: nothing should still be calling decide().
        assert calls == after_run, (
            f"decide() called {calls - after_run} more times after the run ended "
            f"({parts.core.pending_decisions} books still pending)"
        )
    finally:
        await ledger.close()

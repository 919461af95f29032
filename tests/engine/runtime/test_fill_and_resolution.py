"""A live paper run where one frame fills a resting order and resolves its market: the
fill is the order manager's before the settlement, so the filled shares are paid.

A guard for the order of the two. Telling paper fills a loop turn after their frame
(tried for latency, reverted) settled the market first: the order was closed "market
resolved", the fill then arrived as a late fill on a closed order, and the position
stayed open in a market that would never settle again.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from engine.clock import SystemClock
from engine.ledger.writer import SqliteLedger
from engine.orders import OrderStatus, OrderType, Side
from engine.runtime.kernel import build_engine
from engine.runtime.manual import ManualOrder
from tests.kit.engine import MARKET, OPEN, engine_config, level, resolved
from tests.kit.gateways import TellFeed
from tests.kit.waits import until

SHARES = 10_000_000  # 10 shares


async def test_a_frame_that_fills_a_resting_order_and_resolves_its_market_pays_the_fill(
    tmp_path: Path,
) -> None:
    clock = SystemClock()
    ledger = await SqliteLedger(tmp_path / "ledger.sqlite").open()
    feed = TellFeed(clock, [MARKET], OPEN)
    engine = build_engine(
        engine_config({"paper": {"latency_ms": 0}}),
        clock,
        ledger,
        venue="test",
        feed=feed,
        health=feed.health,
        strategies=[],
    )
    runner = engine.live_runner(feed, ledger)
    run = asyncio.create_task(runner.run(starting_cash=engine.starting_cash))
    try:
        await feed.ready.wait()
        placed = await runner.manual_order(ManualOrder("Y", Side.BUY, SHARES, 4100, OrderType.GTC))
        assert placed.order_id is not None
        oms = runner.core.oms

        def resting() -> bool:
            tracked = oms.get(order_id)
            return tracked is not None and tracked.status is OrderStatus.LIVE

        order_id = placed.order_id
        await until(resting)  # on the paper book, behind the 0.40 bids
        # The asks come down to our 0.41 bid, and the market resolves YES, in one frame.
        feed.frame(level("Y", "0.41", "100", "SELL"), resolved("0xm", "Y"))
        await until(lambda: runner.core.registry.is_resolved("0xm"))
        await until(lambda: not oms.open_ids())
        assert runner.core.accounting.portfolio.position("Y") == 0  # paid, not stranded
    finally:
        runner.stop()
        await asyncio.gather(run, return_exceptions=True)
        await ledger.close()
    with sqlite3.connect(tmp_path / "ledger.sqlite") as db:
        fills = db.execute("SELECT order_id, size FROM fills").fetchall()
        settled = db.execute("SELECT COUNT(*) FROM settlements").fetchone()[0]
        statuses = [
            r[0]
            for r in db.execute(
                "SELECT status FROM order_events WHERE order_id = ? ORDER BY id",
                (placed.order_id,),
            )
        ]
    assert fills == [(placed.order_id, SHARES)]
    assert settled == 1
    assert statuses[-1] == "filled"

"""The engine's commands: flatten (preview, scope, worst-price cap, what is left), kill and
reset, on a real core with the paper venue and a SQLite ledger."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from engine.clock import SimClock
from engine.ledger.writer import SqliteLedger
from engine.market.health import FeedHealth, FeedSource
from engine.market.markets import MarketInfo, Outcome
from engine.orders import Side
from engine.runtime.core import FlattenScope
from engine.strategies.base import MarketContext, Signal
from polyterm.faces.wiring import build_engine
from tests.engine.harness import NoFeed
from tests.engine.test_runtime import MARKET, config, opening_books

OTHER = MarketInfo("0xo", "Other?", "o", (Outcome("OY", "Yes"), Outcome("ON", "No")))


class BuyOnce:
    name = "buyer"
    weight = 1.0

    def __init__(self) -> None:
        self.done: set[str] = set()

    def on_tick(self, ctx: MarketContext) -> Signal | None:
        if ctx.asset_id in ("Y", "OY") and ctx.asset_id not in self.done:
            self.done.add(ctx.asset_id)
            return Signal(self.name, ctx.asset_id, Side.BUY, 1.0, "entry")
        return None


def other_books(ts: int) -> list[dict[str, Any]]:
    def book(asset: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> dict:
        return {
            "event_type": "book",
            "asset_id": asset,
            "market": "0xo",
            "timestamp": str(ts),
            "bids": [{"price": p, "size": s} for p, s in bids],
            "asks": [{"price": p, "size": s} for p, s in asks],
        }

    return [
        book("OY", [("0.30", "4")], [("0.32", "100")]),
        book("ON", [("0.68", "100")], [("0.70", "4")]),
    ]


async def test_flatten_previews_then_closes_in_scope_and_kill_latches(tmp_path: Path) -> None:
    clock = SimClock(1000.0)
    health = FeedHealth()
    health.set_source(FeedSource.REPLAY, 0.0)
    ledger = await SqliteLedger(tmp_path / "l.sqlite", autocommit=False).open()
    try:
        parts = build_engine(
            config(),
            clock,
            ledger,
            feed=NoFeed(),
            health=health,
            mode="paper",
            venue="t",
            strategies=[BuyOnce()],
        )
        core, venue = parts.core, parts.venue

        def pump() -> None:
            while core.outbox:
                order = core.outbox.popleft()
                core.on_order_result(order, venue.submit(order, clock.time()))
            while core.cancels:
                order_id = core.cancels.popleft()
                core.on_cancelled(order_id, venue.cancel(order_id) is not None)

        core.on_work = pump
        await ledger.start_run("paper", "t", "{}", 1000.0, parts.starting_cash)
        core.start(1)
        core.on_markets([MARKET, OTHER])
        core.on_frame(json.dumps(opening_books() + other_books(1_000_001_000)), 1001.0)
        core.decide()
        held = {a: p.shares for a, p in core.portfolio.positions.items() if p.shares}
        assert set(held) == {"Y", "OY"}

        # Preview one market: closes priced off its book, nothing sent yet.
        plan = core.flatten_preview(FlattenScope("market", "0xm"))
        assert [c.asset_id for c in plan.closes] == ["Y"]
        close = plan.closes[0]
        assert close.limit_price == 4800 - 5 * 100  # bid less the 5-tick cap
        assert close.expected_price == 4800
        assert close.expected_filled == held["Y"]
        assert close.expected_pnl is not None
        assert close.expected_pnl < 0
        assert not core.outbox
        assert core.portfolio.position("Y") == held["Y"]

        # Execute it: only that market closes.
        done = core.flatten(FlattenScope("market", "0xm"), who="test")
        assert done.orders
        assert core.portfolio.position("Y") == 0
        assert core.portfolio.position("OY") == held["OY"]
        assert core.flatten_outcome(done) == ()

        # The other market shows only 4 shares of bid: kill flattens what it can and says
        # what is left, and latches the switch.
        report = core.kill("alice")
        left = core.flatten_outcome(report)
        assert core.portfolio.position("OY") == held["OY"] - 4_000_000
        assert left == (("OY", held["OY"] - 4_000_000, "not filled within the price cap"),)
        view = core.risk.kill_switch.view(clock.time())
        assert (view.state, view.killed_by) == ("tripped", "alice")
        assert not core.risk.kill_switch.allows_entries(clock.time())
        core.reset_kill_switch("bob")
        assert core.risk.kill_switch.allows_entries(clock.time())
        await ledger.flush()
        db = sqlite3.connect(tmp_path / "l.sqlite")
        reasons = [r[0] for r in db.execute("SELECT reason FROM exits ORDER BY id")]
        assert reasons == ["flatten", "kill"]
        moves = db.execute("SELECT state, reason, who FROM kill_switch ORDER BY id").fetchall()
        assert moves[-2:] == [("tripped", "kill", "alice"), ("armed", "reset", "bob")]
    finally:
        await ledger.close()


async def test_pause_stops_entries_but_not_exits(tmp_path: Path) -> None:
    clock = SimClock(1000.0)
    health = FeedHealth()
    health.set_source(FeedSource.REPLAY, 0.0)
    ledger = await SqliteLedger(tmp_path / "l.sqlite", autocommit=False).open()
    try:
        parts = build_engine(
            config(),
            clock,
            ledger,
            feed=NoFeed(),
            health=health,
            mode="paper",
            venue="t",
            strategies=[BuyOnce()],
        )
        core = parts.core
        await ledger.start_run("paper", "t", "{}", 1000.0, parts.starting_cash)
        core.start(1)
        core.pause()
        core.on_markets([MARKET])
        core.on_frame(json.dumps(opening_books()), 1001.0)
        core.decide()
        assert core.counts["orders"] == 0
        assert core.state.value == "paused"
        core.resume()
        assert core.state.value == "running"
    finally:
        await ledger.close()

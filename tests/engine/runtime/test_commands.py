"""The engine's commands: flatten (preview, scope, worst-price cap, what is left), kill and
reset, on a real core with the paper exchange and a SQLite ledger."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from engine.market.markets import MarketInfo, Outcome
from engine.orders import Side
from engine.runtime.commands import EngineState, FlattenScope
from engine.strategies.base import MarketContext, Signal
from tests.kit.engine import open_rig
from tests.kit.tapes import FEE_MARKET, opening_books, runner_config

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
    r = await open_rig(
        tmp_path / "l.sqlite",
        [BuyOnce()],
        runner_config(),
        markets=[FEE_MARKET, OTHER],
        t0=1000.0,
    )
    core = r.core
    try:
        core.on_frame(json.dumps(opening_books() + other_books(1_000_001_000)), 1001.0)
        core.decide()
        positions = core.accounting.portfolio.positions
        held = {a: p.shares for a, p in positions.items() if p.shares}
        assert set(held) == {"Y", "OY"}

        # Preview one market: closes priced off its book, nothing sent yet.
        sent = len(r.sent)
        plan = core.flatten_preview(FlattenScope("market", "0xm"))
        assert [c.asset_id for c in plan.closes] == ["Y"]
        close = plan.closes[0]
        assert close.limit_price == 4800 - 5 * 100  # bid less the 5-tick cap
        assert close.expected_price == 4800
        assert close.expected_filled == held["Y"]
        assert close.expected_pnl is not None
        assert close.expected_pnl < 0
        assert len(r.sent) == sent
        assert r.position("Y") == held["Y"]

        # Execute it: only that market closes.
        done = core.flatten(FlattenScope("market", "0xm"), who="test")
        assert done.orders
        assert r.position("Y") == 0
        assert r.position("OY") == held["OY"]
        assert core.flatten_outcome(done) == ()

        # The other market shows only 4 shares of bid: kill flattens what it can and says
        # what is left, and latches the switch.
        report = core.kill("alice")
        left = core.flatten_outcome(report)
        assert r.position("OY") == held["OY"] - 4_000_000
        assert left == (("OY", held["OY"] - 4_000_000, "not filled within the price cap"),)
        ks = r.engine.builder.build().kill_switch
        assert (ks.state, ks.killed_by) == ("tripped", "alice")
        core.reset_kill_switch("bob")
        assert r.engine.builder.build().kill_switch.state == "armed"
        await r.ledger.flush()
        db = sqlite3.connect(tmp_path / "l.sqlite")
        rows = db.execute("SELECT reason, kind FROM exits ORDER BY id").fetchall()
        assert rows == [("flatten", "flatten"), ("kill", "kill")]
        moves = db.execute("SELECT state, reason, who FROM kill_switch ORDER BY id").fetchall()
        assert moves[-2:] == [("tripped", "kill", "alice"), ("armed", "reset", "bob")]
    finally:
        await r.close()


async def test_pause_stops_entries_but_not_exits(tmp_path: Path) -> None:
    r = await open_rig(tmp_path / "l.sqlite", [BuyOnce()], runner_config(), markets=(), t0=1000.0)
    core = r.core
    try:
        core.pause()
        core.on_markets([FEE_MARKET])
        core.on_frame(json.dumps(opening_books()), 1001.0)
        core.decide()
        assert not r.sent
        assert core.state is EngineState.PAUSED
        core.resume()
        assert core.state is EngineState.RUNNING
    finally:
        await r.close()

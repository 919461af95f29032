"""[live]'s caps and canary act in a live run, through the same risk gate every entry
passes, and never in a paper run."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from engine.orders import Side
from engine.strategies.base import Signal
from tests.kit.engine import Once
from tests.kit.gateways import live_run
from tests.kit.waits import until


def buys_yes() -> Once:
    return Once(
        "buyer",
        1.0,
        lambda ctx: Signal("buyer", "Y", Side.BUY, 1.0, "in") if ctx.asset_id == "Y" else None,
    )


def refusals(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [r for (r,) in db.execute("SELECT reason FROM risk_events")]
    finally:
        db.close()


async def test_a_strategy_outside_the_canary_never_enters_a_live_run(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    cfg = {"live": {"strategies": ["mean_reversion"], "no_entries_before_end_s": 0}}
    async with live_run(path, [buys_yes()], cfg) as (runner, gateway, _):
        await until(lambda: runner.builder.build().counters.rejects > 0)
        assert gateway.orders == []
    assert any("live.strategies allows mean_reversion, not buyer" in r for r in refusals(path))


async def test_a_live_entry_is_cut_to_the_notional_cap(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    cfg = {
        "live": {"max_order_notional": "3", "no_entries_before_end_s": 0},
        "risk": {"max_order_shares": "50", "max_position_shares": "50"},
        "strategy": {"order_size": "20"},
    }
    async with live_run(path, [buys_yes()], cfg) as (_, gateway, _):
        await until(lambda: bool(gateway.orders))
        (order,) = gateway.orders
        assert order.price * order.size <= 3 * 10**10
    assert any("live max order notional" in r for r in refusals(path))

"""The kill switch's watch: it waits (a grace period) only for the books of holdings a
resumed ledger brought; a run's own holdings never hold it up, nor make it warn."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from engine.orders import Side
from engine.strategies.base import Signal
from tests.kit.engine import Once, book, open_rig

SHARES = 10**6


async def test_a_new_ledger_never_warns_of_holdings_without_a_book(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Reproduced: every backtest on a new ledger warned "kill switch: 1 holding(s) have
    no book in this run and count at cost" once a position it had bought lost its bids
    for 30 s -- it has a book; and until then the kill switch stopped measuring."""
    buyer = Once(
        "buyer",
        1.0,
        lambda ctx: Signal("buyer", "Y", Side.BUY, 1.0, "in") if ctx.asset_id == "Y" else None,
    )
    r = await open_rig(tmp_path / "l.sqlite", [buyer], {"strategy": {"order_style": "take"}})
    r.frame(
        book("Y", [("0.40", "100")], [("0.42", "100")]),
        book("N", [("0.58", "100")], [("0.60", "100")]),
    )
    assert r.position("Y") == 10 * SHARES
    r.frame(book("Y", [], [("0.42", "100")]))  # every bid gone, no print: no mark
    with caplog.at_level(logging.WARNING, logger="engine"):
        for _ in range(40):
            r.tick(1.0)
    assert not [rec for rec in caplog.records if "have no book" in rec.getMessage()]
    # The switch kept measuring: its loss counts the holding (at cost: nothing to mark).
    assert r.engine.builder.build().kill_switch.baseline == 1000
    await r.close()

"""A refusal that repeats while its rule holds is a row a minute with its count.

With the order rate cap full, every book update of a wanted token is refused again; the
ledger keeps every one of them as a count (``repeats``) on a row a minute per token,
strategy and rule; held ones are written when their minute ends, or when the run
finishes. So the ledger's sums equal the engine's counts, and its rows do not grow with
the update rate.
"""

from __future__ import annotations

from pathlib import Path

from engine.orders import Side
from engine.repeats import RECORD_EVERY_S
from engine.strategies.base import MarketContext, Signal
from tests.kit.engine import OPEN, Rig, level, open_rig
from tests.kit.ledgers import rows

CAPPED = {"trading": {"order_frequency": {"max_orders": 1, "interval_seconds": 3600}}}


class Eager:
    """Wants to buy Y on every update."""

    name = "eager"
    weight = 1.0

    def on_tick(self, ctx: MarketContext) -> Signal | None:
        if ctx.asset_id != "Y":
            return None
        return Signal("eager", "Y", Side.BUY, 1.0, "again", inputs={"n": len(ctx.asset_id)})


def _updates(r: Rig, n: int, step_s: float = 0.1) -> None:
    """`n` book updates of Y, `step_s` apart, each decided."""
    for i in range(n):
        r.clock.advance_to(r.clock.time() + step_s)
        r.frame(level("Y", "0.40", str(101 + i % 7), "BUY"))


async def test_a_refusal_that_repeats_is_a_row_a_minute_with_its_count(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    r = await open_rig(path, [Eager()], CAPPED)
    assert r.frame(*OPEN) == 1  # the cap's one order
    _updates(r, 100)  # 100 refusals inside a minute: the first is a row, 99 are held
    r.clock.advance_to(r.clock.time() + RECORD_EVERY_S)
    _updates(r, 1)  # a minute on: a row standing for itself and the 99 held
    _updates(r, 50)  # held until the run finishes
    core = r.core
    refused = core.parts.refusals.counts["entry_refused"]
    assert refused == 151
    core.finish()
    await r.ledger.flush()

    written = rows(path, "SELECT reason, repeats FROM risk_events WHERE approved = 0 ORDER BY id")
    assert [n for _, n in written] == [1, 100, 50]
    assert {reason for reason, _ in written} == {"order_rate_limit: global: 1/1 in 3600s"}
    signals = rows(path, "SELECT decision, repeats FROM signals ORDER BY id")
    assert signals[0] == ("order", 1)
    assert {d for d, _ in signals[1:]} == {"refused: order_rate_limit: global: 1/1 in 3600s"}
    assert [n for _, n in signals[1:]] == [1, 100, 50]
    assert sum(n for _, n in signals) == core.counts["signals"] == 152
    await r.close()


async def test_a_different_token_or_strategy_is_a_row_of_its_own(tmp_path: Path) -> None:
    class Both(Eager):
        name = "both"

        def on_tick(self, ctx: MarketContext) -> Signal | None:
            return Signal("both", ctx.asset_id, Side.BUY, 1.0, "again")

    path = tmp_path / "l.sqlite"
    r = await open_rig(path, [Both()], CAPPED)
    r.frame(*OPEN)  # one order (Y or N), the other token refused
    for i in range(20):
        r.clock.advance_to(r.clock.time() + 0.1)
        r.frame(level("Y", "0.40", str(101 + i), "BUY"), level("N", "0.56", str(101 + i), "BUY"))
    r.core.finish()
    await r.ledger.flush()
    written = rows(
        path,
        "SELECT asset_id, count(*), sum(repeats) FROM risk_events GROUP BY 1 ORDER BY 1",
    )
    refused = r.core.parts.refusals.counts["entry_refused"]
    assert sum(n for _, _, n in written) == refused
    assert {asset for asset, _, _ in written} == {"Y", "N"}
    assert all(count <= 2 for _, count, _ in written)  # the first, and the held ones at the end
    await r.close()


async def test_refusals_a_minute_apart_are_each_a_row(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    r = await open_rig(path, [Eager()], CAPPED)
    r.frame(*OPEN)
    for _ in range(3):
        _updates(r, 1, step_s=RECORD_EVERY_S)
    r.core.finish()
    await r.ledger.flush()
    written = rows(path, "SELECT repeats FROM risk_events ORDER BY id")
    assert written == [(1,), (1,), (1,)]
    await r.close()


async def test_held_refusals_reach_the_ledger_when_their_minute_ends_without_another(
    tmp_path: Path,
) -> None:
    """A kind that stops repeating is not left held until the run ends: the housekeeping
    tick after its minute writes it (a report over a running ledger, or a run that dies,
    is at most a minute behind)."""
    path = tmp_path / "l.sqlite"
    r = await open_rig(path, [Eager()], CAPPED)
    r.frame(*OPEN)
    _updates(r, 100)  # the first a row, 99 held
    r.tick(RECORD_EVERY_S / 2)
    await r.ledger.flush()
    assert rows(path, "SELECT repeats FROM risk_events") == [(1,)]
    r.tick(RECORD_EVERY_S / 2)  # the minute since the first row is over
    await r.ledger.flush()
    assert rows(path, "SELECT repeats FROM risk_events ORDER BY id") == [(1,), (99,)]
    signals = rows(path, "SELECT repeats FROM signals WHERE decision != 'order' ORDER BY id")
    assert signals == [(1,), (99,)]
    r.core.finish()  # nothing left to write
    await r.ledger.flush()
    assert rows(path, "SELECT sum(repeats) FROM risk_events") == [(100,)]
    await r.close()

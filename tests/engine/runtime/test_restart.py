"""A run that resumes a ledger: the account, lots and their exit levels come back; held
positions count in exposure and the kill switch waits for their marks; orders the ledger
left open are closed on the record, or replaced through the risk gate."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from engine.config import EngineConfig
from engine.events import KillSwitchChanged
from engine.ledger.reader import AccountState, LedgerReader, OrderRecord
from engine.market.markets import MarketInfo, Outcome
from engine.orders import Fill, Liquidity, OrderRequest, OrderStatus, OrderType, Side
from engine.runtime.kernel import Resume, read_resume
from engine.strategies.base import Signal
from tests.kit.engine import MARKET, T0, BasketOnce, Once, Rig, book, open_rig, pair
from tests.kit.tapes import opening_books

OLD = MarketInfo("0xold", "Old?", "old", (Outcome("OY", "Yes"), Outcome("ON", "No")))


async def test_a_restart_keeps_basket_legs_hedged(tmp_path: Path) -> None:
    """The legs of a basket bought before a restart come back as lots with their exits
    off (held to resolution), not with the global take-profit, stop-loss and maximum
    holding time that would sell one leg alone; another strategy's lot on the same token
    comes back as its own lot with the global rules."""
    buyer = Once(
        "buyer",
        1.0,
        lambda ctx: Signal("buyer", "Y", Side.BUY, 1.0, "in") if ctx.asset_id == "Y" else None,
    )
    path = tmp_path / "l.sqlite"
    r = await open_rig(path, [buyer, BasketOnce(pair(10 * 10**6, yes=4200, no=5200))])
    r.frame(
        book("Y", [("0.40", "100")], [("0.42", "100")]),
        book("N", [("0.50", "100")], [("0.52", "100")]),
    )
    assert r.position("Y") == 20 * 10**6
    await r.close()
    again = await open_rig(
        path, [], EngineConfig(), resume=read_resume(path, 60.0, T0 + 60), t0=T0 + 60, start=False
    )
    try:
        lots = again.core.accounting.lots
        for asset in ("Y", "N"):
            leg = lots.get(asset, "arb")
            assert leg is not None
            assert (leg.take_profit, leg.stop_loss, leg.max_holding_s) == (0, 0, 0), asset
        own = lots.get("Y", "buyer")
        assert own is not None
        assert own.shares == 10 * 10**6
        assert (own.take_profit, own.stop_loss, own.max_holding_s) == (None, None, None)
    finally:
        await again.close()


async def restored(tmp_path: Path, state: AccountState) -> Rig:
    cfg = EngineConfig.model_validate(
        {
            "risk": {"max_total_exposure": "250"},
            "execution": {"on_restart": "replace"},
            "strategy": {"order_size": "10"},
        }
    )
    resume = Resume(state, [], {}, [OLD, MARKET])
    return await open_rig(tmp_path / "l.sqlite", [], cfg, resume=resume, t0=100_000.0, markets=())


async def test_restored_positions_count_in_exposure_and_wait_for_their_marks(
    tmp_path: Path,
) -> None:
    fills = (
        Fill(
            "r1-1#1", "r1-1", "OY", "0xold", Side.BUY, 5000, 400_000_000, 0, Liquidity.TAKER, 10.0
        ),
        Fill("r1-2#1", "r1-2", "Y", "0xm", Side.BUY, 5000, 30_000_000, 0, Liquidity.TAKER, 11.0),
    )
    state = AccountState(10_000_000_000_000, fills, (), (), 1, None)
    r = await restored(tmp_path, state)
    core = r.core
    try:
        core.on_markets([MARKET])  # this run does not list 0xold
        total = _total_exposure(r)
        assert total >= 200 * 10**10  # the $200 held in 0xold still counts
        # The kill switch takes no baseline while held positions have no mark yet.
        assert r.engine.builder.build().kill_switch.baseline == 0
        core.on_frame(json.dumps(opening_books(1_000_001_000)), 100_001.0)
        r.clock.advance_to(100_001.0)
        core.on_timer()
        # 0xold never gets a book: still waiting within the grace period...
        assert r.engine.builder.build().kill_switch.baseline == 0
        r.clock.advance_to(100_040.0)
        core.on_timer()
        baseline = r.engine.builder.build().kill_switch.baseline
        # ...then counted at cost; Y is marked at its 0.48 bid, not at cost.
        want = 10_000_000_000_000 - 5000 * 430_000_000 + 200 * 10**10 + 4800 * 30_000_000
        assert baseline * 10**10 == want
    finally:
        await r.close()


def _total_exposure(r: Rig) -> int:
    """The total exposure sizing would weigh for an entry in MARKET."""
    inputs = r.core.parts.screen.inputs("s", MARKET, "Y", 5000, 1.0, 10**6, 1.0, r.clock.time())
    return inputs.total_exposure


async def test_replaced_orders_go_through_the_risk_gate(tmp_path: Path) -> None:
    old = OrderRequest(
        "r1-9", "Y", "0xm", Side.BUY, 4800, 10_000_000, OrderType.GTC, "mean_reversion", "r", 50.0
    )
    record = OrderRecord(1, old, OrderStatus.LIVE, 0, None, None, 50.0)
    killed = KillSwitchChanged(
        60.0, "tripped", 0.0, 10_000_000_000_000, 0, 10, 60.0, None, 0.0, "kill", "alice"
    )
    state = AccountState(10_000_000_000_000, (), (), (record,), 1, killed)
    r = await restored(tmp_path, state)
    core = r.core
    try:
        core.on_markets([MARKET])
        core.on_frame(json.dumps(opening_books(1_000_001_000)), 100_001.0)
        r.clock.advance_to(100_001.0)
        core.on_timer()
        assert not r.sent, "a replacement bypassed the latched kill switch"
        assert dict(r.engine.builder.build().reject_reasons) == {"kill_switch": 1}
        await r.ledger.flush()
        db = sqlite3.connect(tmp_path / "l.sqlite")
        closed = db.execute("SELECT detail FROM order_events WHERE order_id = 'r1-9'").fetchall()
        assert closed == [("not resting after a restart (paper orders end with their run)",)]
    finally:
        await r.close()


async def test_a_ledger_resumed_twice_counts_no_fill_twice(tmp_path: Path) -> None:
    """The seen trade ids come back with the account: a venue repeating a fill the ledger
    already holds (a reconnect's refresh) is not counted again."""
    buyer = Once(
        "buyer",
        1.0,
        lambda ctx: Signal("buyer", "Y", Side.BUY, 1.0, "in") if ctx.asset_id == "Y" else None,
    )
    path = tmp_path / "l.sqlite"
    r = await open_rig(path, [buyer])
    r.frame(
        book("Y", [("0.40", "100")], [("0.42", "100")]),
        book("N", [("0.50", "100")], [("0.52", "100")]),
    )
    await r.close()
    first = LedgerReader(path).load_state().fills[0]
    again = await open_rig(path, [], resume=read_resume(path, 60.0, T0 + 60), t0=T0 + 60)
    try:
        from engine.venue import FillReport

        before = again.position("Y")
        again.core.oms.on_reports([FillReport(first)])
        assert again.position("Y") == before
        assert again.engine.builder.build().counters.duplicate_fills == 1
    finally:
        await again.close()

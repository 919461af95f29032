"""The order seam with a live venue behind it: the real engine (kernel, live runner, order
manager, accounting, SQLite ledger) against a fake live gateway that answers
asynchronously and speaks unasked, as Polymarket's user channel does. In each case the
position, the cash and the ledger must come out right."""

from __future__ import annotations

import asyncio
from pathlib import Path

from engine.orders import OrderRequest, OrderStatus, OrderType, Side
from engine.runtime.live import LiveRunner
from engine.runtime.manual import ManualOrder
from engine.runtime.state import EngineState
from engine.strategies.base import Signal
from engine.venue import BlockReason, OrderUpdate, TradeStatus, TradingMode, VenueReport
from tests.kit.engine import Once, level
from tests.kit.gateways import FakeLiveGateway, live_run
from tests.kit.ledgers import rows
from tests.kit.waits import until

START = 1000 * 10**10  # the default paper.starting_cash, in cash units
SHARES = 10**6


def buys_yes() -> Once:
    return Once(
        "buyer",
        1.0,
        lambda ctx: Signal("buyer", "Y", Side.BUY, 1.0, "in") if ctx.asset_id == "Y" else None,
    )


async def test_a_partial_fill_before_the_orders_ack_counts_and_the_ack_finds_it(
    tmp_path: Path,
) -> None:
    """The user channel's trade message beats the answer to the POST: the fill is the
    order's (a known order, not yet acknowledged), and the ack then says the order rests
    part filled."""
    path = tmp_path / "l.sqlite"
    async with live_run(path, [buys_yes()]) as (runner, gateway, _):

        def early_fill(order: OrderRequest) -> tuple[list[VenueReport], list[VenueReport]]:
            fill = gateway.fill(order.order_id, order.asset_id, Side.BUY, 4200, 4 * SHARES)
            ack = OrderUpdate(order.order_id, OrderStatus.LIVE, 0.0, None, "0xv1")
            return [fill], [ack]

        gateway.script = early_fill
        await until(lambda: bool(gateway.orders))
        order = gateway.orders[0]
        await until(
            lambda: any(o.status == "partially_filled" for o in runner.builder.build().orders)
        )
        snap = runner.builder.build()
        assert snap.mode is TradingMode.LIVE
        assert [(p.asset_id, p.shares) for p in snap.positions] == [("Y", 4)]
        assert snap.cash * 10**10 == START - 4200 * 4 * SHARES
        working = snap.orders[0]
        assert (working.order_id, working.filled) == (order.order_id, 4)
    steps = rows(
        path,
        "SELECT status, filled FROM order_events WHERE order_id = "
        f"'{order.order_id}' AND status NOT LIKE 'venue:%'",
    )
    assert steps[:2] == [("new", 0), ("partially_filled", 4 * SHARES)]
    venue = rows(
        path,
        "SELECT status FROM order_events WHERE order_id = "
        f"'{order.order_id}' AND status LIKE 'venue:%'",
    )
    assert venue[:2] == [("venue:matched",), ("venue:live",)]
    assert rows(path, "SELECT fill_id, size FROM fills") == [("t1", 4 * SHARES)]
    assert rows(path, "SELECT venue_id FROM orders") == [("0xv1",)]
    assert rows(path, "SELECT mode FROM runs") == [("live",)]


async def test_a_fill_for_an_order_the_engine_does_not_know_is_counted_and_blocks_entries(
    tmp_path: Path,
) -> None:
    """Recorded (the account must match the venue), flagged for reconciliation, never
    dropped; no new order goes out until the gateway's reconciliation lifts the block."""
    path = tmp_path / "l.sqlite"
    async with live_run(path, []) as (runner, gateway, _):
        stranger = gateway.fill("0xforeign", "N", Side.BUY, 5600, 5 * SHARES, trade_id="tx9")
        gateway.push(stranger)
        snap = runner.builder.build()
        assert [(p.asset_id, p.shares) for p in snap.positions] == [("N", 5)]
        assert snap.cash * 10**10 == START - 5600 * 5 * SHARES
        assert [b.reason for b in snap.trading_blocks] == [BlockReason.RECONCILIATION]
        assert snap.counters.unknown_fills == 1
        # A person's buy is refused while blocked (the same gate every entry passes)...
        refused = runner.manual_preview(ManualOrder("Y", Side.BUY, 5 * SHARES, 4200))
        assert refused.rule == "trading_blocked"
        # ...until the reconciliation explains it.
        gateway.unblock(BlockReason.RECONCILIATION)
        assert runner.builder.build().trading_blocks == ()
        assert runner.manual_preview(ManualOrder("Y", Side.BUY, 5 * SHARES, 4200)).approved
    assert rows(path, "SELECT fill_id, order_id, strategy FROM fills") == [("tx9", "0xforeign", "")]
    noted = rows(path, "SELECT kind, order_id, fill_id FROM venue_events ORDER BY id")
    assert noted[0] == ("unknown_order_fill", "0xforeign", "tx9")
    assert [k for (k, *_) in noted[1:]] == ["trading_blocked", "trading_unblocked"]


async def test_a_cancel_from_the_venue_closes_the_order_and_frees_its_cash(
    tmp_path: Path,
) -> None:
    path = tmp_path / "l.sqlite"
    async with live_run(path, [buys_yes()], {"strategy": {"order_style": "rest"}}) as (
        runner,
        gateway,
        _,
    ):
        await until(lambda: any(o.status == "live" for o in runner.builder.build().orders))
        order = gateway.orders[0]
        assert order.order_type is OrderType.GTD
        gateway.push(
            gateway.update(order.order_id, OrderStatus.CANCELLED, "CANCELED_ORDER_TIMED_OUT")
        )
        snap = runner.builder.build()
        assert snap.orders == ()
        assert snap.positions == ()
        assert snap.cash * 10**10 == START
        free = runner.manual_preview(ManualOrder("Y", Side.BUY, 5 * SHARES, 4000))
        assert free.approved  # the cash the bid had reserved is free again
    status = rows(path, "SELECT status, status_reason FROM orders")
    assert status == [("cancelled", "CANCELED_ORDER_TIMED_OUT")]


async def test_the_same_fill_reported_twice_is_counted_once(tmp_path: Path) -> None:
    """The answer carries the trade and the user channel repeats it (or a reconnect's
    refresh does): one fill, one position."""
    path = tmp_path / "l.sqlite"
    async with live_run(path, [buys_yes()]) as (runner, gateway, _):

        def matched(order: OrderRequest) -> tuple[list[VenueReport], list[VenueReport]]:
            fill = gateway.fill(order.order_id, "Y", Side.BUY, 4200, order.size, trade_id="tx1")
            done = OrderUpdate(order.order_id, OrderStatus.FILLED, 0.0, None, "0xv1")
            return [fill], [fill, done]

        gateway.script = matched
        await until(lambda: bool(gateway.orders) and not runner.builder.build().orders)
        size = gateway.orders[0].size
        gateway.push(
            gateway.fill(gateway.orders[0].order_id, "Y", Side.BUY, 4200, size, trade_id="tx1")
        )
        snap = runner.builder.build()
        assert [(p.asset_id, p.shares * SHARES) for p in snap.positions] == [("Y", size)]
        assert snap.cash * 10**10 == START - 4200 * size
        assert snap.counters.duplicate_fills == 2
    assert rows(path, "SELECT fill_id FROM fills") == [("tx1",)]
    dupes = rows(path, "SELECT count(*) FROM venue_events WHERE kind = 'duplicate_fill'")
    assert dupes == [(2,)]


async def test_a_failed_trade_reverses_its_fill_with_a_row_of_its_own(tmp_path: Path) -> None:
    """MATCHED, then FAILED on chain: cash and position as before the fill, the fill kept
    in the ledger and its reversal beside it; a later run replays both."""
    path = tmp_path / "l.sqlite"
    async with live_run(path, [buys_yes()]) as (runner, gateway, _):

        def matched(order: OrderRequest) -> tuple[list[VenueReport], list[VenueReport]]:
            fill = gateway.fill(order.order_id, "Y", Side.BUY, 4200, order.size, fee=77)
            done = OrderUpdate(order.order_id, OrderStatus.FILLED, 0.0, None, "0xv1")
            return [], [fill, done]

        gateway.script = matched
        await until(lambda: bool(runner.builder.build().positions))
        gateway.push(gateway.trade("t1", TradeStatus.FAILED, "reverted on chain"))
        snap = runner.builder.build()
        assert [p.shares for p in snap.positions] == [0]
        assert snap.cash * 10**10 == START
    assert rows(path, "SELECT fill_id, reason FROM fill_reversals") == [
        ("t1", "trade failed: reverted on chain")
    ]
    from engine.ledger.reader import LedgerReader

    state = LedgerReader(path).load_state()
    from engine.execution.portfolio import Portfolio

    replayed = Portfolio(START)
    for item in state.history():
        from engine.events import FillReversed
        from engine.orders import Fill

        if isinstance(item, Fill):
            replayed.apply(item)
        elif isinstance(item, FillReversed):
            replayed.reverse(item.fill, item.cost if item.fill.side is Side.SELL else 0)
    assert replayed.cash == START
    assert replayed.position("Y") == 0


async def test_no_new_order_while_the_gateway_says_so(tmp_path: Path) -> None:
    """Heartbeat lost: entries are refused by name, the snapshot says why, and trading
    resumes when the gateway lifts it."""
    path = tmp_path / "l.sqlite"
    strategy = buys_yes()
    async with live_run(path, []) as (runner, gateway, feed):
        gateway.block(BlockReason.HEARTBEAT, "no heartbeat accepted for 6 s")
        runner.core.strategies.append(strategy)
        runner.core.aggregator.weights["buyer"] = 1.0
        feed.frame(level("Y", "0.40", "90", "BUY"))
        await until(lambda: bool(strategy.seen))
        snap = runner.builder.build()
        assert not gateway.orders
        assert dict(snap.reject_reasons) == {"trading_blocked": 1}
        assert [(b.reason, b.detail) for b in snap.trading_blocks] == [
            (BlockReason.HEARTBEAT, "no heartbeat accepted for 6 s")
        ]
        gateway.unblock(BlockReason.HEARTBEAT)
        strategy.fired = False
        feed.frame(level("Y", "0.40", "80", "BUY"))
        await until(lambda: bool(gateway.orders))
    refused = rows(path, "SELECT reason FROM risk_events")
    assert refused == [("trading blocked (heartbeat): no heartbeat accepted for 6 s",)]


async def test_an_answer_after_the_order_closed_is_still_applied(tmp_path: Path) -> None:
    """The gateway could not tell whether the order landed (a timeout after sending): it
    answers nothing, looks the order up, and reports later; by then the run has stopped
    and closed the order on the record. The late fill is still counted, on that order."""
    path = tmp_path / "l.sqlite"
    gateway_seen: list[FakeLiveGateway] = []
    async with live_run(path, [buys_yes()]) as (runner, gateway, _):
        gateway_seen.append(gateway)
        gateway.script = lambda order: ((), ())  # unknown outcome: nothing yet
        await until(lambda: bool(gateway.orders))
        order = gateway.orders[0]
        runner.core.oms.close(order.order_id, OrderStatus.CANCELLED, "given up", tell=False)
        late = gateway.fill(order.order_id, "Y", Side.BUY, 4200, order.size, trade_id="tlate")
        gateway.push(late)
        snap = runner.builder.build()
        assert [(p.asset_id, p.shares * SHARES) for p in snap.positions] == [("Y", order.size)]
    fills = rows(path, "SELECT fill_id, order_id, strategy FROM fills")
    assert fills == [("tlate", order.order_id, "buyer")]
    last = rows(path, f"SELECT status, filled FROM orders WHERE id = '{order.order_id}'")
    assert last == [("cancelled", order.size)]


async def test_a_manual_order_goes_through_the_gate_and_the_gateway(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    async with live_run(path, []) as (runner, gateway, _):

        def matched(order: OrderRequest) -> tuple[list[VenueReport], list[VenueReport]]:
            fill = gateway.fill(order.order_id, order.asset_id, order.side, order.price, order.size)
            done = OrderUpdate(order.order_id, OrderStatus.FILLED, 0.0, None, "0xv1")
            return [], [fill, done]

        gateway.script = matched
        too_big = await runner.manual_order(ManualOrder("Y", Side.BUY, 500 * SHARES, 4200))
        assert too_big.rule is not None
        assert "at most" in (too_big.reason or "")
        done = await runner.manual_order(ManualOrder("Y", Side.BUY, 8 * SHARES, 4200), who="ann")
        assert done.order_id is not None
        assert [(o.strategy, o.reason) for o in gateway.orders] == [("manual", "manual (by ann)")]
        dust = await runner.manual_order(ManualOrder("Y", Side.SELL, 5 * SHARES, 4000))
        assert dust.rule == "dust"  # it would leave 3 shares that could never be sold
        out = await runner.manual_order(ManualOrder("Y", Side.SELL, 8 * SHARES, 4000))
        assert out.order_id is not None
        assert runner.builder.build().positions[0].shares == 0
        assert runner.state is EngineState.RUNNING
    kinds = rows(path, "SELECT strategy, kind FROM exits")
    assert kinds == [("manual", "manual")]


async def test_an_entry_that_fills_before_its_kill_cancel_lands_is_closed_too(
    tmp_path: Path,
) -> None:
    """Kill cancels a resting entry, but the venue filled it first: the position is in no
    flatten plan, and the switch must not leave it held. The late shares are sold with the
    kill's reason; after a reset, what is bought may be held again."""
    path = tmp_path / "l.sqlite"
    async with live_run(path, [buys_yes()], {"strategy": {"order_style": "rest"}}) as (
        runner,
        gateway,
        _,
    ):
        await until(lambda: any(o.status == "live" for o in runner.builder.build().orders))
        entry = gateway.orders[0]

        def filled_first(order_id: str) -> list[VenueReport]:
            gateway.push(gateway.fill(order_id, "Y", Side.BUY, entry.price, entry.size))
            return [gateway.update(order_id, OrderStatus.FILLED, "matched before the cancel")]

        def sells_fill(order: OrderRequest) -> tuple[list[VenueReport], list[VenueReport]]:
            fill = gateway.fill(order.order_id, "Y", order.side, order.price, order.size)
            return [], [fill, OrderUpdate(order.order_id, OrderStatus.FILLED, 0.0, None, "0xs")]

        gateway.cancel_script = filled_first
        gateway.script = sells_fill
        await runner.kill("ann", timeout_s=2.0)
        await until(lambda: len(gateway.orders) == 2)
        close = gateway.orders[1]
        assert (close.side, close.size, close.is_exit) == (Side.SELL, entry.size, True)
        await until(lambda: all(p.shares == 0 for p in runner.builder.build().positions))
    exits = rows(path, "SELECT kind FROM exits")
    assert exits == [("kill",)]


async def test_after_a_reset_what_is_bought_may_be_held(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    async with live_run(path, []) as (runner, gateway, _):

        def matched(order: OrderRequest) -> tuple[list[VenueReport], list[VenueReport]]:
            fill = gateway.fill(order.order_id, order.asset_id, order.side, order.price, order.size)
            return [], [fill, OrderUpdate(order.order_id, OrderStatus.FILLED, 0.0, None, "0xv")]

        gateway.script = matched
        await runner.kill("ann", timeout_s=2.0)
        runner.reset("ann")
        done = await runner.manual_order(ManualOrder("Y", Side.BUY, 8 * SHARES, 4200), who="ann")
        assert done.order_id is not None
        await until(lambda: bool(runner.builder.build().positions))
        for _ in range(20):  # housekeeping runs every 0.1 s: give it turns to (not) sweep
            await asyncio.sleep(0.02)
        assert len(gateway.orders) == 1
        assert [p.shares for p in runner.builder.build().positions] == [8]


async def rest_three(runner: LiveRunner, gateway: FakeLiveGateway) -> list[str]:
    """Three resting bids, acknowledged by the venue."""
    ids = []
    for price in (3900, 3800, 3700):
        sent = await runner.manual_order(
            ManualOrder("Y", Side.BUY, 5 * SHARES, price, OrderType.GTC), who="ann"
        )
        assert sent.order_id is not None, sent.reason
        ids.append(sent.order_id)
    await until(lambda: sum(o.status == "live" for o in runner.builder.build().orders) == 3)
    assert gateway.cancel_requests == []
    return ids


async def test_cancel_all_asks_the_venue_once_for_every_order(tmp_path: Path) -> None:
    async with live_run(tmp_path / "l.sqlite", []) as (runner, gateway, _):
        ids = await rest_three(runner, gateway)
        assert await runner.cancel_all(who="ann", timeout_s=5.0) == ()
        assert gateway.cancel_requests == [tuple(ids)]
        assert runner.builder.build().orders == ()


async def test_flatten_cancels_its_orders_in_one_request(tmp_path: Path) -> None:
    async with live_run(tmp_path / "l.sqlite", []) as (runner, gateway, _):
        ids = await rest_three(runner, gateway)
        await runner.flatten(who="ann", timeout_s=5.0)
        await until(lambda: runner.builder.build().orders == ())
        assert gateway.cancel_requests == [tuple(ids)]


async def test_stopping_cancels_every_resting_order_in_one_request(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    async with live_run(path, []) as (runner, gateway, _):
        ids = await rest_three(runner, gateway)
    assert gateway.cancel_requests == [tuple(ids)]
    assert (
        rows(path, "SELECT status, status_reason FROM orders")
        == [("cancelled", "engine stopped")] * 3
    )


async def test_orders_queued_together_reach_the_gateway_together(tmp_path: Path) -> None:
    """Twenty orders sent at once are all in flight at once (a venue's batch call can
    carry them), and each is answered."""
    room = {"max_position_shares": 500, "max_market_exposure": 1000, "max_event_exposure": 1000}
    async with live_run(tmp_path / "l.sqlite", [], {"risk": room}) as (runner, gateway, _):
        gateway.answer_after_s = 0.05
        for n in range(20):
            order = ManualOrder("Y", Side.BUY, 5 * SHARES, 3000 - n * 100, OrderType.GTC)
            sent = await runner.manual_order(order, who="ann")
            assert sent.order_id is not None, sent.reason
        await until(lambda: sum(o.status == "live" for o in runner.builder.build().orders) == 20)
        assert gateway.most_in_flight == 20

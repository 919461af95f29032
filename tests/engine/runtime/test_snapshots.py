"""Snapshots in sections, the hub that always delivers the final one, the event stream."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

from engine.decisions import ORDER
from engine.events import ErrorRaised
from engine.market.markets import MarketInfo, Outcome
from engine.orders import OrderRequest, OrderStatus, OrderType, Side, StrategyId
from engine.runtime.components import LastSignal
from engine.runtime.manual import ManualOrder
from engine.runtime.snapshot import EngineSnapshot, SnapshotHub
from engine.runtime.snapshot_builder import SnapshotBuilder
from engine.runtime.state import EngineState
from engine.runtime.stream import EventStream
from engine.venue import OrderUpdate, VenueReport
from tests.kit.engine import MARKET, OPEN, book, level, open_rig
from tests.kit.gateways import live_run
from tests.kit.snapshots import blank_snapshot
from tests.kit.tapes import FEE_MARKET, opening_books, runner_config
from tests.kit.waits import until

SHARES = 10**6  # one share, in size units


def price_change(asset: str, price: str, size: str, ts: int) -> str:
    """A market-channel price_change frame for one bid level of FEE_MARKET."""
    entry = {"asset_id": asset, "price": price, "size": size, "side": "BUY"}
    return json.dumps(
        {
            "event_type": "price_change",
            "market": "0xm",
            "timestamp": str(ts),
            "price_changes": [entry],
        }
    )


async def test_hub_delivers_the_final_snapshot_after_close() -> None:
    """Reproduced: close() threw the final snapshot away, so a finished run's status file
    still said `running`."""
    hub = SnapshotHub()
    seen: list[str] = []

    async def watch() -> None:
        async for snap in hub.subscribe():
            seen.append(snap.state)
            await asyncio.sleep(0)  # a slow subscriber

    task = asyncio.create_task(watch())
    await asyncio.sleep(0)
    base = _snapshot()
    hub.publish(base)
    hub.publish(_replace(base, state=EngineState.STOPPING))
    hub.publish(_replace(base, state=EngineState.STOPPED))
    hub.close()
    async with asyncio.timeout(5):
        await task
    assert seen[-1] == "stopped"
    late: list[str] = []
    async for snap in hub.subscribe():  # subscribing after the end still sees the final
        late.append(snap.state)
    assert late == ["stopped"]


async def test_event_stream_is_bounded_and_drains_on_close() -> None:
    stream = EventStream()
    got: list[str] = []

    async def watch() -> None:
        async for event in stream.subscribe(maxlen=3):
            assert isinstance(event, ErrorRaised)
            got.append(event.message)

    task = asyncio.create_task(watch())
    await asyncio.sleep(0)
    for i in range(5):
        stream.publish(ErrorRaised(float(i), "test", str(i)))
    stream.close()
    async with asyncio.timeout(5):
        await task
    assert got == ["2", "3", "4"]  # the oldest were dropped, the rest drained


async def test_sections_are_rebuilt_only_where_something_changed(tmp_path: Path) -> None:
    r = await open_rig(tmp_path / "l.sqlite", [], runner_config(), markets=[FEE_MARKET], t0=1000.0)
    core, builder = r.core, r.engine.builder
    try:
        core.on_frame(json.dumps(opening_books()), 1001.0)
        first = builder.build()
        assert [r.outcome for r in first.markets] == ["Yes", "No"]
        again = builder.build()
        assert again.markets is first.markets  # nothing moved: the same section object
        assert again.positions is first.positions
        assert again.orders is first.orders

        # A level below the best bid:
        core.on_frame(price_change("Y", "0.47", "9", 1_000_002_000), 1002.0)
        below = builder.build()
        assert below.markets is first.markets  # what the rows show did not move
        core.on_frame(price_change("Y", "0.49", "9", 1_000_002_500), 1002.5)  # a new best bid
        moved = builder.build()
        assert moved.markets is not first.markets
        assert moved.markets[1] is first.markets[1]  # the NO row did not change: reused
        assert moved.markets[0].version > first.markets[0].version
        assert moved.markets[0].best_bid == Decimal("0.49")
        assert moved.markets[0].bid_size == Decimal(9)
    finally:
        await r.close()


async def test_rows_brought_up_in_chunks_are_the_rows_a_whole_build_makes(
    tmp_path: Path,
) -> None:
    """The live runner rebuilds market rows a chunk a loop turn (frames are read in
    between); the snapshot then shows exactly what one whole build would."""
    r = await open_rig(tmp_path / "l.sqlite", [], runner_config(), markets=[FEE_MARKET], t0=1000.0)
    core, builder = r.core, r.engine.builder
    try:
        core.on_frame(json.dumps(opening_books()), 1001.0)
        first = builder.build()
        core.on_frame(price_change("N", "0.51", "7", 1_000_003_000), 1003.0)
        chunks = list(builder.update_rows(1))
        assert len(chunks) == 2  # one token a turn
        chunked = builder.build()
        assert chunked.markets is not first.markets
        assert chunked.markets[0] is first.markets[0]  # YES did not move: reused
        assert chunked.markets[1].best_bid == Decimal("0.51")
        assert builder.build().markets is chunked.markets  # nothing moved since
    finally:
        await r.close()


async def test_a_snapshot_takes_the_rows_its_chunked_pass_made_without_walking_them_again(
    tmp_path: Path,
) -> None:
    """After the runner's chunked pass, the snapshot is assembled at once: a book that
    moved after the pass is shown by the next one, not by walking every row again in the
    turn that builds it (that walk held the loop ~1.4 ms ten times a second)."""
    r = await open_rig(tmp_path / "l.sqlite", [], runner_config(), markets=[FEE_MARKET], t0=1000.0)
    core, builder = r.core, r.engine.builder
    try:
        core.on_frame(json.dumps(opening_books()), 1001.0)
        builder.build()
        passed = list(builder.update_rows(16))
        assert len(passed) == 1
        # After the pass, before the build:
        core.on_frame(price_change("N", "0.51", "7", 1_000_003_000), 1003.0)
        taken = builder.build(prepared=True)
        assert taken.markets[1].best_bid != Decimal("0.51")
        assert builder.build().markets[1].best_bid == Decimal("0.51")  # no pass: walked
        # A build not told of the pass (the one that ends a run) walks the rows itself.
        list(builder.update_rows(16))
        core.on_frame(price_change("N", "0.52", "7", 1_000_004_000), 1004.0)
        assert builder.build().markets[1].best_bid == Decimal("0.52")
    finally:
        await r.close()


async def test_a_snapshot_prepared_a_part_a_turn_shows_what_one_whole_build_shows(
    tmp_path: Path,
) -> None:
    """The runner prepares a snapshot a part a loop turn (rows a chunk at a time, then
    the signals, positions and orders sections); the build that follows shows what a
    builder that made everything at once shows."""
    r = await open_rig(tmp_path / "l.sqlite", [], runner_config(), markets=[FEE_MARKET], t0=1000.0)
    core, builder = r.core, r.engine.builder
    try:
        core.on_frame(json.dumps(opening_books()), 1001.0)
        builder.build()
        core.last_signals["Y"] = LastSignal(1.0, StrategyId.of(["a"]), Side.BUY, False, ORDER, "o1")
        core.signals_version += 1
        turns = list(builder.prepare(1))
        assert len(turns) == 5  # a token a turn (two), then signals, positions and orders
        prepared = builder.build(prepared=True)
        whole = SnapshotBuilder(core, r.engine.router).build()
        for section in ("markets", "signals", "positions", "orders", "strategies"):
            assert getattr(prepared, section) == getattr(whole, section), section
        assert prepared.signals[0].ordered
    finally:
        await r.close()


async def test_a_tokens_signal_row_is_remade_only_when_its_signal_changed(
    tmp_path: Path,
) -> None:
    r = await open_rig(tmp_path / "l.sqlite", [], runner_config(), markets=[FEE_MARKET], t0=1000.0)
    core, builder = r.core, r.engine.builder
    try:
        core.on_frame(json.dumps(opening_books()), 1001.0)
        shown = builder.build()
        assert shown.signals == ()
        core.last_signals["Y"] = LastSignal(1.0, StrategyId.of(["a"]), Side.BUY, False, ORDER, "o1")
        core.signals_version += 1
        one = builder.build().signals
        core.last_signals["N"] = LastSignal(2.0, StrategyId.of(["b"]), Side.BUY, False, ORDER, None)
        core.signals_version += 1
        two = builder.build().signals
        assert [row.asset_id for row in two] == ["Y", "N"]
        assert two[0] is one[0]  # Y's signal is the same: its row too
        assert two[1].strategies == StrategyId.of(["b"])
        assert not two[1].ordered
    finally:
        await r.close()


def _snapshot() -> EngineSnapshot:
    return blank_snapshot()


def _replace(snap: EngineSnapshot, **changes: object) -> EngineSnapshot:
    from dataclasses import replace

    return replace(snap, **changes)  # type: ignore[arg-type]


async def test_a_position_row_whose_figures_did_not_move_is_the_row_made_before(
    tmp_path: Path,
) -> None:
    """Hundreds of positions and open orders, and marks that move at every snapshot: a
    row is remade only when what it shows moved (its shares, cost, mark or worth; an
    order's fills or status), and what it shows is always current."""
    other = MarketInfo(
        "0xo", "Will it snow in Oslo?", "snow", (Outcome("A", "Yes"), Outcome("B", "No"))
    )
    books = (
        *OPEN,
        book("A", [("0.30", "100")], [("0.32", "100")], "0xo"),
        book("B", [("0.66", "100")], [("0.68", "100")], "0xo"),
    )
    async with live_run(tmp_path / "l.sqlite", [], markets=(MARKET, other), books=books) as (
        runner,
        gateway,
        feed,
    ):

        def matched(order: OrderRequest) -> tuple[list[VenueReport], list[VenueReport]]:
            fill = gateway.fill(order.order_id, order.asset_id, order.side, order.price, order.size)
            done = OrderUpdate(order.order_id, OrderStatus.FILLED, 0.0, None, "0xv1")
            return [], [fill, done]

        gateway.script = matched
        for asset, price in (("Y", 4200), ("A", 3200)):  # two markets: no YES/NO set
            done = await runner.manual_order(ManualOrder(asset, Side.BUY, 8 * SHARES, price))
            assert done.order_id is not None
        gateway.script = lambda order: ([], [])  # rests: an open order's row
        resting = await runner.manual_order(
            ManualOrder("Y", Side.BUY, 6 * SHARES, 3000, OrderType.GTD, expires_at=4e9)
        )
        assert resting.order_id is not None
        builder = runner.builder
        await until(lambda: len(builder.build().orders) == 1)
        first = builder.build()
        yes, other_row = first.positions
        feed.frame(level("Y", "0.41", "50", "BUY"))  # Y's best bid: its mark moves
        await until(lambda: builder.build().positions[0].mark == Decimal("0.41"))
        moved = builder.build()
        assert moved.positions[0] is not yes
        assert moved.positions[1] is other_row  # A did not move: the same row
        assert moved.orders[0] is first.orders[0]
        fresh = SnapshotBuilder(runner.core, runner.router).build()
        assert (moved.positions, moved.orders) == (fresh.positions, fresh.orders)
        # A second order after the sections were prepared: the build shows it (fills,
        # orders and positions are read at the build, together), and the first order's
        # row is the one made before.
        list(builder.prepare(16))
        later = await runner.manual_order(
            ManualOrder("A", Side.BUY, 6 * SHARES, 2000, OrderType.GTD, expires_at=4e9)
        )
        assert later.order_id is not None
        assert later.order_id in runner.core.oms.tracker.open
        both = builder.build(prepared=True)
        assert [o.order_id for o in both.orders] == [resting.order_id, later.order_id]
        assert both.orders[0] is moved.orders[0]

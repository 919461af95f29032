"""Snapshots in sections, the hub that always delivers the final one, the event stream."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

from engine.decisions import ORDER
from engine.events import ErrorRaised
from engine.orders import Side, StrategyId
from engine.runtime.components import LastSignal
from engine.runtime.snapshot import EngineSnapshot, SnapshotHub
from engine.runtime.snapshot_builder import SnapshotBuilder
from engine.runtime.state import EngineState
from engine.runtime.stream import EventStream
from tests.kit.engine import open_rig
from tests.kit.snapshots import blank_snapshot
from tests.kit.tapes import FEE_MARKET, opening_books, runner_config


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

        def change(ts: int, price: str) -> str:
            entry = {"asset_id": "Y", "price": price, "size": "9", "side": "BUY"}
            return json.dumps(
                {
                    "event_type": "price_change",
                    "market": "0xm",
                    "timestamp": str(ts),
                    "price_changes": [entry],
                }
            )

        core.on_frame(change(1_000_002_000, "0.47"), 1002.0)  # a level below the best bid
        below = builder.build()
        assert below.markets is first.markets  # what the rows show did not move
        core.on_frame(change(1_000_002_500, "0.49"), 1002.5)  # a new best bid
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
        entry = {"asset_id": "N", "price": "0.51", "size": "7", "side": "BUY"}
        frame = {
            "event_type": "price_change",
            "market": "0xm",
            "timestamp": "1000003000",
            "price_changes": [entry],
        }
        core.on_frame(json.dumps(frame), 1003.0)
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
        entry = {"asset_id": "N", "price": "0.51", "size": "7", "side": "BUY"}
        frame = {
            "event_type": "price_change",
            "market": "0xm",
            "timestamp": "1000003000",
            "price_changes": [entry],
        }
        passed = list(builder.update_rows(16))
        assert len(passed) == 1
        core.on_frame(json.dumps(frame), 1003.0)  # after the pass, before the build
        taken = builder.build()
        assert taken.markets[1].best_bid != Decimal("0.51")
        assert builder.build().markets[1].best_bid == Decimal("0.51")  # no pass: walked
    finally:
        await r.close()


async def test_a_snapshot_prepared_a_part_a_turn_shows_what_one_whole_build_shows(
    tmp_path: Path,
) -> None:
    """The runner prepares a snapshot a part a loop turn (rows a chunk at a time, then
    the signals, positions and orders sections); the build that follows only assembles,
    and shows what a builder that made everything at once shows."""
    r = await open_rig(tmp_path / "l.sqlite", [], runner_config(), markets=[FEE_MARKET], t0=1000.0)
    core, builder = r.core, r.engine.builder
    try:
        core.on_frame(json.dumps(opening_books()), 1001.0)
        builder.build()
        core.last_signals["Y"] = LastSignal(1.0, StrategyId.of(["a"]), Side.BUY, False, ORDER, "o1")
        core.signals_version += 1
        turns = list(builder.prepare(1))
        assert len(turns) == 5  # a token a turn, signals, positions, orders and strategies
        prepared = builder.build()
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

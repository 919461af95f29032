"""Snapshots in sections, the hub that always delivers the final one, the event stream."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from engine.clock import SimClock
from engine.events import ErrorRaised
from engine.ledger.writer import SqliteLedger
from engine.market.health import FeedHealth, FeedSource
from engine.runtime.snapshot import EngineSnapshot, SnapshotHub
from engine.runtime.stream import EventStream
from polyterm.faces.wiring import build_engine
from tests.engine.harness import NoFeed
from tests.engine.test_runtime import MARKET, config, opening_books


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
    hub.publish(_replace(base, state="stopping"))
    hub.publish(_replace(base, state="stopped"))
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
            strategies=[],
        )
        core, builder = parts.core, parts.builder
        await ledger.start_run("paper", "t", "{}", 1000.0, parts.starting_cash)
        core.start(1)
        core.on_markets([MARKET])
        core.on_frame(json.dumps(opening_books()), 1001.0)
        first = builder.build()
        assert [r.outcome for r in first.markets] == ["Yes", "No"]
        again = builder.build()
        assert again.markets is first.markets  # nothing moved: the same section object
        assert again.positions is first.positions
        assert again.orders is first.orders
        change = {
            "event_type": "price_change",
            "market": "0xm",
            "timestamp": "1000002000",
            "price_changes": [{"asset_id": "Y", "price": "0.47", "size": "9", "side": "BUY"}],
        }
        core.on_frame(json.dumps(change), 1002.0)
        moved = builder.build()
        assert moved.markets is not first.markets
        assert moved.markets[1] is first.markets[1]  # the NO row did not change: reused
        assert moved.markets[0].version > first.markets[0].version
    finally:
        await ledger.close()


def _snapshot() -> EngineSnapshot:
    from decimal import Decimal

    from engine.runtime.snapshot import Counters, KillSwitchRow, Telemetry

    zero = Decimal(0)
    return EngineSnapshot(
        seq=1,
        at=0.0,
        uptime_s=0.0,
        state="running",
        mode="paper",
        venue="t",
        run_id=1,
        markets=(),
        positions=(),
        orders=(),
        fills=(),
        exits=(),
        reject_reasons=(),
        starting_cash=zero,
        cash=zero,
        equity=zero,
        realized_pnl=zero,
        unrealized_pnl=zero,
        fees=zero,
        counters=Counters(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        feed=FeedHealth().snapshot(0.0),
        kill_switch=KillSwitchRow("armed", zero, zero, zero, None, None, 1.0, None, None),
        rate_windows=(),
        telemetry=Telemetry(0, 0, 0, 0, zero, None, None, 0, 0, 0),
        exit_reasons=(),
        last_sizing="",
    )


def _replace(snap: EngineSnapshot, **changes: object) -> EngineSnapshot:
    from dataclasses import replace

    return replace(snap, **changes)  # type: ignore[arg-type]

"""A minimal engine snapshot, for tests of what consumes snapshots."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from engine.market.health import FeedHealth
from engine.runtime.snapshot import Counters, EngineSnapshot, KillSwitchRow, Telemetry
from engine.runtime.state import EngineState
from engine.venue import TradingMode


def blank_snapshot(**changes: Any) -> EngineSnapshot:
    """A running engine's snapshot with nothing in it; `changes` replace fields."""
    zero = Decimal(0)
    snap = EngineSnapshot(
        seq=1,
        at=0.0,
        uptime_s=0.0,
        state=EngineState.RUNNING,
        mode=TradingMode.PAPER,
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
    return replace(snap, **changes) if changes else snap

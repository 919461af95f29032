"""The header keeps what must always be read (PAPER or LIVE, the engine's state, the
kill switch, and BLOCKED while the gateway stops new orders) at every width, and drops
the rest least useful first."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.runtime.commands import EngineState, KillSwitchState
from engine.runtime.snapshot import TradingBlockRow
from engine.venue import BlockReason, TradingMode
from tests.kit.snapshots import blank_snapshot
from widgets.format import palette
from widgets.header import fit, header_parts


@pytest.mark.parametrize("width", [40, 60, 80, 120, 200])
def test_the_essentials_stay_at_every_width(width: int) -> None:
    snap = blank_snapshot()
    line = fit(header_parts(snap, "emulator", EngineState.PAUSED), width).plain
    for words in ("PAPER", "PAUSED", "kill switch ARMED"):
        assert words in line, (width, line)


def test_what_gives_way_first_is_the_venue_then_the_markets_then_the_clock() -> None:
    snap = blank_snapshot(at=1_700_000_000.0)
    parts = header_parts(snap, "emulator", EngineState.RUNNING)
    wide = fit(parts, 200).plain
    assert "offline emulator" in wide
    assert "22:13:20 UTC" in wide
    medium = fit(parts, 100).plain
    assert "offline emulator" not in medium
    assert "feed" in medium
    narrow = fit(parts, 80).plain
    assert "feed" in narrow
    assert "UTC" not in narrow
    assert len(narrow) <= 80


def test_live_and_a_trading_block_are_said_at_every_width() -> None:
    block = TradingBlockRow(BlockReason.HEARTBEAT, "no heartbeat for 12 s", 0.0)
    snap = replace(blank_snapshot(), mode=TradingMode.LIVE, trading_blocks=(block,))
    for width in (60, 80, 200):
        line = fit(header_parts(snap, "polymarket", EngineState.RUNNING), width).plain
        assert "LIVE" in line
        assert "BLOCKED: heartbeat" in line
        assert "PAPER" not in line


def _expected_style(state: KillSwitchState) -> str:
    if state is KillSwitchState.ARMED:
        return palette("pnl-up")
    if state is KillSwitchState.RECOVERING:
        return palette("warn")
    return f"bold {palette('pnl-down')}"


@pytest.mark.parametrize("state", list(KillSwitchState))
def test_every_kill_switch_state_is_said_in_the_header(state: KillSwitchState) -> None:
    # The widgets compare the snapshot's state with the engine's enum: every state the
    # engine has reads as itself, armed calm, recovering a warning, the rest alarms.
    snap = blank_snapshot()
    snap = replace(snap, kill_switch=replace(snap.kill_switch, state=str(state)))
    line = fit(header_parts(snap, "emulator", EngineState.RUNNING), 120)
    assert f"kill switch {state.upper()}" in line.plain
    word = line.plain.index(f"kill switch {state.upper()}") + len("kill switch ")
    styles = {str(s.style) for s in line.spans if s.start <= word < s.end}
    assert _expected_style(state) in styles, styles

"""The status file: atomic, private, a few writes a second at most (at once when the
state or the feed source changes), `failed` with the error, the last message's age."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import replace
from pathlib import Path

from engine.market.health import FeedHealth, FeedSource
from engine.runtime.state import EngineState
from polyterm.faces.status import StatusFile
from tests.kit.clock import FakeClock
from tests.kit.snapshots import blank_snapshot


def read(path: Path) -> dict[str, object]:
    doc = json.loads(path.read_text())
    assert isinstance(doc, dict)
    return doc


def test_writes_are_throttled_but_changes_of_state_or_source_go_out_at_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "status.json"
    clock = FakeClock()
    status = StatusFile(path, every_s=0.5, clock=clock)
    clock.now = 10.0
    status.update(blank_snapshot(uptime_s=1.0))
    assert read(path)["uptime_s"] == 1.0
    clock.now = 10.1
    status.update(blank_snapshot(uptime_s=1.1))  # figures only, too soon
    assert read(path)["uptime_s"] == 1.0
    clock.now = 10.2
    status.update(blank_snapshot(uptime_s=1.2, state=EngineState.PAUSED))  # a new state
    assert read(path)["state"] == "paused"
    health = FeedHealth()
    health.set_source(FeedSource.WS_STALE, 0.0, "no WS message for 5s")
    health.last_ws_message = 3.0
    stale = blank_snapshot(uptime_s=1.3, state=EngineState.PAUSED, feed=health.snapshot(9.5))
    clock.now = 10.3
    status.update(stale)  # a new feed source
    doc = read(path)
    assert doc["feed_source"] == "ws_stale"
    assert doc["last_message_age_s"] == 6.5
    clock.now = 10.9
    status.update(replace(stale, uptime_s=1.9))  # every_s later: figures go out
    assert read(path)["uptime_s"] == 1.9
    assert read(path)["pid"] == os.getpid()
    assert read(path)["updated_at"] == clock.time()


def test_a_failure_is_written_with_the_error_and_the_last_figures(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    status = StatusFile(path)
    status.update(blank_snapshot(uptime_s=4.0))
    status.failed("ledger l.sqlite stopped writing: database is locked")
    doc = read(path)
    assert doc["state"] == "failed"
    assert doc["error"] == "ledger l.sqlite stopped writing: database is locked"
    assert doc["uptime_s"] == 4.0
    # Failed before any snapshot (the start itself failed): still says so.
    early = StatusFile(tmp_path / "early.json")
    early.failed("cannot list markets")
    assert read(tmp_path / "early.json")["state"] == "failed"


def test_the_file_and_its_temporary_are_private_under_umask_022(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "status.json"
        StatusFile(path).final(blank_snapshot(state=EngineState.STOPPED))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["status.json"]  # no temp left over

"""`polyterm ctl` against the console: the console's live session (offline emulator, in
this process, under Pilot) runs the same control server as a headless run; `ctl` is a
real process. Status, pause (the header says PAUSED and entries stop), flatten
(positions closed), kill, reset."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from polyterm.faces.console import ConsoleOptions, console_session
from polyterm.settings.config import load_config
from polyterm.tui.app import PolytermApp
from tests.kit.console import SIZE, plain, until
from tests.kit.ctl import TRADING_ENV, actl, assert_flat
from tests.kit.process import environ
from widgets.header import StatusHeader

pytestmark = pytest.mark.integration


async def _ctl_json(env: dict[str, str], *args: str) -> dict[str, Any]:
    code, out, err = await actl([*args, "--json"], env)
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


async def _status_until(
    pilot: Pilot[int], env: dict[str, str], key: str, minimum: int
) -> dict[str, Any]:
    for _ in range(300):
        code, out, _err = await actl(["status", "--json"], env)
        if code == 0:
            status: dict[str, Any] = json.loads(out)
            if status[key] >= minimum:
                return status
        await pilot.pause(0.3)
    raise AssertionError(f"status never had {key} >= {minimum}")


def _header(app: PolytermApp) -> str:
    return plain(app.screen.query_one(StatusHeader))


async def test_ctl_commands_the_console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = environ(tmp_path, POLYTERM_RUNTIME_DIR=str(tmp_path / "run"))
    for name in ("POLYTERM_CONFIG_DIR", "POLYTERM_DATA_DIR", "POLYTERM_RUNTIME_DIR"):
        monkeypatch.setenv(name, env[name])
    ledger = tmp_path / "console.sqlite"
    config = load_config(None, env=TRADING_ENV)
    app = PolytermApp(
        lambda: console_session(config, ConsoleOptions(ledger=ledger)), venue="emulator"
    )
    async with app.run_test(size=SIZE) as pilot:
        status = await _status_until(pilot, env, "open_positions", 1)
        assert status["state"] == "running"
        assert status["ledger"] == str(ledger.resolve())
        hello_code, _, _ = await actl(["status"], env)
        assert hello_code == 0

        paused = await _ctl_json(env, "pause")
        assert paused["state"] == "paused"
        after_pause = time.time()
        await until(pilot, lambda: "PAUSED" in _header(app))
        await _status_until(pilot, env, "messages", paused["messages"] + 50)
        with sqlite3.connect(ledger) as db:
            (entries,) = db.execute(
                "SELECT count(*) FROM orders WHERE is_exit = 0 AND created_at > ?", (after_pause,)
            ).fetchone()
        assert entries == 0

        code, out, err = await actl(["flatten"], env)
        assert code == 0, err
        assert "would:" in out
        flat = await _ctl_json(env, "flatten", "--yes")
        assert_flat(flat, exact=True)

        await _ctl_json(env, "resume")
        await until(pilot, lambda: "RUNNING" in _header(app))
        await _status_until(pilot, env, "open_positions", 1)
        killed = await _ctl_json(env, "kill")
        assert killed["kill_switch"]["killed_by"] == "ctl"
        assert_flat(killed)
        if killed["open_positions"] > len(killed["command"]["left"]):
            # An entry resting when the kill came filled before its cancel landed: the
            # plan never saw that position (reported to the engine's owners). With the
            # switch latched nothing re-enters, so a flatten now closes it.
            assert_flat(await _ctl_json(env, "flatten", "--yes"), exact=True)
        await until(pilot, lambda: "KILLED" in _header(app))
        reset = await _ctl_json(env, "reset")
        assert reset["kill_switch"]["state"] == "armed"
        await until(pilot, lambda: "KILLED" not in _header(app))
        await pilot.press("q")
    assert list((tmp_path / "run").iterdir()) == []  # the socket went with the console

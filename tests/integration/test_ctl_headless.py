"""`polyterm ctl` against a running headless instance: real processes, the offline
emulator, a real ledger. Status, pause (entries stop), flatten (positions closed), kill,
reset; nothing running is exit 2 and one line."""

from __future__ import annotations

import json
import signal
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import pytest

from tests.kit.ctl import TRADING_ENV, assert_flat, ctl, ctl_json, wait_status
from tests.kit.process import POLYTERM, environ

pytestmark = pytest.mark.integration


def _start(tmp_path: Path, ledger: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    env = environ(tmp_path, POLYTERM_RUNTIME_DIR=str(tmp_path / "run"), **TRADING_ENV)
    proc = subprocess.Popen(
        [*POLYTERM, "--offline", "--no-ui", "--json", "--markets", "8", "--ledger", str(ledger)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A private umask would hide a socket created with the default mode.
        umask=0o022,
    )
    return proc, env


def _entries_after(ledger: Path, at: float) -> int:
    with sqlite3.connect(ledger) as db:
        (n,) = db.execute(
            "SELECT count(*) FROM orders WHERE is_exit = 0 AND created_at > ?", (at,)
        ).fetchone()
    return int(n)


def _held(ledger: Path) -> int:
    with sqlite3.connect(ledger) as db:
        (n,) = db.execute("SELECT count(*) FROM positions WHERE shares != 0").fetchone()
    return int(n)


def test_ctl_commands_a_running_headless_instance(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    proc, env = _start(tmp_path, ledger)

    def alive() -> str | None:
        if proc.poll() is None:
            return None
        return f"the instance exited {proc.returncode}: {proc.communicate()[1][-2000:]}"

    try:
        # status: the run summary's fields, once it holds something.
        status = wait_status(env, lambda s: s["open_positions"] >= 1, alive=alive)
        assert status["state"] == "running"
        assert status["ledger"] == str(ledger.resolve())
        sockets = list((tmp_path / "run").iterdir())
        assert len(sockets) == 1
        assert stat.S_IMODE(sockets[0].stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "run").stat().st_mode) == 0o700
        text = ctl(["status"], env)
        assert text.returncode == 0
        assert "state" in text.stdout
        assert "running" in text.stdout

        # pause: answered once applied; no entry order after it, while the engine runs on.
        paused = ctl_json(["pause"], env)
        assert paused["state"] == "paused"
        assert paused["command"]["name"] == "pause"
        after_pause = time.time()
        before = paused["messages"]
        later = wait_status(env, lambda s: s["messages"] > before + 50, alive=alive)
        assert later["state"] == "paused"
        assert _entries_after(ledger, after_pause) == 0

        # flatten without --yes: the preview only, nothing closed.
        preview = ctl(["flatten"], env)
        assert preview.returncode == 0, preview.stderr
        assert "would:" in preview.stdout
        assert "sell" in preview.stdout
        assert "polyterm ctl flatten --yes" in preview.stdout
        assert ctl_json(["status"], env)["open_positions"] >= 1

        # flatten --yes: positions closed (paused, so nothing re-enters).
        flat = ctl_json(["flatten", "--yes"], env)
        assert flat["command"]["preview"] is False
        assert_flat(flat, exact=True)
        assert _held(ledger) == len(flat["command"]["left"])

        # kill: the switch latched by ctl, everything flat; reset re-arms it.
        ctl_json(["resume"], env)
        wait_status(env, lambda s: s["open_positions"] >= 1, alive=alive)
        killed = ctl_json(["kill"], env)
        assert killed["kill_switch"]["state"] == "tripped"
        assert killed["kill_switch"]["killed_by"] == "ctl"
        assert_flat(killed)
        if killed["open_positions"] > len(killed["command"]["left"]):
            # An entry resting when the kill came filled before its cancel landed (see
            # the console's test): with the switch latched, a flatten closes it.
            assert_flat(ctl_json(["flatten", "--yes"], env), exact=True)
        with sqlite3.connect(ledger) as db:
            who = db.execute("SELECT who FROM kill_switch ORDER BY id DESC LIMIT 1").fetchone()
        assert who == ("ctl",)
        reset = ctl_json(["reset"], env)
        assert reset["kill_switch"]["state"] == "armed"
        assert reset["command"] == {"name": "reset", "kill_switch": "armed"}

        status = ctl_json(["status"], env)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    # `ctl status --json` has exactly the keys of the run's own --json summary.
    final = json.loads(out.strip().splitlines()[-1])
    assert set(status) == set(final)
    # The socket goes with its instance; then there is nothing to talk to.
    assert list((tmp_path / "run").iterdir()) == []
    gone = ctl(["status"], env)
    assert gone.returncode == 2
    assert gone.stderr.count("\n") == 1
    assert gone.stderr.startswith("polyterm: error: no polyterm instance is running")


def test_a_command_the_engine_refuses_is_one_line_and_exit_2(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    proc, env = _start(tmp_path, ledger)
    try:
        wait_status(env, lambda s: s["state"] == "running")
        bad = ctl(["flatten", "--scope", "everything"], env)
        assert bad.returncode == 2
        assert bad.stderr.count("\n") == 1
        assert "scope 'everything'" in bad.stderr
        assert "strategy:NAME" in bad.stderr
        # The instance is unharmed.
        assert ctl_json(["status"], env)["state"] == "running"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def _quiet_start(tmp_path: Path, ledger: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """A headless instance no strategy trades in: the person's orders are its only ones."""
    quiet = {
        f"STRATEGIES_{name}_ENABLED": "false"
        for name in (
            "MEAN_REVERSION",
            "MOMENTUM_SCALPING",
            "EVENT_DRIVEN",
            "MICRO_ARBITRAGE",
            "CROSS_MARKET_ARBITRAGE",
        )
    }
    env = environ(tmp_path, POLYTERM_RUNTIME_DIR=str(tmp_path / "run"), **quiet)
    proc = subprocess.Popen(
        [*POLYTERM, "--offline", "--no-ui", "--json", "--markets", "4", "--ledger", str(ledger)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, env


def _a_token(ledger: Path) -> str:
    with sqlite3.connect(ledger) as db:
        (tokens,) = db.execute("SELECT tokens_json FROM markets LIMIT 1").fetchone()
    return str(json.loads(tokens)[0][0])  # [[token, outcome], ...]


def test_ctl_cancel_all_through_a_named_socket_takes_every_resting_order_off(
    tmp_path: Path,
) -> None:
    ledger = tmp_path / "l.sqlite"
    proc, env = _quiet_start(tmp_path, ledger)
    try:
        wait_status(env, lambda s: s["state"] == "running" and s["books"] > 0)
        [socket_path] = (tmp_path / "run").iterdir()
        # Another runtime dir: nothing to find there, so only --socket reaches the instance.
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir(mode=0o700)
        other = {**env, "POLYTERM_RUNTIME_DIR": str(elsewhere)}
        lost = ctl(["status"], other)
        assert lost.returncode == 2
        assert lost.stderr.startswith("polyterm: error: no polyterm instance is running")
        named = ["--socket", str(socket_path)]
        assert ctl_json([*named, "status"], other)["state"] == "running"

        # Two buys far below the market rest on the book (post-only: they never take).
        token = _a_token(ledger)
        for price in ("0.02", "0.03"):
            rest = subprocess.run(
                [*POLYTERM, "order", "buy", token, "10", "--price", price, "--type", "GTC"]
                + ["--post-only", "--json", *named],
                capture_output=True,
                text=True,
                env=other,
                timeout=90,
                check=False,
            )
            assert rest.returncode == 0, rest.stderr
        resting = ctl_json([*named, "status"], other)
        assert resting["open_orders"] == 2

        done = ctl_json([*named, "cancel-all"], other)
        assert done["command"]["name"] == "cancel-all"
        assert len(done["command"]["cancels"]) == 2
        assert done["command"]["still_open"] == []
        assert done["open_orders"] == 0
        text = ctl([*named, "cancel-all"], other)  # nothing left: said plainly
        assert text.returncode == 0, text.stderr
        assert text.stdout.strip() == "cancelled 0 open orders"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    with sqlite3.connect(ledger) as db:
        rows = db.execute("SELECT status FROM orders WHERE strategy = 'manual'").fetchall()
    assert rows == [("cancelled",), ("cancelled",)]

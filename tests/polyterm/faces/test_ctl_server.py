"""The control server beside a live engine in this process: who may connect, what a bad
request gets, how `ctl` finds an instance among several and forgets dead ones."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from polyterm.faces import ctl_protocol as proto
from polyterm.faces.ctl_server import ControlServer
from tests.kit.ctl import actl, ctl
from tests.kit.live import running_engine, snapshot_where
from tests.kit.process import environ

pytestmark = pytest.mark.integration


def _env(tmp_path: Path) -> dict[str, str]:
    return environ(tmp_path, POLYTERM_RUNTIME_DIR=str(tmp_path / "run"))


async def _exchange(path: Path, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_unix_connection(path, limit=proto.MAX_LINE * 2)
    try:
        writer.write(payload)
        await writer.drain()
        async with asyncio.timeout(30):
            return await reader.readline()
    finally:
        writer.close()


async def test_ctl_asks_which_of_two_instances_and_finds_one_by_its_ledger(
    tmp_path: Path,
) -> None:
    env = _env(tmp_path)
    run_dir = tmp_path / "run"
    first, second = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    async with running_engine(first) as a, running_engine(second) as b:
        servers = [
            ControlServer(a.runner, first, "headless", directory=run_dir),
            ControlServer(b.runner, second, "console", directory=run_dir),
        ]
        for server in servers:
            await server.start()
        try:
            await snapshot_where(a, lambda s: s.state == "running")
            await snapshot_where(b, lambda s: s.state == "running")
            code, _out, err = await actl(["status"], env)
            assert code == 2
            assert err.count("\n") == 1
            assert "2 polyterm instances are running" in err
            assert str(first.resolve()) in err
            assert str(second.resolve()) in err
            assert "--ledger PATH" in err
            code, out, err = await actl(["status", "--json", "--ledger", str(second)], env)
            assert code == 0, err
            assert json.loads(out)["ledger"] == str(second.resolve())
            # The group's --ledger works too (before the command).
            code, out, err = await actl(["--ledger", str(first), "status", "--json"], env)
            assert code == 0, err
            assert json.loads(out)["ledger"] == str(first.resolve())
            code, _out, err = await actl(["status", "--ledger", str(tmp_path / "c.sqlite")], env)
            assert code == 2
            assert "no polyterm instance is running on ledger" in err
        finally:
            for server in servers:
                await server.close()


def test_a_socket_left_by_a_dead_instance_is_removed(tmp_path: Path) -> None:
    env = _env(tmp_path)
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o700)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    stale = run_dir / f"{'0' * 12}-{int(dead.stdout)}.sock"
    left = socket.socket(socket.AF_UNIX)
    left.bind(str(stale))  # bound and never unlinked: what kill -9 leaves behind
    left.close()
    done = ctl(["status"], env)
    assert done.returncode == 2
    assert done.stderr.startswith("polyterm: error: no polyterm instance is running")
    assert not stale.exists()


def test_a_socket_nobody_listens_on_is_removed_even_if_its_pid_lives_again(
    tmp_path: Path,
) -> None:
    """A pid is reused (and a killed process may linger as a zombie): the socket's name
    then says "alive". Nobody listening is what makes a socket stale; `ctl` used to
    answer "no polyterm instance answers" and, beside a live instance, ask which."""
    env = _env(tmp_path)
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o700)
    stale = run_dir / f"{'0' * 12}-{os.getpid()}.sock"  # a pid that is certainly alive
    left = socket.socket(socket.AF_UNIX)
    left.bind(str(stale))
    left.close()
    done = ctl(["status"], env)
    assert done.returncode == 2
    assert done.stderr.startswith("polyterm: error: no polyterm instance is running"), done.stderr
    assert not stale.exists()


async def test_the_socket_is_private_even_in_a_loose_directory(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o755)
    os.chmod(run_dir, 0o755)
    async with running_engine(tmp_path / "l.sqlite") as live:
        server = ControlServer(live.runner, tmp_path / "l.sqlite", "headless", directory=run_dir)
        path = await server.start()
        try:
            assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        finally:
            await server.close()
        assert not path.exists()


async def test_bad_requests_get_an_error_and_the_engine_goes_on(tmp_path: Path) -> None:
    async with running_engine(tmp_path / "l.sqlite") as live:
        server = ControlServer(
            live.runner, tmp_path / "l.sqlite", "headless", directory=tmp_path / "run"
        )
        path = await server.start()
        try:
            await snapshot_where(live, lambda s: s.state == "running")
            cases = [
                (b'{"v": 9, "cmd": "status"}\n', proto.WRONG_VERSION),
                (b'{"v": 1, "cmd": "launch"}\n', proto.UNKNOWN_COMMAND),
                (b'{"v": 1, "cmd": "order"}\n', proto.BAD_REQUEST),
                (b'{"v": 1, "cmd": "pause", "args": {"now": true}}\n', proto.BAD_REQUEST),
                (b"not json\n", proto.BAD_REQUEST),
                (b"x" * (proto.MAX_LINE + 10) + b"\n", proto.BAD_REQUEST),
            ]
            for payload, code in cases:
                answer = json.loads(await _exchange(path, payload))
                assert answer["ok"] is False
                assert answer["error"]["code"] == code
                assert answer["v"] == proto.VERSION
            status = json.loads(await _exchange(path, proto.Request("status", id="s").encode()))
            assert status["ok"] is True
            assert status["id"] == "s"
            assert status["result"]["state"] == "running"
        finally:
            await server.close()


@pytest.mark.skipif(
    os.geteuid() != 0 or not Path("/usr/bin/python3").exists(),
    reason="needs root (to connect as another user) and a system python3",
)
async def test_another_user_is_refused_by_peer_credentials(tmp_path: Path) -> None:
    # Outside pytest's private temp tree, so another user can reach it at all.
    run_dir = Path(tempfile.mkdtemp(prefix="polyterm-ctl-"))
    try:
        async with running_engine(tmp_path / "l.sqlite") as live:
            server = ControlServer(
                live.runner, tmp_path / "l.sqlite", "headless", directory=run_dir
            )
            path = await server.start()
            try:
                # Open the way on purpose (the directory and socket modes are the first
                # guard): what is left is the server's own check of who connected.
                os.chmod(run_dir, 0o711)
                os.chmod(path, 0o666)
                answer = await _as_nobody(path)
            finally:
                await server.close()
            assert answer["ok"] is False
            assert answer["error"]["code"] == proto.REFUSED
            assert "another user" in answer["error"]["message"]
            snap = live.runner.hub.latest
            assert snap is not None
            assert snap.kill_switch.state == "armed"
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


async def _as_nobody(path: Path) -> dict[str, object]:
    """Ask the socket at `path` for a kill, as user nobody (65534)."""
    client = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        f"s.connect({str(path)!r})\n"
        's.sendall(b\'{"v": 1, "cmd": "kill"}\\n\')\n'
        "sys.stdout.write(s.makefile().readline())\n"
    )
    proc = await asyncio.create_subprocess_exec(
        "/usr/bin/python3",
        "-c",
        client,
        user=65534,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd="/",
    )
    async with asyncio.timeout(30):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err
    answer = json.loads(out)
    assert isinstance(answer, dict)
    return answer


async def test_a_flatten_scope_that_names_nothing_here_is_refused(tmp_path: Path) -> None:
    """A typo in `ctl flatten --scope strategy:mean_reverson --yes` used to answer
    "flattened" having done nothing: in a hurry, a person reads that as done."""
    async with running_engine(tmp_path / "l.sqlite") as live:
        server = ControlServer(
            live.runner, tmp_path / "l.sqlite", "headless", directory=tmp_path / "run"
        )
        path = await server.start()
        try:
            snap = await snapshot_where(live, lambda s: s.state == "running" and s.markets)
            for scope in ("strategy:mean_reverson", "market:0xnot-a-market"):
                for yes in (False, True):
                    request = proto.Request("flatten", {"scope": scope, "yes": yes})
                    answer = json.loads(await _exchange(path, request.encode()))
                    assert answer["ok"] is False, answer
                    assert answer["error"]["code"] == proto.REFUSED
                    assert scope.partition(":")[2] in answer["error"]["message"]
            known = snap.markets[0].market
            request = proto.Request("flatten", {"scope": f"market:{known}"})
            answer = json.loads(await _exchange(path, request.encode()))
            assert answer["ok"] is True, answer
            assert answer["result"]["command"]["preview"] is True
        finally:
            await server.close()

"""sd_notify as systemd sees it: a real datagram socket standing in for systemd's, and a
real headless run (or a live engine in this process) talking to it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from polyterm.faces.systemd import Notifier, SystemdService
from tests.kit.live import running_engine, snapshot_where
from tests.kit.process import POLYTERM, environ


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.2)
    try:
        yield sock, str(path)
    finally:
        sock.close()


def _drain(sock: socket.socket, until: float) -> list[str]:
    lines: list[str] = []
    while time.monotonic() < until:
        try:
            lines.extend(sock.recv(4096).decode().splitlines())
        except TimeoutError:
            continue
    return lines


def test_the_abstract_namespace_and_a_foreign_watchdog_pid() -> None:
    name = f"polyterm-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        notifier = Notifier({"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "2000000"})
        assert notifier.watchdog_s == 2.0
        assert notifier.notify("READY=1", "STATUS=ok")
        assert sock.recv(100) == b"READY=1\nSTATUS=ok"
    foreign = Notifier(
        {"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid() + 1)}
    )
    assert foreign.watchdog_s is None  # the watchdog is another process's
    assert not Notifier({}).enabled
    assert not Notifier({}).notify("READY=1")


@pytest.mark.integration
def test_a_headless_run_is_ready_pings_its_watchdog_and_says_when_it_stops(
    tmp_path: Path, notify_socket: tuple[socket.socket, str]
) -> None:
    sock, path = notify_socket
    env = environ(tmp_path, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
    proc = subprocess.Popen(
        [*POLYTERM, "--no-ui", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and lines.count("WATCHDOG=1") < 3:
            assert proc.poll() is None, proc.communicate()[1]
            lines += _drain(sock, time.monotonic() + 0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert "READY=1" in lines
    status = next(line for line in lines if line.startswith("STATUS=running"))
    assert "feed ws_live" in status or "feed ws_initialising" in status
    assert lines.count("WATCHDOG=1") >= 3
    after = _drain(sock, time.monotonic() + 1.0)
    assert "STOPPING=1" in lines + after


@pytest.mark.integration
async def test_the_watchdog_goes_quiet_when_snapshots_stop(
    tmp_path: Path, notify_socket: tuple[socket.socket, str]
) -> None:
    sock, path = notify_socket
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})
    async with running_engine(tmp_path / "l.sqlite") as live:
        service = SystemdService(live.runner.hub, notifier, live.runner.clock)
        service.start()
        await snapshot_where(live, lambda s: s.state == "running")
        live.runner.stop()  # the engine stops publishing: as a stuck loop would
        async with asyncio.timeout(30):
            async for _ in live.runner.hub.subscribe():  # until the hub closes
                pass
        await asyncio.sleep(0.3)  # the last ping for the final snapshot may still come
        sock.setblocking(False)
        while True:
            try:
                sock.recv(4096)
            except BlockingIOError:
                break
        await asyncio.sleep(1.0)  # five watchdog intervals
        quiet: list[bytes] = []
        while True:
            try:
                quiet.append(sock.recv(4096))
            except BlockingIOError:
                break
        await service.close()
    assert b"WATCHDOG=1" not in b"".join(quiet)
    assert service.ready

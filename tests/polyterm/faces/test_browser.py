"""The browser face's gate, on real loopback HTTP, a server in a process of its own:
the printed URL opens the page with no prompt; a request without the token, from another
origin or for another host name is refused before textual-serve sees it (no console is
started); and SIGINT stops the server (130) even while a session refuses to quit."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from polyterm.faces.browser import GRACE_S, REFUSED_ORIGIN, REFUSED_TOKEN
from tests.kit.served import POLITE, STUBBORN, handshake, session_command

pytestmark = pytest.mark.integration


# The serve command's own shape: serve_console under run_command and stop_signals, in a
# process of its own, with a session that will not quit.
SERVER = """
import sys
from polyterm.cli.common import run_command, stop_signals
from polyterm.faces.browser import serve_console

async def main():
    with stop_signals() as stop:
        await serve_console(sys.argv[1], "127.0.0.1", int(sys.argv[2]), "tok-" + "x" * 40,
                            stop.wait, lambda url: print(url, file=sys.stderr, flush=True))
    return 0

sys.exit(run_command(main, 0))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served(
    command: str, signalled: bool = False, said: list[str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A server in its own process, as `polyterm serve` runs it: (its URL, the process).
    Stopped with SIGINT at the end (unless the test `signalled` it), which it must honour
    (130); what it wrote on stderr meanwhile goes to `said`."""
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, command, str(free_port())],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        # Under PYTHONASYNCIODEBUG (make test) a loaded box makes asyncio warn of slow
        # callbacks before the URL: the URL is the first line that is one.
        lines = []
        for _ in range(50):
            line = server.stderr.readline()
            lines.append(line)
            if not line or line.startswith("http"):
                break
        url = lines[-1].strip()
        assert url.startswith("http://127.0.0.1:"), "".join(lines)
        yield url, server
        if not signalled:
            server.send_signal(signal.SIGINT)
        _, errors = server.communicate(timeout=GRACE_S + 60)
        if said is not None:
            said.append(errors)
        assert server.returncode == 130, errors
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate(timeout=30)


def test_the_printed_url_opens_the_page_and_nothing_else_does() -> None:
    with served(session_command(POLITE)) as (url, _):
        asyncio.run(page_checks(url))


async def page_checks(url: str) -> None:
    assert url.startswith("http://127.0.0.1:")
    assert url.endswith("/tok-" + "x" * 40 + "/")
    origin = url.split("/tok-")[0]
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as page:
            assert page.status == 200
            body = await page.text()
            assert page.headers["Referrer-Policy"] == "no-referrer"
            assert page.headers["X-Frame-Options"] == "DENY"
        ws_url = url.replace("http://", "ws://") + "ws"
        assert f'data-session-websocket-url="{ws_url}"' in body
        for refused in (origin + "/", origin + "/ws", origin + "/tok-" + "y" * 40 + "/"):
            async with http.get(refused) as answer:
                assert answer.status == 403
                assert await answer.text() == REFUSED_TOKEN
        # A name an attacker's DNS points at 127.0.0.1 (rebinding) is not this host.
        async with http.get(url, headers={"Host": "evil.example:80"}) as answer:
            assert answer.status == 403


def test_odd_requests_are_refused_in_one_line_with_no_traceback() -> None:
    """A plain GET of the WebSocket's URL (with the token) and a request with no Host
    header at all (no token needed) used to print tracebacks on serve's stderr."""
    said: list[str] = []
    with served(session_command(POLITE), said=said) as (url, _):
        asyncio.run(odd_requests(url))
    assert "Traceback" not in said[0], said[0]


async def odd_requests(url: str) -> None:
    async with aiohttp.ClientSession() as http, http.get(url + "ws") as answer:
        assert answer.status == 400
        assert (await answer.text()).count("\n") == 1
    port = int(url.split(":")[2].split("/")[0])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\n\r\n")  # no Host header at all
    await writer.drain()
    async with asyncio.timeout(30):
        status = await reader.readline()
    writer.close()
    assert b" 400 " in status, status


async def test_on_port_80_a_host_without_the_port_is_this_host() -> None:
    """Browsers leave the default port out of Host: `serve --port 80` refused its own
    page as a foreign host."""
    from aiohttp import web

    from polyterm.faces.browser import build_app

    token = "tok-" + "x" * 40
    runner = web.AppRunner(await build_app(session_command(POLITE), "127.0.0.1", 80, token))
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()  # the port the Guard sees is 80
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/{token}/"
        async with aiohttp.ClientSession() as http:
            async with http.get(url, headers={"Host": "127.0.0.1"}) as page:
                assert page.status == 200
            async with http.get(url, headers={"Host": "evil.example"}) as page:
                assert page.status == 403
    finally:
        await runner.cleanup()


async def test_the_page_asks_nothing_of_another_host() -> None:
    """textual-serve's page linked a web font on Google's servers: each opening told a
    third party, and offline it waited on a host it could not reach."""
    from aiohttp import web

    from polyterm.faces.browser import build_app

    token = "tok-" + "x" * 40
    runner = web.AppRunner(await build_app(session_command(POLITE), "127.0.0.1", 0, token))
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        url = f"http://127.0.0.1:{port}/{token}/"
        async with (
            aiohttp.ClientSession() as http,
            http.get(url, headers={"Host": "127.0.0.1:0"}) as page,
        ):
            assert page.status == 200
            body = await page.text()
            policy = page.headers["Content-Security-Policy"]
    finally:
        await runner.cleanup()
    assert "textual.js" in body
    assert "googleapis" not in body
    assert "font-src 'self' data:" in policy


def test_cross_origin_and_tokenless_websockets_are_refused() -> None:
    with served(session_command(POLITE)) as (url, _):
        asyncio.run(websocket_checks(url))


async def websocket_checks(url: str) -> None:
    ws_url = url.replace("http://", "ws://") + "ws"
    origin = url.split("/tok-")[0]
    assert await handshake(ws_url, origin="http://evil.example") == 403
    assert await handshake(ws_url, origin="null") == 403
    assert await handshake(ws_url.replace("tok-", "tak-"), origin=origin) == 403
    assert await handshake(origin.replace("http", "ws") + "/ws", origin=origin) == 403
    # The page's own origin, with the token: the session opens.
    assert await handshake(ws_url, origin=origin) == 101
    async with (
        aiohttp.ClientSession() as http,
        http.get(ws_url, headers={"Origin": "http://evil.example"}) as answer,
    ):
        assert await answer.text() == REFUSED_ORIGIN


@pytest.mark.parametrize("interrupts", [1, 2])
def test_sigint_stops_the_server_while_a_session_will_not_quit(
    tmp_path: Path, interrupts: int
) -> None:
    """One Ctrl-C: the session's grace period, then it is killed; a second Ctrl-C during
    that grace period stops everything at once. Either way 130."""
    pid_file = tmp_path / "session.pid"
    try:
        with served(session_command(STUBBORN, pid_file), signalled=True) as (url, server):
            ws_url = url.replace("http://", "ws://") + "ws"
            asyncio.run(open_session(ws_url, pid_file, server, interrupts))
        # The session that would not quit was killed (reaped by init once the server is
        # gone, so it may take a moment to vanish).
        assert gone(int(pid_file.read_text()))
    finally:
        if pid_file.exists() and pid_file.read_text():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)


def gone(pid: int) -> bool:
    for _ in range(1500):  # 30 s at most
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z":  # dead, waiting for its parent to reap it
            return True
        time.sleep(0.02)
    return False


def wait_for_pid(pid_file: Path) -> None:
    for _ in range(3000):  # 60 s at most
        if pid_file.exists() and pid_file.read_text():
            return
        time.sleep(0.02)
    raise AssertionError("the session never started")


async def open_session(
    ws_url: str, pid_file: Path, server: subprocess.Popen[str], interrupts: int
) -> None:
    """Open a session, wait until its console runs, SIGINT the server while it is open."""
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(
            ws_url, headers={"Origin": ws_url.split("/tok-")[0].replace("ws", "http", 1)}
        )
        await asyncio.to_thread(wait_for_pid, pid_file)
        for _ in range(interrupts):
            server.send_signal(signal.SIGINT)
            await asyncio.sleep(0.5)
        async with asyncio.timeout(GRACE_S + 60):
            await ws.receive()  # the server closes it on its way out
        await ws.close()


# A server killed outright (kill -9) cannot kill its sessions: each watches its parent and
# stops itself, as on SIGTERM. Here: a "server" that starts a session and is killed.
SESSION = """
import os, signal, sys, time
from polyterm.faces.console import watch_server
signal.signal(signal.SIGTERM, lambda *_: (open(sys.argv[1], "w").write("SIGTERM"), os._exit(0)))
watch_server(str(os.getppid()), every_s=0.05)
print("watching", flush=True)
time.sleep(600)
"""
PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]], stdout=sys.stdout)
print(child.pid, flush=True)
time.sleep(600)
"""


def test_a_session_stops_itself_once_its_server_is_killed(tmp_path: Path) -> None:
    stopped = tmp_path / "stopped"
    child: int | None = None
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, SESSION, str(stopped)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert parent.stdout.readline().strip() == "watching"
        parent.kill()
        parent.communicate(timeout=30)
        for _ in range(1500):  # 30 s at most
            if stopped.exists() and stopped.read_text():
                break
            time.sleep(0.02)
        assert stopped.read_text() == "SIGTERM"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.communicate(timeout=30)
        if child is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)

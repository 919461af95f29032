"""`polyterm serve` in a real browser: headless Chromium loads the URL it printed (which
carries the access token), the console renders in it (read back from the page's own
terminal), and a key typed into the page reaches the engine; a WebSocket from another
origin, or without the token, is refused; SIGINT stops it all (130)."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kit.cdp import chromium_page
from tests.kit.process import environ
from tests.kit.programs import need
from tests.kit.served import handshake

pytestmark = pytest.mark.integration

PRICE = re.compile(r"\d+\.\d¢\s+\d+\.\d¢")
SERVING = re.compile(r"polyterm serve: (http://127\.0\.0\.1:(\d+)/([\w-]{40,})/) \(Ctrl-C stops\)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_shows_the_console_in_chromium(tmp_path: Path) -> None:
    need("chromium")
    port = free_port()
    env = environ(tmp_path, POLYTERM_LOG_DIR=str(tmp_path / "log"))
    server = subprocess.Popen(
        [sys.executable, "-m", "polyterm", "serve", "--port", str(port), "--markets", "4"]
        + ["--ledger", str(tmp_path / "l.sqlite")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        printed = SERVING.fullmatch(line.strip())
        assert printed is not None, line
        url, printed_port, token = printed.groups()
        assert int(printed_port) == port
        origin = f"http://127.0.0.1:{port}"
        ws_url = f"ws://127.0.0.1:{port}/{token}/ws"
        # Refused before any console starts: another origin, or no token.
        assert asyncio.run(handshake(ws_url, origin="http://evil.example")) == 403
        assert asyncio.run(handshake(f"ws://127.0.0.1:{port}/ws", origin=origin)) == 403
        with chromium_page(f"{url}?fontsize=12") as page:
            screen = page.wait_for_screen("PAPER", "offline emulator", "RUNNING")
            screen = page.wait_for_screen("¢")
            assert PRICE.search(screen), screen
            page.press("p")
            page.wait_for_screen("PAUSED")
            page.screenshot(tmp_path / "browser.png")
            assert (tmp_path / "browser.png").stat().st_size > 10_000
    finally:
        server.send_signal(signal.SIGINT)
        try:
            _, errors = server.communicate(timeout=30)  # also closes the pipes
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate(timeout=10)
            raise
    assert server.returncode == 130, errors

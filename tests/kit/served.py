"""Stand-ins for the console process ``polyterm serve`` starts per browser session, and
a WebSocket handshake as a browser (or a hostile page) would make it.

A session speaks textual-serve's side of the protocol: it prints ``__GANGLION__`` and
then reads length-prefixed packets from stdin. The polite one quits on the server's
``quit``; the stubborn one ignores it and every signal but SIGKILL (a console stuck in
its shutdown), and writes its pid where the test can find it to clean up.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import aiohttp

POLITE = r"""
import json, sys
out = sys.stdout.buffer
out.write(b"__GANGLION__\n"); out.flush()
inp = sys.stdin.buffer
while True:
    head = inp.read(5)
    if len(head) < 5:
        break
    body = inp.read(int.from_bytes(head[1:], "big"))
    if head[:1] == b"M" and json.loads(body).get("type") == "quit":
        meta = json.dumps({"type": "exit"}).encode()
        out.write(b"M" + len(meta).to_bytes(4, "big") + meta); out.flush()
        break
"""

STUBBORN = r"""
import os, signal, sys, time
for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(sig, signal.SIG_IGN)
open(sys.argv[1], "w").write(str(os.getpid()))
sys.stdout.buffer.write(b"__GANGLION__\n"); sys.stdout.flush()
time.sleep(600)
"""


def session_command(program: str, *args: Path) -> str:
    # exec: the session is the server's own child, as `polyterm serve` makes its consoles.
    return "exec " + shlex.join([sys.executable, "-c", program, *map(str, args)])


async def handshake(url: str, origin: str | None = None) -> int:
    """The HTTP status a WebSocket handshake to `url` gets (101: opened, then closed)."""
    headers = {"Origin": origin} if origin is not None else {}
    async with aiohttp.ClientSession() as http:
        try:
            ws = await http.ws_connect(url, headers=headers, autoping=False)
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status
        await ws.close()
        return 101

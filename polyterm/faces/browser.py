"""The browser face: the console served through textual-serve, behind an access token.

textual-serve's own application (the page, its WebSocket, static files, downloads) is
mounted whole under a secret prefix, ``/<token>/``: the URL ``polyterm serve`` prints is
the only way in. One middleware in front of it refuses, with 403 and one line, anything
else:

- a path without the token (compared in constant time);
- a request from another origin: a browser names the page that opened a WebSocket in
  its ``Origin`` header, so a page elsewhere that guessed the URL is still refused;
- on a loopback bind, a ``Host`` that is not this machine (DNS rebinding).

The page asks nothing of another host: textual-serve's template links a web font from
Google, which would tell a third party each time the console is opened (and fails
offline); the link is taken out and the page's policy allows fonts from itself only.

Each browser session runs its own console process. Stopping (SIGINT/SIGTERM) gives the
sessions ``GRACE_S`` to quit, then kills the ones that did not and goes: a session that
will not quit can never keep the server from stopping. (A session also stops itself once
it sees its server gone, should the server be killed outright.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from aiohttp import web

from engine.adapters.net.loopback import is_loopback_host

log = logging.getLogger("polyterm.serve")

GRACE_S = 3.0  # how long sessions get to quit once the server is stopping
# Set in every session's environment: the pid of the server that started it (see
# watch_server in polyterm.faces.console).
SERVED_BY = "POLYTERM_SERVED_BY"
REFUSED_TOKEN = (
    "polyterm serve: open the URL `polyterm serve` printed (it carries the access token)\n"
)
REFUSED_ORIGIN = "polyterm serve: cross-origin request refused\n"
REFUSED_HOST = "polyterm serve: unexpected Host header refused\n"
REFUSED_PLAIN = "polyterm serve: this URL is the console's WebSocket: open the page instead\n"
WEBSOCKET_PATH = "/ws"  # textual-serve's route for a session's WebSocket

# textual-serve's page links a font on fonts.googleapis.com.
_REMOTE_FONT = re.compile(rb"<link[^>]*//fonts\.(?:googleapis|gstatic)\.com[^>]*>\s*")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def url_host(host: str) -> str:
    """`host` as it goes in a URL (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def served_url(host: str, port: int, token: str) -> str:
    return f"http://{url_host(host)}:{port}/{token}/"


class Guard:
    """The checks every request passes before textual-serve sees it."""

    def __init__(self, token: str, host: str, port: int) -> None:
        self._token = token.encode()
        self._port = port
        # On loopback, only this machine's own names reach it; a name an attacker's DNS
        # points here (rebinding) is refused. Beyond loopback the user chose to be reached
        # by whatever name the network gives, so only token and origin are checked.
        self._hosts: frozenset[str] | None = None
        if is_loopback_host(host):
            names = {"127.0.0.1", "localhost", "[::1]", url_host(host).lower()}
            hosts = {f"{name}:{port}" for name in names}
            if port == 80:  # a browser leaves the scheme's default port out of Host
                hosts |= names
            self._hosts = frozenset(hosts)

    @web.middleware
    async def check(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self._hosts is not None and request.host.lower() not in self._hosts:
            raise web.HTTPForbidden(text=REFUSED_HOST)
        first = request.path.split("/", 2)[1] if request.path.count("/") >= 2 else ""
        if not secrets.compare_digest(first.encode(), self._token):
            raise web.HTTPForbidden(text=REFUSED_TOKEN)
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() != f"{request.scheme}://{request.host}".lower():
            raise web.HTTPForbidden(text=REFUSED_ORIGIN)
        if request.path == f"/{first}{WEBSOCKET_PATH}" and not _upgrade(request):
            # textual-serve would fail the handshake with two tracebacks on our stderr.
            raise web.HTTPBadRequest(text=REFUSED_PLAIN)
        response = await handler(request)
        if not response.prepared:  # a WebSocket has sent its headers already
            # The token is in the page's URL: never in a Referer, never framed elsewhere.
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Content-Security-Policy"] = (
                "frame-ancestors 'none'; font-src 'self' data:"
            )
            response.headers["Cache-Control"] = "no-store"
            if isinstance(response, web.Response) and response.content_type == "text/html":
                body = response.body
                if isinstance(body, bytes):
                    response.body = _REMOTE_FONT.sub(b"", body)
        return response


def _upgrade(request: web.Request) -> bool:
    """Whether `request` asks for a WebSocket (what textual-serve's handshake needs)."""
    return bool(web.WebSocketResponse().can_prepare(request))


class _QuietBadRequests(logging.Filter):
    """aiohttp logs a request it cannot parse (no Host header, a broken request line) at
    ERROR with its traceback, before any check of ours can run, and any local process can
    send one: such a record becomes one debug line."""

    def filter(self, record: logging.LogRecord) -> bool:
        from aiohttp.http_exceptions import HttpProcessingError

        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            record.msg = "refused a malformed request (%s)"
            record.args = (" ".join(str(error.message).split()),)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


@contextlib.contextmanager
def _quiet_bad_requests() -> Iterator[None]:
    server_log = logging.getLogger("aiohttp.server")
    quiet = _QuietBadRequests()
    server_log.addFilter(quiet)
    try:
        yield
    finally:
        server_log.removeFilter(quiet)


async def build_app(command: str, host: str, port: int, token: str) -> web.Application:
    """textual-serve's application for `command`, under ``/<token>/``, behind the guard."""
    from textual_serve.server import Server

    # The URLs the page is given (its WebSocket, its static files) are this origin plus
    # the router's paths, which carry the prefix.
    server = Server(
        command,
        host=host,
        port=port,
        title="polyterm",
        public_url=f"http://{url_host(host)}:{port}",
    )
    inner = await server._make_app()
    inner.on_startup.clear()  # textual-serve's banner: we print our own line
    root = web.Application(middlewares=[Guard(token, host, port).check])
    root.add_subapp(f"/{token}", inner)
    return root


async def serve_console(
    command: str,
    host: str,
    port: int,
    token: str,
    stopped: Callable[[], Awaitable[None]],
    on_ready: Callable[[str], None],
) -> None:
    """Serve until `stopped()` returns, then stop within about ``GRACE_S`` seconds."""
    os.environ[SERVED_BY] = str(os.getpid())  # each session's environment copies ours
    app = await build_app(command, host, port, token)
    # No access log: every request line carries the token.
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=GRACE_S)
    await runner.setup()
    with _quiet_bad_requests():
        try:
            site = web.TCPSite(runner, host, port)
            try:
                await site.start()
            except OSError as exc:
                raise OSError(
                    f"cannot serve on {host}:{port}: {exc.strerror or exc} (pick another --port)"
                ) from exc
            on_ready(served_url(host, port, token))
            await stopped()
        finally:
            await _shut_down(runner)


async def _shut_down(runner: web.AppRunner) -> None:
    """Stop serving; sessions get ``GRACE_S`` to quit (textual-serve asks each), then
    the ones still running are killed, so the server's own stop is never held up. A
    second Ctrl-C meanwhile stops at once."""
    with _second_interrupt_exits():
        cleanup = asyncio.ensure_future(runner.cleanup())
        done, _ = await asyncio.wait({cleanup}, timeout=GRACE_S + 1.0)
        if done:
            return
        stuck = kill_sessions()
        log.warning("%d console session(s) did not quit in time: killed", len(stuck))
        done, _ = await asyncio.wait({cleanup}, timeout=2.0)  # their pipes close: handlers end
        if not done:
            cleanup.cancel()


@contextlib.contextmanager
def _second_interrupt_exits() -> Iterator[None]:
    """While shutting down, SIGINT kills the sessions and exits 130 there and then (an
    orderly exit would wait out aiohttp's closing handshakes, ten seconds each)."""

    def now(signum: int, frame: object) -> None:
        kill_sessions()
        sys.stderr.flush()
        os._exit(128 + signum)

    try:
        previous = signal.signal(signal.SIGINT, now)
    except ValueError:  # not the main thread (an embedding test): nothing to replace
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


def kill_sessions() -> list[int]:
    """SIGKILL this server's session processes still alive; returns their pids. Found
    through /proc (Linux); elsewhere none are, and each session stops itself once it
    sees its server gone."""
    me = str(os.getpid())
    marker = f"{SERVED_BY}={me}".encode()
    killed = []
    for children in Path(f"/proc/{me}/task").glob("*/children"):
        try:
            pids = children.read_text().split()
        except OSError:
            continue
        for pid in pids:
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if marker in environ:  # ours: started by textual-serve for a session
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
                    killed.append(int(pid))
    return killed

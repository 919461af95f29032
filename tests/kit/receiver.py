"""A real HTTP server on loopback that records what is POSTed to it: the far end of a
webhook or of Telegram's Bot API, for alert tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str = ""
    posts: list[Received] = field(default_factory=list)
    status: int = 200  # what every POST is answered with
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def on(self, prefix: str) -> list[Received]:
        return [p for p in self.posts if p.path.startswith(prefix)]

    async def until(self, predicate: Callable[[Receiver], bool], within: float = 30.0) -> None:
        async with asyncio.timeout(within):
            while not predicate(self):
                self.arrived.clear()
                await self.arrived.wait()


@contextlib.asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()

    async def record(request: web.Request) -> web.Response:
        rec.posts.append(Received(request.path, dict(request.headers), await request.read()))
        rec.arrived.set()
        return web.json_response({"ok": rec.status < 400}, status=rec.status)

    app = web.Application()
    app.router.add_post("/{tail:.*}", record)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    rec.url = f"http://127.0.0.1:{port}"
    try:
        yield rec
    finally:
        await runner.cleanup()

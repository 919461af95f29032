"""A paced HTTP client for venue REST calls.

Every request goes through a concurrency cap, the venue's published per-endpoint limits
(sliding 10 s windows per endpoint and per host, see :class:`WindowLimiter`), an optional
overall token bucket of our own and, on 429, 5xx or a transport error, retries with
jittered exponential backoff (honouring Retry-After). Latency and error counts land in
the feed's health record. In offline mode a request to anything but loopback is refused
before it is sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec

from engine.adapters.net.loopback import ensure_loopback
from engine.adapters.net.pacing import Backoff, RateLimiter, WindowLimiter
from engine.clock import Clock
from engine.market.health import FeedHealth

log = logging.getLogger("engine.adapters.http")


class VenueError(Exception):
    """A request failed for good (after retries, or a 4xx that retrying cannot fix).
    ``unreachable``: no connection could be made to a host never reached before (no
    network, a wrong URL): retrying would only make the user wait."""

    def __init__(self, message: str, status: int | None = None, unreachable: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.unreachable = unreachable


class PacedHttp:
    def __init__(
        self,
        clock: Clock,
        health: FeedHealth,
        *,
        max_concurrency: int = 4,
        limits: Mapping[str, int] | None = None,
        hosts: Mapping[str, str] | None = None,
        rate_per_s: float | None = None,
        burst: int = 8,
        timeout_s: float = 10.0,
        max_retries: int = 4,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        offline: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._clock = clock
        self._health = health
        self._sem = asyncio.Semaphore(max_concurrency)
        self._windows = WindowLimiter(clock, limits or {})
        # Base URL -> host key of the limits table ("CLOB", "GAMMA"), longest first so
        # the emulator's /gamma under the CLOB base is told apart.
        self._hosts = sorted(
            ((url.rstrip("/"), name) for name, url in (hosts or {}).items()),
            key=lambda item: -len(item[0]),
        )
        self._bucket = RateLimiter(clock, rate_per_s, burst) if rate_per_s else None
        self._max_retries = max_retries
        self._backoff_base = backoff_base_s
        self._backoff_cap = backoff_cap_s
        self._offline = offline
        # Hosts that have answered once. Until a host has, a failure to connect is not
        # retried: at start-up with no network the run fails in a moment, naming it,
        # instead of after every backoff; once it has answered, outages are retried.
        self._reached: set[str] = set()
        hooks = {"request": [self._guard]} if offline else {}
        self._client = httpx.AsyncClient(
            timeout=timeout_s,
            event_hooks=hooks,
            transport=transport,
            headers={"User-Agent": "polyterm/0.1"},
            trust_env=not offline,  # offline ignores proxy variables: nothing leaves loopback
        )

    async def _guard(self, request: httpx.Request) -> None:
        ensure_loopback(str(request.url), "request")

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get_json(self, url: str, params: dict[str, Any] | None = None) -> Any:
        return msgspec.json.decode(await self.request("GET", url, params=params))

    async def post_json(self, url: str, body: Any) -> Any:
        return msgspec.json.decode(await self.request("POST", url, json_body=body))

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
    ) -> bytes:
        """Send with pacing and retries; returns the body bytes of a 2xx answer."""
        if self._offline:
            ensure_loopback(url, "request")
        backoff = Backoff(self._backoff_base, self._backoff_cap)
        content = msgspec.json.encode(json_body) if json_body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else None
        keys = self._limit_keys(method, url)
        last_error = ""
        for attempt in range(self._max_retries + 1):
            body, last_error, retry_after = await self._send(
                keys, method, url, params, content, headers
            )
            if body is not None:
                return body
            if attempt == self._max_retries:
                break
            delay = backoff.next_delay()
            if retry_after is not None:
                delay = max(delay, retry_after)
            log.debug(
                "%s %s failed (%s); retry %d in %.2fs", method, url, last_error, attempt + 1, delay
            )
            await self._clock.sleep(delay)
        raise VenueError(f"{method} {httpx.URL(url).path} failed after retries: {last_error}")

    async def _send(
        self,
        keys: tuple[str, ...],
        method: str,
        url: str,
        params: dict[str, Any] | None,
        content: bytes | None,
        headers: dict[str, str] | None,
    ) -> tuple[bytes | None, str, float | None]:
        """One attempt, paced by the windows of `keys`: (the body of a 2xx answer, "",
        None), or (None, what went wrong, the Retry-After it asked for) when it is worth
        retrying; raises VenueError on an answer no retry will change."""
        health = self._health
        windows = self._windows
        await windows.admit(keys)
        unanswered = False  # sent, no answer yet: it may still reach the venue and count
        try:
            if self._bucket is not None:
                await self._bucket.acquire()
            async with self._sem:
                started = self._clock.monotonic()
                health.rest_requests += 1
                unanswered = True
                try:
                    response = await self._client.request(
                        method, url, params=params, content=content, headers=headers
                    )
                except httpx.TransportError as exc:
                    health.rest_errors += 1
                    error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                    host = httpx.URL(url).host
                    if isinstance(exc, httpx.ConnectError) and host not in self._reached:
                        raise VenueError(
                            f"cannot reach {host} ({exc or type(exc).__name__})",
                            unreachable=True,
                        ) from exc
                    return None, error, None
                unanswered = False
                self._reached.add(httpx.URL(url).host)
                health.record_latency((self._clock.monotonic() - started) * 1000)
        finally:
            windows.done(keys, unanswered=unanswered)
        status = response.status_code
        if status < 400:
            return response.content, "", None
        if status == 429:
            health.rest_429 += 1
        elif status >= 500:
            health.rest_5xx += 1
        else:
            health.rest_errors += 1
            path = httpx.URL(url).path
            raise VenueError(f"{method} {path} answered {status}: {response.text[:160]}", status)
        return None, f"HTTP {status}", _retry_after(response)

    def _limit_keys(self, method: str, url: str) -> tuple[str, ...]:
        for base, host in self._hosts:
            if url == base or url.startswith(base + "/") or url.startswith(base + "?"):
                path = urlsplit(url[len(base) :] or "/").path or "/"
                return self._windows.keys_for(host, method, path)
        return self._windows.keys_for("CLOB", method, urlsplit(url).path or "/")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return min(float(value), 60.0)
    except ValueError:
        return None

"""HTTP for headline providers: httpx, a rate limit (aiolimiter), retries with jittered
exponential backoff (tenacity) that honour a 429's Retry-After, and the provider's status
kept current on the way.

Waits between retries go through the Clock port (tenacity's `sleep` hook). Every error
message is one line with secrets redacted: a provider's key never reaches a log, the
status or the snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import msgspec
from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from engine.adapters.net.loopback import OfflineViolation, ensure_loopback
from engine.clock import Clock
from engine.market.sentiment import ProviderStatus

log = logging.getLogger("engine.adapters.news")


class ProviderError(Exception):
    """A poll failed; the message is one line, safe to show."""


class TransientError(ProviderError):
    """Worth retrying: 429, 5xx, a timeout, a dropped connection."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MalformedAnswer(ProviderError):
    """The provider answered 2xx with something that is not the documented shape."""


@dataclass(frozen=True, slots=True)
class HttpSettings:
    timeout_s: float = 10.0
    requests_per_minute: float = 10.0
    max_attempts: int = 3
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    retry_after_cap_s: float = 120.0
    proxy: str | None = None  # e.g. PROXY_URL when PROXY_ENABLED=true
    offline: bool = False  # refuse anything but loopback


def redact(text: str, secrets: Sequence[str]) -> str:
    """`text` on one line with every secret replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return " ".join(text.split())


class NewsHttp:
    """One provider's HTTP client. Counts every request, 429, error and timeout in
    `status`; sets it to "backoff" while waiting to retry."""

    def __init__(
        self,
        clock: Clock,
        status: ProviderStatus,
        settings: HttpSettings,
        *,
        headers: Mapping[str, str] | None = None,
        secrets: Sequence[str] = (),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._clock = clock
        self.status = status
        self.settings = settings
        self._secrets = tuple(s for s in secrets if s)
        # Rate limit over a minute: NewsAPI and X meter per day / per 15 minutes, so a
        # steady pace matters more than bursts.
        self._limiter = AsyncLimiter(settings.requests_per_minute, 60.0)
        hooks = {"request": [self._guard]} if settings.offline else {}
        self._client = httpx.AsyncClient(
            timeout=settings.timeout_s,
            headers={"User-Agent": "polyterm/0.1", **(headers or {})},
            event_hooks=hooks,
            transport=transport,
            proxy=None if settings.offline else settings.proxy,
            # Only PROXY_URL decides about proxies (ambient *_PROXY variables do not), and
            # offline nothing leaves loopback.
            trust_env=False,
        )
        # Exponential from backoff_initial_s, capped, plus jitter up to one initial step so
        # several clients never retry in lockstep.
        self._backoff = wait_exponential(
            multiplier=settings.backoff_initial_s, max=settings.backoff_max_s
        ) + wait_random(0, settings.backoff_initial_s)

    async def _guard(self, request: httpx.Request) -> None:
        ensure_loopback(str(request.url), "news request")

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get_json(self, url: str, params: Mapping[str, str | int]) -> Any:
        """GET with the rate limit and retries; the decoded JSON of a 2xx answer."""
        if self.settings.offline:
            try:
                ensure_loopback(url, "news request")
            except OfflineViolation as exc:
                self.status.errors += 1
                raise ProviderError(str(exc)) from None
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(TransientError),
            sleep=self._clock.sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        body = b""
        async for attempt in retrying:
            with attempt:
                body = await self._once(url, params)
        try:
            return msgspec.json.decode(body)
        except msgspec.DecodeError as exc:
            self.status.malformed += 1
            self.status.errors += 1
            raise MalformedAnswer(
                f"malformed answer from {httpx.URL(url).path}: {redact(str(exc), self._secrets)}"
            ) from None

    async def _once(self, url: str, params: Mapping[str, str | int]) -> bytes:
        status = self.status
        async with self._limiter:
            status.requests += 1
            status.last_fetch_at = self._clock.time()
            try:
                response = await self._client.get(url, params=dict(params))
            except httpx.TimeoutException:
                status.timeouts += 1
                status.errors += 1
                raise TransientError(
                    f"timeout: no answer within {self.settings.timeout_s:g}s"
                ) from None
            except httpx.TransportError as exc:
                status.errors += 1
                raise TransientError(
                    redact(f"{type(exc).__name__}: {exc}", self._secrets)
                ) from None
        code = response.status_code
        if code < 300:
            return response.content
        what = f"HTTP {code} from {response.url.path}"
        if code == 429:
            status.rate_limited += 1
            raise TransientError(
                f"{what} (rate limited)", retry_after(response, self._clock.time())
            )
        status.errors += 1
        if code >= 500:
            raise TransientError(what)
        raise ProviderError(redact(f"{what}: {_error_text(response)}", self._secrets))

    def _wait(self, state: RetryCallState) -> float:
        delay = float(self._backoff(state))
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            # Retry-After is the server's word: never retry sooner (up to the cap).
            delay = max(delay, min(exc.retry_after, self.settings.retry_after_cap_s))
        return delay

    def _before_sleep(self, state: RetryCallState) -> None:
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        self.status.state = "backoff"
        self.status.last_error = str(exc) if exc is not None else ""
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        log.info(
            "%s: %s; retry %d in %.2fs",
            self.status.provider,
            self.status.last_error,
            state.attempt_number,
            wait,
        )


def retry_after(response: httpx.Response, now: float) -> float | None:
    """Seconds the server asks us to wait: Retry-After (seconds, or an HTTP-date as RFC
    9110 allows), or X's x-rate-limit-reset (the epoch second its window ends); None when
    it says neither."""
    value = response.headers.get("Retry-After")
    if value is not None:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT
            when = when.replace(tzinfo=UTC)
        return max(0.0, when.timestamp() - now)
    reset = response.headers.get("x-rate-limit-reset")
    if reset is not None:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return None
    return None


def _error_text(response: httpx.Response) -> str:
    """The provider's own one-line reason (NewsAPI: message, X: detail), else the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:160]
    if isinstance(body, dict):
        for key in ("message", "detail", "title", "error"):
            if isinstance(body.get(key), str):
                return str(body[key])[:160]
    return response.text[:160]

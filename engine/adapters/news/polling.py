"""The poll loop every headline provider shares (the SentimentSource port's `run`).

A poll that fails for good (retries spent, a 4xx, a malformed answer) never ends the
run: the status says what happened and the next poll waits longer (the poll interval
doubled per consecutive failure, capped), and never less than a rate limit's Retry-After
asked for. Only new headlines reach the sink, oldest first.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod

from engine.adapters.news.dedupe import SeenCache
from engine.adapters.news.http import ProviderError, TransientError
from engine.clock import Clock
from engine.market.sentiment import Headline, ProviderStatus
from engine.ports import HeadlineSink

log = logging.getLogger("engine.adapters.news")

DELIVERY_BATCH = 50  # headlines handed to the sink at once


class PollingSource(ABC):
    def __init__(
        self,
        clock: Clock,
        status: ProviderStatus,
        *,
        poll_interval_s: float,
        error_backoff_cap_s: float,
        seen: SeenCache,
    ) -> None:
        self.clock = clock
        self.status = status
        self.poll_interval_s = poll_interval_s
        self.error_backoff_cap_s = max(error_backoff_cap_s, poll_interval_s)
        self.seen = seen
        self.failures = 0  # consecutive failed polls

    @abstractmethod
    async def poll(self) -> list[Headline]:
        """One fetch: the provider's current headlines (duplicates are filtered later).
        Raises ProviderError for trouble the status should show."""

    async def aclose(self) -> None:  # noqa: B027 - a file source holds no connection
        """Release the provider's connections."""

    async def poll_once(self, sink: HeadlineSink) -> float:
        """Poll, deliver what is new, update the status; returns the delay to the next."""
        status = self.status
        try:
            headlines = await self.poll()
        except ProviderError as exc:
            self.failures += 1
            status.state = "error"
            status.last_error = str(exc)
            delay = min(
                self.error_backoff_cap_s, self.poll_interval_s * 2.0 ** min(self.failures, 16)
            )
            if isinstance(exc, TransientError) and exc.retry_after is not None:
                # The server's word outlasts this poll's retries (capped there): a quota
                # that says "come back in ten minutes" is not asked again sooner.
                delay = max(delay, exc.retry_after)
            log.warning("%s: %s; next poll in %.1fs", status.provider, exc, delay)
            return delay
        self.failures = 0
        status.state = "ok"
        status.last_success_at = self.clock.time()
        headlines.sort(key=lambda h: h.published_at)
        fresh = self.seen.fresh(headlines)
        if fresh:
            status.headlines_seen += len(fresh)
            # The sink scores on the engine's loop: a backlog goes in bounded batches with
            # a yield between them, so frames and orders never wait behind it.
            for start in range(0, len(fresh), DELIVERY_BATCH):
                if start:
                    await self.clock.sleep(0)
                sink.on_headlines(fresh[start : start + DELIVERY_BATCH])
        return self.poll_interval_s

    async def run(self, sink: HeadlineSink) -> None:
        try:
            while True:
                await self.clock.sleep(await self.poll_once(sink))
        finally:
            await self.aclose()

"""The source used when no provider is usable: it delivers nothing and its status says
why (e.g. "no NEWSAPI_KEY, no TWITTER_BEARER_TOKEN, no sentiment.jsonl_path")."""

from __future__ import annotations

import asyncio

from engine.market.sentiment import ProviderStatus
from engine.ports import HeadlineSink


class DisabledSource:
    def __init__(self, reason: str, provider: str = "none") -> None:
        self.status = ProviderStatus(provider, state="disabled", fallback=reason)

    async def run(self, sink: HeadlineSink) -> None:
        # Nothing to poll: wait to be cancelled, like every other source.
        await asyncio.Event().wait()

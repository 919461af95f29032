"""Polling: a provider's rate-limit answers carried over to the poll loop, and a backlog
delivered to the engine in bounded batches (old headlines skipped before any scoring)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import httpx

from engine.adapters.news import HttpSettings, JsonlSource, NewsApiSource, NewsHttp, SeenCache
from engine.adapters.news.polling import DELIVERY_BATCH
from engine.config.sentiment import SentimentQuery
from engine.market.sentiment import Headline, ProviderStatus
from tests.kit.clock import FakeClock
from tests.kit.engine import T0, open_rig


class Sink:
    def on_headlines(self, headlines: Sequence[Headline]) -> None:
        pass


async def test_the_next_poll_waits_out_a_retry_after_longer_than_the_cap(
    fake_clock: FakeClock,
) -> None:
    """NewsAPI rate-limits per day: a 429 that says "come back in 10 minutes" is followed,
    once the in-poll retries (capped at retry_after_cap_s) are spent, by the next poll at
    poll_interval x 2: the server's word is not carried over to the poll loop."""
    asked: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(fake_clock.now)
        return httpx.Response(429, headers={"Retry-After": "600"}, json={"status": "error"})

    status = ProviderStatus("newsapi")
    http = NewsHttp(
        fake_clock,
        status,
        HttpSettings(
            max_attempts=2, backoff_initial_s=0.01, backoff_max_s=0.05, retry_after_cap_s=5.0
        ),
        transport=httpx.MockTransport(answer),
    )
    src = NewsApiSource(
        fake_clock,
        http,
        "https://newsapi.invalid",
        SentimentQuery(),
        poll_interval_s=30.0,
        error_backoff_cap_s=900.0,
        seen=SeenCache(fake_clock),
    )
    try:
        delay = await src.poll_once(Sink())
        fake_clock.now += delay
        await src.poll_once(Sink())
    finally:
        await src.aclose()
    gap = asked[2] - asked[1]  # from the last 429 to the next request
    assert gap >= 600.0, f"asked again {gap:.0f}s after a 429 that said 600s"


async def test_a_backlog_reaches_the_engine_in_batches_and_old_headlines_cost_nothing(
    tmp_path: Path,
) -> None:
    """Reproduced: a JSONL backlog (up to 1 MiB a poll, ~3,700 headlines) went to the sink
    in one call, and the core scored every headline with VADER on the event loop, even a
    year-old archive that can move no reading: one poll held the loop for ~0.7 s. Now a
    poll delivers in bounded batches with a yield between them, and a headline older
    than sentiment.max_age_seconds is skipped before any scoring."""
    path = tmp_path / "headlines.jsonl"
    with path.open("w") as f:
        for i in range(2_000):  # a year-old archive the user points polyterm at
            old = {
                "title": f"Stocks rally as investors cheer strong earnings, day {i}",
                "published_at": T0 - 365 * 86_400 + i,
                "url": f"https://wire.invalid/{i}",
            }
            f.write(json.dumps(old) + "\n")
        fresh = {"title": "Rain in Paris? Forecasters say yes", "published_at": T0}
        f.write(json.dumps(fresh) + "\n")
    r = await open_rig(tmp_path / "l.sqlite", [], sentiment=True)
    batches: list[int] = []

    class Sink:
        def on_headlines(self, headlines: Sequence[Headline]) -> None:
            batches.append(len(headlines))
            r.core.on_headlines(headlines)  # what LiveRunner.on_headlines does, on the loop

    clock = FakeClock()
    src = JsonlSource(
        clock, path, poll_interval_s=0.5, error_backoff_cap_s=5.0, seen=SeenCache(clock)
    )
    await src.poll_once(Sink())
    assert sum(batches) == 2_001
    assert max(batches) <= DELIVERY_BATCH
    assert clock.sleeps.count(0) >= len(batches) - 1  # the loop had its turn between them
    book = r.core.sentiment
    assert book is not None
    assert book.too_old == 2_000
    assert [h.headline.title for h in book.recent(5)] == [fresh["title"]]
    await r.ledger.close()

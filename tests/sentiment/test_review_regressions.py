"""Defects a review of the sentiment layer found, each as a test that failed before its
fix (the docstrings say what was wrong)."""

from __future__ import annotations

import email.utils
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.adapters.news import HttpSettings, JsonlSource, NewsApiSource, NewsHttp, SeenCache
from engine.adapters.news.http import retry_after
from engine.adapters.news.polling import DELIVERY_BATCH
from engine.config.sentiment import SentimentQuery
from engine.market.sentiment import Headline, ProviderStatus
from polyterm.emulator.server import ExchangeEmulator
from tests.engine.test_decisions import T0, rig
from tests.kit.clock import FakeClock


def test_retry_after_given_as_an_http_date_is_honoured() -> None:
    """RFC 9110 allows Retry-After as an HTTP-date; it is read as "no Retry-After"."""
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 60, usegmt=True)
    got = retry_after(httpx.Response(429, headers={"Retry-After": date}), now)
    assert got == pytest.approx(60.0)


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


class Collector:
    def __init__(self) -> None:
        self.headlines: list[Headline] = []

    def on_headlines(self, headlines: Any) -> None:
        self.headlines.extend(headlines)


@pytest.mark.integration
async def test_injected_headlines_still_arrive_once_the_feed_holds_500(
    emulator: ExchangeEmulator, fake_clock: FakeClock
) -> None:
    """Article urls are numbered len(headlines) + 1, but the deque holding them stops
    growing at 500: from then on every article gets the same url (".../501"), and the
    provider's dedupe (by url) drops every new headline. At 200 markets the emulated flow
    writes ~30 headlines per market-hour: the feed goes silent after ~5 minutes, and
    POST /_admin/news answers 200 but the engine never sees the headline."""
    urls = emulator.urls
    assert urls is not None
    emulator.flow.news_rate = 0.0
    cid = emulator.exchange.markets[0].info.condition_id
    src = NewsApiSource(
        fake_clock,
        NewsHttp(
            fake_clock,
            ProviderStatus("emulator"),
            HttpSettings(requests_per_minute=6000.0, offline=True),
        ),
        urls.news,
        SentimentQuery(),
        provider="emulator",
        poll_interval_s=0.5,
        error_backoff_cap_s=8.0,
        seen=SeenCache(fake_clock),
    )
    sink = Collector()
    try:
        async with httpx.AsyncClient(headers=urls.admin_headers()) as client:
            for i in range(502):
                answer = await client.post(
                    f"{urls.admin}/news", json={"market": cid, "title": f"Headline number {i}"}
                )
                answer.raise_for_status()
                if i in (0, 499, 500, 501):
                    await src.poll_once(sink)
    finally:
        await src.aclose()
    titles = [h.title for h in sink.headlines]
    assert "Headline number 500" in titles
    assert "Headline number 501" in titles, titles[-3:]


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
    r = await rig(tmp_path / "l.sqlite", [], sentiment=True)
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

"""Twitter/X recent search: the documented answer shape becomes chatter headlines."""

from __future__ import annotations

from typing import Any

import pytest

from engine.adapters.news import (
    HttpSettings,
    MalformedAnswer,
    NewsHttp,
    ProviderError,
    SeenCache,
    TwitterSource,
)
from engine.config.sentiment import SentimentQuery
from engine.market.sentiment import ProviderStatus
from tests.kit.clock import FakeClock

# The shape of GET /2/tweets/search/recent with expansions=author_id (X API v2 docs).
ANSWER: dict[str, Any] = {
    "data": [
        {
            "id": "1861234567890123457",
            "text": "Fed  officials\nsignal a strong case for a December rate cut",
            "author_id": "2244994945",
            "created_at": "2026-11-25T06:01:02.000Z",
            "edit_history_tweet_ids": ["1861234567890123457"],
        },
        {"id": "1861234567890123456", "text": "   ", "author_id": "2244994945"},
        {"id": "1861234567890123455", "author_id": "1"},
    ],
    "includes": {"users": [{"id": "2244994945", "name": "X Dev", "username": "XDevelopers"}]},
    "meta": {"newest_id": "1861234567890123457", "oldest_id": "1861234567890123455"},
}


@pytest.fixture
async def twitter(fake_clock: FakeClock) -> Any:
    status = ProviderStatus("twitter")
    src = TwitterSource(
        fake_clock,
        NewsHttp(fake_clock, status, HttpSettings()),
        "https://api.twitter.com",
        SentimentQuery(twitter_query="fed rate cut -is:retweet"),
        poll_interval_s=60.0,
        error_backoff_cap_s=600.0,
        seen=SeenCache(fake_clock),
    )
    yield src
    await src.aclose()


def test_tweets_are_chatter_headlines_and_the_next_poll_asks_only_newer(
    twitter: TwitterSource,
) -> None:
    url, params = twitter.request()
    assert url == "https://api.twitter.com/2/tweets/search/recent"
    assert params["query"] == "fed rate cut -is:retweet"
    assert "since_id" not in params
    (tweet,) = twitter.parse(ANSWER)
    assert tweet.provider == "twitter"
    assert not tweet.is_news
    assert tweet.source == "@XDevelopers"
    assert tweet.title == "Fed officials signal a strong case for a December rate cut"
    assert tweet.url == "https://x.com/XDevelopers/status/1861234567890123457"
    assert tweet.published_at == pytest.approx(1_795_586_462.0)
    assert twitter.status.skipped == 2  # blank text, no text
    _, params = twitter.request()
    assert params["since_id"] == "1861234567890123457"


def test_no_new_tweets_is_an_empty_answer(twitter: TwitterSource) -> None:
    assert twitter.parse({"meta": {"result_count": 0}}) == []


def test_errors_and_wrong_shapes_are_one_line(twitter: TwitterSource) -> None:
    with pytest.raises(ProviderError, match="X API error: Invalid 'query'"):
        twitter.parse({"errors": [{"detail": "Invalid 'query' parameter"}], "title": "Invalid"})
    with pytest.raises(MalformedAnswer, match="data is not a list"):
        twitter.parse({"data": "oops"})
    with pytest.raises(MalformedAnswer, match="not a JSON object"):
        twitter.parse(["a", "list"])
    assert twitter.status.malformed == 2

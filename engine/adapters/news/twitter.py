"""Twitter/X recent search (``/2/tweets/search/recent``, bearer token).

Tweets are chatter, not news: their headlines carry ``is_news=False`` (the event-driven
strategy may require a true source or scale their confidence down). Each poll asks only
for tweets newer than the newest one seen (``since_id``).
"""

from __future__ import annotations

from typing import Any

from engine.adapters.news.dedupe import SeenCache
from engine.adapters.news.http import MalformedAnswer, NewsHttp, ProviderError
from engine.adapters.news.parse import parse_time
from engine.adapters.news.polling import PollingSource
from engine.clock import Clock
from engine.config.sentiment import SentimentQuery
from engine.market.sentiment import Headline

TITLE_MAX = 280


class TwitterSource(PollingSource):
    def __init__(
        self,
        clock: Clock,
        http: NewsHttp,
        base_url: str,
        query: SentimentQuery,
        *,
        poll_interval_s: float,
        error_backoff_cap_s: float,
        seen: SeenCache,
    ) -> None:
        super().__init__(
            clock,
            http.status,
            poll_interval_s=poll_interval_s,
            error_backoff_cap_s=error_backoff_cap_s,
            seen=seen,
        )
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.query = query
        self.since_id: str | None = None

    def request(self) -> tuple[str, dict[str, str | int]]:
        params: dict[str, str | int] = {
            "query": self.query.twitter_query,
            "max_results": self.query.twitter_max_results,
            "tweet.fields": "created_at,author_id",
            "expansions": "author_id",
            "user.fields": "username",
        }
        if self.since_id is not None:
            params["since_id"] = self.since_id
        return f"{self.base_url}/2/tweets/search/recent", params

    async def poll(self) -> list[Headline]:
        url, params = self.request()
        return self.parse(await self.http.get_json(url, params))

    def parse(self, body: Any) -> list[Headline]:
        status = self.status
        if not isinstance(body, dict):
            status.malformed += 1
            status.errors += 1
            raise MalformedAnswer("malformed answer: not a JSON object")
        if "data" not in body and isinstance(body.get("errors"), list) and body["errors"]:
            first = body["errors"][0]
            detail = first.get("detail") or first.get("message") if isinstance(first, dict) else ""
            status.errors += 1
            raise ProviderError(f"X API error: {str(detail)[:160]}")
        tweets = body.get("data", [])
        if not isinstance(tweets, list):
            status.malformed += 1
            status.errors += 1
            raise MalformedAnswer("malformed answer: data is not a list")
        includes = body.get("includes")
        users = includes.get("users", []) if isinstance(includes, dict) else []
        names = {
            str(u.get("id")): str(u.get("username"))
            for u in users
            if isinstance(u, dict) and u.get("username")
        }
        meta = body.get("meta")
        if isinstance(meta, dict) and isinstance(meta.get("newest_id"), str):
            self.since_id = meta["newest_id"]
        now = self.clock.time()
        out: list[Headline] = []
        for tweet in tweets:
            if not isinstance(tweet, dict) or not isinstance(tweet.get("text"), str):
                status.skipped += 1
                continue
            text = " ".join(tweet["text"].split())
            if not text:
                status.skipped += 1
                continue
            tweet_id = str(tweet.get("id") or "")
            user = names.get(str(tweet.get("author_id")), "")
            published = parse_time(tweet.get("created_at"))
            out.append(
                Headline(
                    provider="twitter",
                    source=f"@{user}" if user else "X",
                    title=text[:TITLE_MAX],
                    description="",
                    url=f"https://x.com/{user or 'i'}/status/{tweet_id}" if tweet_id else "",
                    published_at=published if published is not None else now,
                    is_news=False,
                )
            )
        return out

    async def aclose(self) -> None:
        await self.http.aclose()

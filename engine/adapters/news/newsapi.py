"""NewsAPI (newsapi.org) and the emulator's feed, which has the same shape.

With a query it searches ``/v2/everything`` (newest first) from a little before the
newest headline already seen (a conditional window: the overlap is filtered by the seen
cache); without one it reads ``/v2/top-headlines`` for a country. The key travels in the
``X-Api-Key`` header, never in the URL, so no logged URL carries it.

The emulator tags each article with the market it was written about
(``"polyterm": {"market": condition_id}``); that becomes the headline's ``markets``.
Real NewsAPI articles have no such field and are matched by keywords.
"""

from __future__ import annotations

from typing import Any

from engine.adapters.news.dedupe import SeenCache
from engine.adapters.news.http import MalformedAnswer, NewsHttp, ProviderError
from engine.adapters.news.parse import iso, parse_time
from engine.adapters.news.polling import PollingSource
from engine.clock import Clock
from engine.config.sentiment import SentimentQuery
from engine.market.sentiment import Headline

# How far the next window reaches back before the newest headline seen: NewsAPI indexes
# articles some minutes after they are published.
WINDOW_OVERLAP_S = 900.0


class NewsApiSource(PollingSource):
    def __init__(
        self,
        clock: Clock,
        http: NewsHttp,
        base_url: str,
        query: SentimentQuery,
        *,
        provider: str = "newsapi",
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
        self.provider = provider
        self.newest: float | None = None  # published_at of the newest headline read

    def request(self) -> tuple[str, dict[str, str | int]]:
        """The URL and parameters of the next poll."""
        q = self.query
        if q.q:
            params: dict[str, str | int] = {
                "q": q.q,
                "searchIn": q.search_in,
                "language": q.language,
                "sortBy": "publishedAt",
                "pageSize": q.page_size,
            }
            if self.newest is not None:
                params["from"] = iso(self.newest - WINDOW_OVERLAP_S)
            return f"{self.base_url}/v2/everything", params
        params = {"country": q.country, "pageSize": q.page_size}
        if q.category:
            params["category"] = q.category
        return f"{self.base_url}/v2/top-headlines", params

    async def poll(self) -> list[Headline]:
        url, params = self.request()
        body = await self.http.get_json(url, params)
        headlines = self.parse(body)
        if headlines:
            newest = max(h.published_at for h in headlines)
            self.newest = newest if self.newest is None else max(self.newest, newest)
        return headlines

    def parse(self, body: Any) -> list[Headline]:
        status = self.status
        if not isinstance(body, dict):
            status.malformed += 1
            status.errors += 1
            raise MalformedAnswer("malformed answer: not a JSON object")
        if body.get("status") == "error":
            status.errors += 1
            raise ProviderError(
                f"NewsAPI error {body.get('code', '?')}: {str(body.get('message', ''))[:160]}"
            )
        articles = body.get("articles")
        if not isinstance(articles, list):
            status.malformed += 1
            status.errors += 1
            raise MalformedAnswer("malformed answer: no articles list")
        now = self.clock.time()
        out: list[Headline] = []
        for article in articles:
            headline = self._headline(article, now)
            if headline is None:
                status.skipped += 1
            else:
                out.append(headline)
        return out

    def _headline(self, article: Any, now: float) -> Headline | None:
        if not isinstance(article, dict):
            return None
        title = article.get("title")
        # NewsAPI blanks taken-down articles to "[Removed]".
        if not isinstance(title, str) or not title.strip() or title == "[Removed]":
            return None
        source = article.get("source")
        name = source.get("name") if isinstance(source, dict) else source
        description = article.get("description")
        tag = article.get("polyterm")
        market = tag.get("market") if isinstance(tag, dict) else None
        published = parse_time(article.get("publishedAt"))
        return Headline(
            provider=self.provider,
            source=str(name or ""),
            title=title.strip(),
            description=description.strip() if isinstance(description, str) else "",
            url=str(article.get("url") or ""),
            published_at=published if published is not None else now,
            is_news=True,
            markets=(market,) if isinstance(market, str) and market else (),
        )

    async def aclose(self) -> None:
        await self.http.aclose()

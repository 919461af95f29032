"""A JSONL file of headlines, tailed: one JSON object per line with ``title`` (required),
``description``, ``source``, ``published_at`` (ISO 8601 or epoch seconds), ``url``, and
optionally ``markets`` (condition ids or slugs) and ``is_news``.

Each poll reads what was appended since the last one (a line still being written waits
for its newline; a file that shrank was replaced and is read again from the start). A
bad line is skipped and counted, its reason one line in the status.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

from engine.adapters.news.dedupe import SeenCache
from engine.adapters.news.http import ProviderError
from engine.adapters.news.parse import parse_time
from engine.adapters.news.polling import PollingSource
from engine.clock import Clock
from engine.market.sentiment import Headline, ProviderStatus

log = logging.getLogger("engine.adapters.news")

# At most this much is read per poll, so a huge backlog never holds a poll for long.
CHUNK = 1 << 20


class BadLine(ValueError):
    pass


class JsonlSource(PollingSource):
    def __init__(
        self,
        clock: Clock,
        path: Path,
        *,
        status: ProviderStatus | None = None,
        poll_interval_s: float,
        error_backoff_cap_s: float,
        seen: SeenCache,
    ) -> None:
        super().__init__(
            clock,
            status or ProviderStatus("jsonl"),
            poll_interval_s=poll_interval_s,
            error_backoff_cap_s=error_backoff_cap_s,
            seen=seen,
        )
        self.path = path
        self.offset = 0
        self.line_no = 0  # lines consumed so far (for messages)
        self._partial = b""

    async def poll(self) -> list[Headline]:
        self.status.requests += 1
        self.status.last_fetch_at = self.clock.time()
        try:
            chunk = await asyncio.to_thread(self._read)
        except FileNotFoundError:
            self.status.errors += 1
            raise ProviderError(f"{self.path}: no such file (waiting for it)") from None
        except OSError as exc:
            self.status.errors += 1
            raise ProviderError(f"{self.path}: {exc.strerror or exc}") from None
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()  # the unfinished last line, if any
        now = self.clock.time()
        out: list[Headline] = []
        for raw in lines:
            self.line_no += 1
            if not raw.strip():
                continue
            try:
                out.append(self._headline(raw, now))
            except BadLine as exc:
                self.status.skipped += 1
                self.status.last_error = f"{self.path.name}:{self.line_no}: {exc}"
                log.warning("jsonl: skipped %s", self.status.last_error)
        return out

    def _read(self) -> bytes:
        with self.path.open("rb") as f:
            size = f.seek(0, 2)
            if size < self.offset:  # truncated or replaced: start over
                self.offset = 0
                self.line_no = 0
                self._partial = b""
            f.seek(self.offset)
            chunk = f.read(CHUNK)
        self.offset += len(chunk)
        return chunk

    def _headline(self, raw: bytes, now: float) -> Headline:
        try:
            obj: Any = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise BadLine(f"not JSON ({exc.msg})") from None
        except UnicodeDecodeError:
            raise BadLine("not UTF-8 text") from None
        if not isinstance(obj, dict):
            raise BadLine("not a JSON object")
        title = obj.get("title")
        if not isinstance(title, str) or not title.strip():
            raise BadLine("title is missing or empty")
        published = obj.get("published_at")
        at = parse_time(published) if published is not None else now
        if at is None:
            raise BadLine(f"published_at {str(published)[:40]!r} is not ISO 8601 or epoch seconds")
        markets = obj.get("markets", ())
        if isinstance(markets, str):
            markets = (markets,)
        if not isinstance(markets, list | tuple) or not all(isinstance(m, str) for m in markets):
            raise BadLine("markets is not a list of condition ids or slugs")
        is_news = obj.get("is_news", True)
        if not isinstance(is_news, bool):
            raise BadLine("is_news is not true or false")
        return Headline(
            provider="jsonl",
            source=str(obj.get("source") or ""),
            title=title.strip(),
            description=str(obj.get("description") or ""),
            url=str(obj.get("url") or ""),
            published_at=at,
            is_news=is_news,
            markets=tuple(markets),
        )

"""The cache of headlines already delivered: a poll window that overlaps the previous
one (it should, so nothing published at the boundary is lost) never delivers twice.

Keys are the url and the normalised title: a syndicated story under another url is the
same headline. Entries expire after a TTL and the oldest go first past a size bound.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.clock import Clock
from engine.market.sentiment import Headline


def title_key(title: str) -> str:
    return " ".join(title.lower().split())


class SeenCache:
    def __init__(self, clock: Clock, ttl_s: float = 172_800.0, max_entries: int = 20_000) -> None:
        self._clock = clock
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._seen: dict[str, float] = {}  # key -> monotonic time first seen (insertion order)

    def __len__(self) -> int:
        return len(self._seen)

    def fresh(self, headlines: Iterable[Headline]) -> list[Headline]:
        """The headlines not delivered before (nor twice within this batch); marks them."""
        now = self._clock.monotonic()
        self._prune(now)
        seen = self._seen
        out: list[Headline] = []
        for headline in headlines:
            keys = [f"t:{title_key(headline.title)}"]
            if headline.url:
                keys.append(f"u:{headline.url}")
            if any(key in seen for key in keys):
                continue
            for key in keys:
                seen[key] = now
            out.append(headline)
        return out

    def _prune(self, now: float) -> None:
        seen = self._seen
        cutoff = now - self.ttl_s
        # Insertion order is age order: drop from the front while too old or too many.
        while seen:
            key, at = next(iter(seen.items()))
            if at >= cutoff and len(seen) <= self.max_entries:
                break
            del seen[key]

"""Benchmark: what one headline costs the sentiment book (match + score + apply), and
what building the keyword index costs, at 200 and 1000 markets.

Two market sets: "dense" (18 subjects shared by every market: a worst case in which each
headline names tens of markets) and "diverse" (about one subject per two markets, closer
to Polymarket's front page).

Run: python benchmarks/bench_sentiment.py
Prints medians of repeated runs; no thresholds (timings are the machine's).
"""

from __future__ import annotations

import random
import statistics
import time

from engine.market.markets import MarketInfo, Outcome
from engine.market.sentiment import Headline
from engine.strategies.sentiment import KeywordIndex, SentimentBook

SUBJECTS = (
    "Bitcoin", "Ethereum", "Fed", "Trump", "Newsom", "Chiefs", "Lakers", "Apple", "Tesla",
    "Nvidia", "OpenAI", "Ukraine", "Taiwan", "Brazil", "France", "Germany", "Powell", "Musk",
)  # fmt: skip
VERBS = ("reach", "win", "cut", "announce", "sign", "lose", "beat", "launch", "exceed")
OBJECTS = (
    "rates", "the election", "the Super Bowl", "a ceasefire", "$100k", "the nomination",
    "GPT-6", "record highs", "the World Cup", "a trade deal", "the playoffs",
)  # fmt: skip
TONES = ("surges as support soars", "collapses amid fears", "faces doubts", "holds steady")


def subjects(diverse: bool, n: int) -> tuple[str, ...]:
    if not diverse:
        return SUBJECTS
    return tuple(f"{SUBJECTS[i % len(SUBJECTS)]} Zq{i:x}" for i in range(n // 2))


def markets(n: int, rng: random.Random, names: tuple[str, ...]) -> list[MarketInfo]:
    out = []
    for i in range(n):
        subject, verb, obj = rng.choice(names), rng.choice(VERBS), rng.choice(OBJECTS)
        question = f"Will {subject} {verb} {obj} by {2026 + i % 3}?"
        slug = question.lower().replace(" ", "-").strip("?")[:60] + f"-{i}"
        outcomes = (Outcome(f"{i}y", "Yes"), Outcome(f"{i}n", "No"))
        out.append(MarketInfo(f"0x{i:064x}", question, slug, outcomes))
    return out


def headlines(n: int, rng: random.Random, names: tuple[str, ...]) -> list[Headline]:
    out = []
    for i in range(n):
        title = f"{rng.choice(names)} {rng.choice(TONES)} on {rng.choice(OBJECTS)}"
        text = f"Analysts say {rng.choice(names)} could {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
        out.append(Headline("bench", "wire", title, text, f"https://bench.invalid/{i}", 1e9))
    return out


def main() -> None:
    for diverse, n in ((False, 200), (False, 1000), (True, 200), (True, 1000)):
        rng = random.Random(7)
        names = subjects(diverse, n)
        ms = markets(n, rng, names)
        batch = headlines(500, rng, names)
        builds, per_headline, match_only = [], [], []
        for _ in range(5):
            t = time.perf_counter()
            index = KeywordIndex(ms)
            builds.append((time.perf_counter() - t) * 1e3)
            t = time.perf_counter()
            for h in batch:
                index.match(h)
            match_only.append((time.perf_counter() - t) / len(batch) * 1e6)
            book = SentimentBook(recent_max=len(batch))
            book.ingest([], ms, 1e9)
            t = time.perf_counter()
            book.ingest(batch, ms, 1e9)
            per_headline.append((time.perf_counter() - t) / len(batch) * 1e6)
        scored = book.recent(len(batch))
        matched = sum(1 for s in scored if s.markets)
        per = statistics.mean(len(s.markets) for s in scored)
        kind = "diverse" if diverse else "dense"
        print(
            f"{kind:>7} {n:>5} markets: index build {statistics.median(builds):.2f} ms, "
            f"match {statistics.median(match_only):.1f} us/headline, "
            f"ingest {statistics.median(per_headline):.1f} us/headline; "
            f"{matched}/{len(batch)} matched, {per:.1f} markets each"
        )


if __name__ == "__main__":
    main()

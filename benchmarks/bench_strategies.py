"""Strategy evaluation cost per book update, all five strategies on, 200 markets.

Constructed books (five levels a side) for 200 binary markets, 60 of them grouped in
neg-risk events of 3-6 outcomes, are moved by a seeded random walk: each update either
changes the size at a level or moves a token's price by a tick (the complement follows,
sometimes late, which opens YES/NO and basket mispricings for the arbitrages). A third of
the markets carry a sentiment reading, every token a trade flow. After each update the
changed token's context is built the way the core builds it (cached read-only views, the
complement, the event group, sentiment, flow, lots) and every strategy's ``on_tick`` runs.

Printed: microseconds per book update for all five together (context build included and
not), and for each strategy alone, as the median of ``--repeat`` runs; and how many
signals and baskets each produced (so the figure is not the cost of doing nothing).

    python benchmarks/bench_strategies.py [--markets 200] [--updates 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter
from dataclasses import replace
from decimal import Decimal

from engine.config.strategy import StrategiesConfig
from engine.market.book import OrderBook
from engine.market.book_view import BookView
from engine.market.event_groups import EventGroup, group_events
from engine.market.fees import FeeSchedule
from engine.market.flow import TradeFlow
from engine.market.markets import MarketInfo, Outcome
from engine.market.sentiment import SentimentReading
from engine.strategies.base import Basket, MarketContext, OwnLot, Signal, Strategy
from engine.strategies.registry import build_strategies

WALL0 = 1_800_000_000.0
LEVELS = 5
TICK = 100
NO_LOTS: dict[str, tuple[OwnLot, ...]] = {}


class World:
    def __init__(self, n_markets: int, seed: int) -> None:
        rng = self.rng = random.Random(seed)
        fees = FeeSchedule(rate=Decimal("0.02"), exponent=Decimal(1))
        self.markets: list[MarketInfo] = []
        in_events = min(60, n_markets)
        event_no, left_in_event = 0, 0
        for i in range(n_markets):
            event_id = ""
            if i < in_events:
                if left_in_event == 0:
                    event_no += 1
                    left_in_event = min(rng.randint(3, 6), in_events - i)
                left_in_event -= 1
                event_id = f"ev{event_no}"
            self.markets.append(
                MarketInfo(
                    condition_id=f"0xm{i}",
                    question=f"market {i}",
                    slug=f"m{i}",
                    outcomes=(Outcome(f"Y{i}", "Yes"), Outcome(f"N{i}", "No")),
                    fees=fees,
                    volume_24h=Decimal(round(rng.lognormvariate(10.0, 1.5), 2)),
                    neg_risk=bool(event_id),
                    event_id=event_id,
                )
            )
        # Every event here is whole: each market knows how many outcomes its event has.
        sizes = Counter(m.event_id for m in self.markets if m.event_id)
        self.markets = [
            replace(m, event_markets=sizes[m.event_id]) if m.event_id else m for m in self.markets
        ]
        self.events: dict[str, EventGroup] = group_events(self.markets)
        self.by_token = {t: m for m in self.markets for t in m.token_ids}
        self.books: dict[str, OrderBook] = {}
        self.views: dict[str, BookView] = {}
        self.flows: dict[str, TradeFlow] = {}
        self.sentiment: dict[str, SentimentReading] = {}
        for m in self.markets:
            members = len(self.events[m.event].markets)
            fair = 10_000 // members if members > 1 else rng.randint(10, 90) * 100
            fair = max(200, min(9_800, fair // TICK * TICK))
            self._quote(m.token_ids[0], fair)
            self._quote(m.token_ids[1], 10_000 - fair)
            for t in m.token_ids:
                self.flows[t] = TradeFlow()
            if rng.random() < 1 / 3:
                self.sentiment[m.condition_id] = SentimentReading(
                    m.condition_id,
                    rng.uniform(-1, 1),
                    rng.uniform(0.3, 1),
                    "newsapi",
                    rng.random() < 0.7,
                    WALL0 - rng.uniform(0, 600),
                )
        self.tokens = list(self.books)

    def _quote(self, token: str, mid: int) -> None:
        """A book of LEVELS levels a side around `mid` (1e-4), one tick each side."""
        book = self.books.get(token)
        if book is None:
            book = self.books[token] = OrderBook(token, self.by_token[token].condition_id)
            book.set_tick(TICK)
            self.views[token] = BookView(book)
        rng = self.rng
        bid = max(TICK, min(9_800, mid - TICK))
        bids = [(bid - k * TICK, rng.randint(5, 400) * 10**6) for k in range(LEVELS)]
        asks = [(bid + (k + 2) * TICK, rng.randint(5, 400) * 10**6) for k in range(LEVELS)]
        book.replace([b for b in bids if b[0] > 0], [a for a in asks if a[0] < 10_000])

    def step(self, now: float) -> str:
        """One book update; returns the token that changed."""
        rng = self.rng
        token = rng.choice(self.tokens)
        book = self.books[token]
        if rng.random() < 0.25:
            self.flows[token].on_print(rng.uniform(1, 200), now)
        if rng.random() < 0.6:
            is_bid = rng.random() < 0.5
            levels = book.top_bids(LEVELS) if is_bid else book.top_asks(LEVELS)
            if levels:
                price, _ = rng.choice(levels)
                book.set_level(is_bid, price, rng.randint(5, 400) * 10**6)
            return token
        bid = book.best_bid or 5_000
        move = rng.choice((-TICK, TICK))
        self._quote(token, bid + TICK + move)
        market = self.by_token[token]
        other = market.complement_of(token)
        if other is not None and rng.random() < 0.9:  # the complement follows, mostly
            self._quote(other, 10_000 - (bid + TICK + move))
        return token

    def context(self, token: str, now: float) -> MarketContext:
        market = self.by_token[token]
        complement = market.complement_of(token)
        return MarketContext(
            token,
            market,
            self.views[token],
            0,
            now,
            WALL0 + now,
            self.views[complement] if complement is not None else None,
            self.events.get(market.event),
            self.sentiment.get(market.condition_id),
            self.flows[token],
            NO_LOTS,
            self.views.get,
        )


def run(
    n_markets: int, updates: int, seed: int, only: str | None
) -> tuple[float, float, Counter[str]]:
    """(µs per update with context build, µs per update strategies only, outputs)."""
    world = World(n_markets, seed)
    strategies: list[Strategy] = [
        s for s in build_strategies(StrategiesConfig()) if only is None or s.name == only
    ]
    produced: Counter[str] = Counter()
    with_ctx = evaluating = 0
    clock = time.perf_counter_ns
    for i in range(updates):
        now = i * 0.002  # 500 updates a second across the 200 markets
        token = world.step(now)
        t0 = clock()
        ctx = world.context(token, now)
        t1 = clock()
        for strategy in strategies:
            out = strategy.on_tick(ctx)
            if out is not None:
                kind = "basket" if isinstance(out, Basket) else "exit" if out.is_exit else "entry"
                assert isinstance(out, Signal | Basket)
                produced[f"{strategy.name}:{kind}"] += 1
        t2 = clock()
        with_ctx += t2 - t0
        evaluating += t2 - t1
    return with_ctx / updates / 1_000, evaluating / updates / 1_000, produced


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markets", type=int, default=200)
    parser.add_argument("--updates", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    names = [s.name for s in build_strategies(StrategiesConfig())]
    print(f"{args.markets} markets, {args.updates} book updates, median of {args.repeat} runs")
    rows: list[tuple[str, float, float]] = []
    produced: Counter[str] = Counter()
    for only in (None, *names):
        runs = [run(args.markets, args.updates, args.seed, only) for _ in range(args.repeat)]
        full = statistics.median(r[0] for r in runs)
        bare = statistics.median(r[1] for r in runs)
        rows.append(("all five" if only is None else only, full, bare))
        if only is None:
            produced = runs[0][2]
    print(f"{'strategies':<24} {'µs/update':>10} {'(no ctx)':>10}")
    for name, full, bare in rows:
        print(f"{name:<24} {full:>10.2f} {bare:>10.2f}")
    print("outputs (all five, one run):")
    for key, count in sorted(produced.items()):
        print(f"  {key:<40} {count:>8}")


if __name__ == "__main__":
    main()

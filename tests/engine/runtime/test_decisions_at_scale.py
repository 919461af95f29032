"""The core's side of market data at scale: decision passes in slices decide the same
books (each once, on its latest state), markets added later leave known books alone,
and the feed hears of listed and resolved markets once each."""

from __future__ import annotations

import json
from pathlib import Path

from engine.clock import SimClock
from engine.ledger.writer import SqliteLedger
from engine.market.health import FeedHealth, FeedSource
from engine.market.markets import MarketInfo, Outcome
from engine.runtime.kernel import build_engine
from engine.strategies.base import MarketContext, Signal
from tests.kit.tapes import FEE_MARKET as MARKET
from tests.kit.tapes import opening_books
from tests.kit.tapes import runner_config as config


class Feed:
    def __init__(self) -> None:
        self.listed: list[str] = []
        self.resolved: list[str] = []

    def want_snapshot(self, asset_ids: object) -> None:
        return None

    def hit(self, asset_id: str) -> None:
        return None

    def market_listed(self, event: object) -> None:
        self.listed.append(event.market)  # type: ignore[attr-defined]

    def market_resolved(self, condition_id: str) -> None:
        self.resolved.append(condition_id)


class Watcher:
    """Records which books it was asked about, and the best bid it saw there."""

    name = "watcher"
    weight = 1.0

    def __init__(self) -> None:
        self.seen: list[tuple[str, int | None]] = []

    def on_tick(self, ctx: MarketContext) -> Signal | None:
        self.seen.append((ctx.asset_id, ctx.book.best_bid))
        return None


def markets(n: int) -> list[MarketInfo]:
    return [
        MarketInfo(f"0x{i}", f"Q{i}?", f"q{i}", (Outcome(f"Y{i}", "Yes"), Outcome(f"N{i}", "No")))
        for i in range(n)
    ]


def books_for(market: MarketInfo, ts: int, bid: str = "0.40") -> list[dict[str, object]]:
    return [
        {
            "event_type": "book",
            "asset_id": token,
            "market": market.condition_id,
            "bids": [{"price": bid, "size": "10"}],
            "asks": [{"price": "0.60", "size": "10"}],
            "timestamp": str(ts),
        }
        for token in market.token_ids
    ]


async def _core(tmp_path: Path, strategies: list[Watcher], feed: Feed):  # type: ignore[no-untyped-def]
    clock = SimClock(1000.0)
    ledger = await SqliteLedger(tmp_path / "l.sqlite", autocommit=False).open()
    health = FeedHealth()
    health.set_source(FeedSource.WS_LIVE, 0.0)
    engine = build_engine(
        config(),
        clock,
        ledger,
        venue="t",
        feed=feed,
        health=health,
        strategies=strategies,  # type: ignore[arg-type]
    )
    await ledger.start_run("paper", "t", "{}", 1000.0, engine.starting_cash)
    engine.core.start(1)
    return engine.core, ledger


async def test_a_pass_in_slices_decides_every_changed_book_once_on_its_latest_state(
    tmp_path: Path,
) -> None:
    whole, sliced = Watcher(), Watcher()
    cores = []
    for watcher, name in ((whole, "a"), (sliced, "b")):
        (tmp_path / name).mkdir()
        core, ledger = await _core(tmp_path / name, [watcher], Feed())
        cores.append((core, ledger))
        listed = markets(10)
        core.on_markets(listed)
        for i, market in enumerate(listed):
            core.on_frame(json.dumps(books_for(market, 1_000_001_000 + i)), 1001.0)
        # A book that changes again before its turn is decided once, on the new state.
        core.on_frame(json.dumps(books_for(listed[0], 1_000_002_000, "0.45")), 1002.0)
    (core_a, ledger_a), (core_b, ledger_b) = cores
    core_a.decide()
    assert core_b.pending_decisions == 20
    rounds = 0
    while core_b.pending_decisions:
        core_b.decide(limit=3)
        rounds += 1
    assert rounds == 7
    assert sliced.seen == whole.seen
    assert len(whole.seen) == 20
    assert whole.seen[0] == ("Y0", 4500)
    for _, ledger in cores:
        await ledger.close()


async def test_markets_added_later_leave_known_books_alone(tmp_path: Path) -> None:
    core, ledger = await _core(tmp_path, [], Feed())
    core.on_markets([MARKET])
    core.on_frame(json.dumps(opening_books(1_000_001_000)), 1001.0)
    regrid = {
        "event_type": "tick_size_change",
        "asset_id": "Y",
        "market": "0xm",
        "old_tick_size": "0.01",
        "new_tick_size": "0.001",
    }
    core.on_frame(json.dumps(regrid), 1002.0)
    assert core.intake.books.books["Y"].tick == 10
    later = markets(1)[0]
    core.on_markets([MARKET, later])  # a market listed while running
    assert core.intake.books.books["Y"].tick == 10  # what the stream taught us stays
    assert core.intake.books.books["Y0"].tick == later.tick
    assert set(core.registry.by_token) == {"Y", "N", "Y0", "N0"}
    await ledger.close()


async def test_the_feed_hears_of_listed_and_resolved_markets_once_each(tmp_path: Path) -> None:
    feed = Feed()
    core, ledger = await _core(tmp_path, [], feed)
    core.on_markets([MARKET])
    listing = {
        "event_type": "new_market",
        "market": "0xnew",
        "question": "New?",
        "assets_ids": ["a", "b"],
        "outcomes": ["Yes", "No"],
    }
    resolution = {
        "event_type": "market_resolved",
        "market": "0xm",
        "winning_asset_id": "Y",
        "assets_ids": ["Y", "N"],
    }
    for _ in range(3):  # every shard's connection delivers its copy
        core.on_frame(json.dumps(listing), 1001.0)
        core.on_frame(json.dumps(resolution), 1001.0)
    assert feed.listed == ["0xnew"]
    assert feed.resolved == ["0xm"]
    assert core.intake.counts["markets_listed"] == 1
    await ledger.close()


async def test_a_frame_on_one_shard_does_not_vouch_for_the_books_of_a_shard_that_is_down(
    tmp_path: Path,
) -> None:
    core, ledger = await _core(tmp_path, [], Feed())
    listed = markets(2)
    core.on_markets(listed)
    for market in listed:
        core.on_frame(json.dumps(books_for(market, 1_000_001_000)), 1000.0)
    health = core.intake.health
    health.ws_shards, health.ws_shards_live = 2, 1  # market 1's shard is down
    core.clock.advance_to(1010.0)  # type: ignore[attr-defined]
    core.on_frame(json.dumps(books_for(listed[0], 1_000_002_000, "0.41")), 1010.0)
    assert core.book_age("Y0") == 0.0
    assert core.book_age("Y1") == 10.0  # not vouched for by the other shard's frame
    health.ws_shards_live = 2  # every shard streams again
    core.on_frame(json.dumps(books_for(listed[0], 1_000_003_000, "0.42")), 1010.0)
    assert core.book_age("Y1") == 0.0
    await ledger.close()

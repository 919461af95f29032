"""Markets by name against the emulator over loopback: a watch list (slugs, condition ids,
token ids) chooses exactly what the feed trades instead of the top-N ranking; an entry
that names no market stops the start in one line naming it; `polyterm --watch` runs on the
market it names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.adapters.polymarket.feed import FeedError, PolymarketFeed
from engine.clock import SystemClock
from polyterm.emulator.server import ExchangeEmulator
from tests.kit.feed import FAST_HOT, fast_feed_config
from tests.kit.process import run

pytestmark = pytest.mark.integration


@pytest.mark.emulator(markets=6)
async def test_a_watch_list_chooses_exactly_those_markets(emulator: ExchangeEmulator) -> None:
    assert emulator.urls is not None
    markets = [m.info for m in emulator.exchange.markets]
    # By volume the feed would take the top two; the watch list names three others, by
    # slug, by condition id and by token id, and the feed takes exactly those, in order.
    chosen = [markets[-1], markets[-2], markets[-3]]
    refs = [chosen[0].slug, chosen[1].condition_id, chosen[2].token_ids[1]]
    feed = PolymarketFeed(
        fast_feed_config(emulator.urls, max_markets=2), FAST_HOT, SystemClock(), watch=refs
    )
    try:
        found = await feed.discover()
    finally:
        await feed.http.aclose()
    assert [m.condition_id for m in found] == [m.condition_id for m in chosen]


@pytest.mark.emulator(markets=4)
async def test_a_watch_entry_naming_no_market_stops_the_start(emulator: ExchangeEmulator) -> None:
    assert emulator.urls is not None
    feed = PolymarketFeed(
        fast_feed_config(emulator.urls), FAST_HOT, SystemClock(), watch=["no-such-market"]
    )
    try:
        with pytest.raises(FeedError) as caught:
            await feed.discover()
    finally:
        await feed.http.aclose()
    assert str(caught.value) == (
        "watch 'no-such-market': no market with that slug, condition id or token id on this venue"
    )


def test_polyterm_watch_trades_the_market_it_names(tmp_path: Path) -> None:
    # The offline emulator's markets (seed 7, the default): its second market by slug.
    from polyterm.emulator.server import EmulatorOptions, build_exchange
    from polyterm.settings.locations import recorded_dir

    exchange, _ = build_exchange(
        EmulatorOptions(seed=7, markets=8, recorded=recorded_dir()), SystemClock()
    )
    slug = exchange.markets[1].info.slug
    done = run(["--offline", "--no-ui", "--json", "--duration", "3", "--watch", slug], tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["markets"] == 1
    bad = run(["--offline", "--no-ui", "--duration", "3", "--watch", "nope"], tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == [
        "polyterm: error: watch 'nope': no market with that slug, condition id or token id "
        "on this venue"
    ]

"""Neg-risk events are baskets only when whole.

Reproduced on the old code (a review): events were grouped from whichever markets the
volume ranking kept, so with `max_markets = 6` the recorded 4-outcome event loaded 3
outcomes and cross-market arbitrage priced their YES asks (0.30 x 3 + fees = 0.91) as a
basket paying 1: a directional bet labelled risk-free, since it pays 0 when the fourth
outcome wins. The feed now loads every open outcome of an event it reaches, and an event
that is not whole is never a basket.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import httpx
import pytest

from engine.adapters.polymarket.feed import PolymarketFeed
from engine.clock import SystemClock
from engine.config.strategy import CrossMarketArbitrageParams
from engine.market.event_groups import group_events
from engine.strategies.cross_market_arbitrage import CrossMarketArbitrage
from polyterm.emulator.server import ExchangeEmulator
from tests.kit.feed import FAST_HOT, fast_feed_config
from tests.kit.strategies import context, quote

pytestmark = pytest.mark.integration

EVENT = "30829"  # the recorded neg-risk event the emulator serves with 4 outcomes


@pytest.mark.emulator(markets=8)
async def test_an_event_the_ranking_cuts_is_loaded_whole(emulator: ExchangeEmulator) -> None:
    urls = emulator.urls
    assert urls is not None
    async with httpx.AsyncClient() as c:
        listed = (await c.get(f"{urls.gamma}/events", params={"id": EVENT})).json()
    assert [e["id"] for e in listed] == [EVENT]
    outcomes = {m["conditionId"] for m in listed[0]["markets"]}
    assert len(outcomes) == 4
    feed = PolymarketFeed(fast_feed_config(urls, max_markets=6), FAST_HOT, SystemClock())
    try:
        ranked = await feed._gamma_markets()
        markets = await feed.discover()
    finally:
        await feed.http.aclose()
    top6 = sorted(ranked, key=lambda m: m.volume_24h, reverse=True)[:6]
    assert 0 < len({m.condition_id for m in top6} & outcomes) < 4  # the ranking cut it
    event = group_events(markets)[EVENT]
    assert {m.condition_id for m in event.markets} == outcomes  # loaded whole
    assert all(m.event_markets == 4 for m in event.markets)
    assert event.is_basket
    # Take one outcome away and the rest is no basket: the strategy prices nothing.
    partial = replace(event, markets=event.markets[:3])
    assert not partial.is_basket
    books = {
        m.token_ids[0]: quote(m.token_ids[0], 0.29, 0.30, market=m.condition_id)
        for m in partial.markets
    }
    first = partial.markets[0]
    strategy = CrossMarketArbitrage(
        CrossMarketArbitrageParams(margin_bps=0, max_shares=Decimal(10)), weight=1.0
    )
    ctx = context(books[first.token_ids[0]], first, event=partial, books=books)
    assert strategy.on_tick(ctx) is None

"""A 60 s offline run with every strategy on, as `polyterm --offline --no-ui` assembles it:
the real emulator over loopback HTTP/WS, the default strategy and sentiment settings, the
emulator's NewsAPI-shaped feed as the headline source, a real ledger file.

It proves that every enabled strategy records at least one signal (cross-market
arbitrage, at weight 0, at least one detected basket that was never traded), and that the
event-driven strategy reacts within 2 s to a headline injected through the emulator's
``POST /_admin/news``: measured from just before the injection to its signal row.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import httpx
import pytest

from engine.adapters.polymarket.feed import PolymarketFeed
from engine.clock import SystemClock
from engine.config import EngineConfig
from engine.ledger.writer import SqliteLedger
from engine.runtime.kernel import build_engine
from polyterm.emulator.server import EmulatorOptions, ExchangeEmulator
from polyterm.faces.headlines import sentiment_source_for
from polyterm.settings import locations

pytestmark = pytest.mark.integration

RUN_S = 60.0
INJECT_AT_S = 20.0
REACTION_S = 2.0
HEADLINE = "Huge win: supporters celebrate a strong, decisive victory and a great surge"


async def test_every_strategy_signals_and_news_is_acted_on_within_2s(tmp_path: Path) -> None:
    emulator = ExchangeEmulator(
        EmulatorOptions(seed=7, markets=16, recorded=locations.recorded_dir())
    )
    urls = await emulator.start()
    try:
        base = EngineConfig()  # the defaults: every strategy enabled, sentiment on
        feed_config = base.feed.model_copy(
            update={
                "clob_rest_url": urls.clob,
                "market_ws_url": urls.market_ws,
                "user_ws_url": urls.user_ws,
                "gamma_url": urls.gamma,
                "news_url": urls.news,
                "offline": True,
            }
        )
        config = base.model_copy(update={"feed": feed_config})
        clock = SystemClock()
        path = tmp_path / "run.sqlite"
        ledger = await SqliteLedger(path).open()
        feed = PolymarketFeed(config.feed, config.hot_assets, clock)
        parts = build_engine(config, clock, ledger, venue="emulator", feed=feed, health=feed.health)
        source = sentiment_source_for(config, clock, offline=True)
        runner = parts.live_runner(feed, ledger, sentiment=source)
        run = asyncio.create_task(runner.run(RUN_S, starting_cash=parts.starting_cash))
        await asyncio.sleep(INJECT_AT_S)
        core = parts.core
        # The busiest binary market with a two-sided book: the likeliest to pass the
        # event-driven strategy's risk levels, as a news trader would pick it.
        books = core.intake.books.books
        candidates = [
            m
            for m in core.registry.markets
            if not m.neg_risk
            and all(
                books.get(t) is not None and books[t].best_bid and books[t].best_ask
                for t in m.token_ids
            )
        ]
        assert candidates, "no binary market with a two-sided book after 20 s"
        market = max(candidates, key=lambda m: (m.volume_24h, -books[m.token_ids[0]].spread()))
        async with httpx.AsyncClient(timeout=5.0) as http:
            injected_at = clock.time()
            answer = await http.post(
                f"{urls.admin}/news",
                json={"market": market.condition_id, "title": HEADLINE, "move": 0.06},
                headers=urls.admin_headers(),
            )
        assert answer.status_code == 200, answer.text
        final = await run
        await ledger.close()
    finally:
        await emulator.stop()

    assert final.state == "stopped"
    db = sqlite3.connect(path)
    per_strategy = dict(db.execute("SELECT strategy, count(*) FROM signals GROUP BY strategy"))
    for slot in ("mean_reversion", "momentum_scalping", "event_driven", "micro_arbitrage"):
        assert per_strategy.get(slot, 0) > 0, (slot, per_strategy)
    detected = db.execute(
        "SELECT count(*) FROM baskets WHERE strategy = 'cross_market_arbitrage'"
        " AND decision = 'detected (weight 0)' AND kind = 'neg_risk'"
    ).fetchone()[0]
    assert detected > 0, per_strategy
    traded = db.execute(
        "SELECT count(*) FROM orders WHERE strategy = 'cross_market_arbitrage'"
    ).fetchone()[0]
    assert traded == 0  # weight 0: never executed
    # The headline was scored and tied to its market...
    moved = [
        json.loads(markets)
        for (markets,) in db.execute(
            "SELECT markets_json FROM sentiment WHERE headline = ?", (HEADLINE,)
        )
    ]
    assert moved
    assert market.condition_id in moved[0]
    # ...and the event-driven strategy acted on it within 2 s.
    tokens = market.token_ids
    first = db.execute(
        "SELECT min(at) FROM signals WHERE strategy = 'event_driven' AND at >= ?"
        f" AND asset_id IN ({','.join('?' * len(tokens))})",
        (injected_at, *tokens),
    ).fetchone()[0]
    assert first is not None, "the event-driven strategy never signalled on the injected news"
    reaction = first - injected_at
    print(f"event-driven reaction to an injected headline: {reaction * 1000:.0f} ms")
    assert reaction <= REACTION_S
    # The snapshot shows what the ledger holds.
    names = {row.name for row in final.strategies}
    assert {"event_driven", "cross_market_arbitrage"} <= names
    assert any(a.strategy == "cross_market_arbitrage" and not a.executed for a in final.arbitrage)
    assert final.sentiment.source == "emulator"
    assert any(h.title == HEADLINE for h in final.sentiment.headlines)

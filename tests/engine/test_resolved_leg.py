"""Review of issue 9: a market_resolved settles the market and "its books stop trading"
(core.FeedControl.market_resolved), yet the outcome market of a neg-risk event that
resolved stays in its event group: cross-market arbitrage prices the event's basket with
the resolved market's last ask, and the basket desk sends an order for that leg (the
paper venue refuses it; the venue would too), so the other legs are bought for a basket
that cannot be completed."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.config.strategy import CrossMarketArbitrageParams
from engine.market.markets import MarketInfo, Outcome
from engine.strategies.cross_market_arbitrage import CrossMarketArbitrage
from tests.engine.test_decisions import rig


def outcome_market(i: int) -> MarketInfo:
    return MarketInfo(
        f"0xm{i}",
        f"Will candidate {i} win?",
        f"c{i}",
        (Outcome(f"Y{i}", "Yes"), Outcome(f"N{i}", "No")),
        neg_risk=True,
        event_id="E",
        event_markets=3,
    )


def book(asset: str, market: str, bid: str, ask: str, ts: int) -> dict[str, Any]:
    return {
        "event_type": "book",
        "asset_id": asset,
        "market": market,
        "bids": [{"price": bid, "size": "100"}],
        "asks": [{"price": ask, "size": "100"}],
        "timestamp": str(ts),
    }


async def test_a_resolved_outcome_is_never_a_basket_leg(tmp_path: Path) -> None:
    strategy = CrossMarketArbitrage(
        CrossMarketArbitrageParams(margin_bps=0, max_shares=Decimal(10), include_no_side=False),
        weight=1.0,
    )
    r = await rig(tmp_path / "l.sqlite", [strategy])
    markets = [outcome_market(i) for i in range(3)]
    r.core.on_markets(markets)
    # Candidate 0 drops out: its market resolves NO while the event goes on.
    resolution = {
        "event_type": "market_resolved",
        "market": "0xm0",
        "winning_asset_id": "N0",
        "assets_ids": ["Y0", "N0"],
    }
    r.core.on_frame(json.dumps(resolution), r.clock.time())
    assert "0xm0" in r.core.books.resolved
    # Its book as last seen (the feed stops streaming it), and the other two outcomes.
    r.frame(
        book("Y0", "0xm0", "0.01", "0.02", 1_000),
        book("Y1", "0xm1", "0.30", "0.31", 1_000),
        book("Y2", "0xm2", "0.30", "0.31", 1_000),
    )
    resolved_orders = [o for o in r.sent if o.asset_id in ("Y0", "N0")]
    assert not resolved_orders, (
        f"orders sent on a resolved market: {[(o.asset_id, o.reason) for o in resolved_orders]}"
        f"; every order: {[(o.asset_id, o.side.value) for o in r.sent]}"
    )
    await r.ledger.close()

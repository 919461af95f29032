"""The basket desk: a resolved outcome is never a basket leg; a complete pair is held as a
hedge (no global exit sells one leg alone, nor another strategy's exit), and one-leg-fill
protection completes or unwinds the legs until they balance."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.config.strategy import CrossMarketArbitrageParams, MicroArbitrageParams
from engine.ledger.reader import LedgerReader
from engine.market.markets import MarketInfo, Outcome
from engine.orders import Side
from engine.strategies.base import Signal
from engine.strategies.cross_market_arbitrage import CrossMarketArbitrage
from engine.strategies.micro_arbitrage import MicroArbitrage
from tests.kit.engine import BasketOnce, Once, book, level, pair
from tests.kit.engine import open_rig as rig


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


def outcome_book(asset: str, market: str, bid: str, ask: str, ts: int) -> dict[str, Any]:
    return {
        "event_type": "book",
        "asset_id": asset,
        "market": market,
        "bids": [{"price": bid, "size": "100"}],
        "asks": [{"price": ask, "size": "100"}],
        "timestamp": str(ts),
    }


async def test_a_resolved_outcome_is_never_a_basket_leg(tmp_path: Path) -> None:
    """Reproduced (review of issue 9): a market_resolved settles the market and its books
    stop trading, yet the outcome market of a neg-risk event that resolved stayed in its
    event group: cross-market arbitrage priced the event's basket with the resolved
    market's last ask and sent an order for that leg, so the other legs were bought for a
    basket that cannot be completed."""
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
    assert r.core.registry.is_resolved("0xm0")
    # Its book as last seen (the feed stops streaming it), and the other two outcomes.
    r.frame(
        outcome_book("Y0", "0xm0", "0.01", "0.02", 1_000),
        outcome_book("Y1", "0xm1", "0.30", "0.31", 1_000),
        outcome_book("Y2", "0xm2", "0.30", "0.31", 1_000),
    )
    resolved_orders = [o for o in r.sent if o.asset_id in ("Y0", "N0")]
    assert not resolved_orders, (
        f"orders sent on a resolved market: {[(o.asset_id, o.reason) for o in resolved_orders]}"
        f"; every order: {[(o.asset_id, o.side.value) for o in r.sent]}"
    )
    await r.ledger.close()


async def test_a_complete_pair_is_not_sold_leg_by_leg_by_the_global_max_holding(
    tmp_path: Path,
) -> None:
    """BASKET_LEG_EXITS says basket legs are "hedged and held to resolution", but it only
    turns off take-profit and stop-loss: the global [exits] max_holding_s (3600 by
    default) still sells each leg into its bid, giving the spread back."""
    r = await rig(tmp_path / "l.sqlite", [BasketOnce(pair(10 * 10**6, yes=4200, no=5200))])
    r.frame(
        book("Y", [("0.40", "100")], [("0.42", "100")]),
        book("N", [("0.50", "100")], [("0.52", "100")]),
    )
    assert r.position("Y") == 10 * 10**6
    assert r.position("N") == 10 * 10**6
    r.tick(0.2)  # the basket resolves "complete"
    r.clock.advance_to(r.clock.time() + 3_601.0)
    # The books go on ticking (a fresh book: an exit is not held as stale).
    r.frame(level("Y", "0.40", "90", "BUY"), level("N", "0.50", "90", "BUY"))
    r.tick(0.2)
    sells = [o for o in r.sent if o.side.value == "SELL"]
    assert sells == [], [(o.asset_id, o.reason) for o in sells]
    await r.ledger.close()


async def test_a_completion_over_a_thin_ask_still_balances_the_pair(tmp_path: Path) -> None:
    """Reproduced: one-leg-fill protection priced the completion off the best ask alone
    and sent a FAK capped at that ask: when that level was thinner than the missing
    shares, the FAK filled part, the rest of the lone leg stayed naked, and the outcome
    still said "completed: bought 6". Completion is priced over the book's depth now, and
    repairs are watched until the legs balance."""
    r = await rig(tmp_path / "l.sqlite", [BasketOnce(pair(10 * 10**6, yes=4200, no=5200))])
    r.frame(
        book("Y", [("0.40", "100")], [("0.42", "100")]),
        book("N", [("0.50", "100")], [("0.52", "4")]),
    )
    assert r.position("Y") == 10 * 10**6
    assert r.position("N") == 4 * 10**6
    # NO's 0.52 level is gone; 0.54 shows 2 shares, 0.55 plenty: still 0.42 + 0.55 < 1.
    r.frame(
        level("N", "0.52", "0", "SELL"),
        level("N", "0.54", "2", "SELL"),
        level("N", "0.55", "100", "SELL"),
    )
    for _ in range(50):  # 10 s of housekeeping: far past basket_leg_timeout_s
        r.tick(0.2)
    await r.ledger.flush()
    outcome = LedgerReader(r.ledger.path).baskets()[0].outcome
    yes, no = r.position("Y"), r.position("N")
    assert yes == no, f"YES {yes / 1e6} vs NO {no / 1e6} after outcome {outcome!r}"
    await r.ledger.close()


async def test_another_strategys_exit_does_not_sell_the_basket_leg_that_hedges_a_pair(
    tmp_path: Path,
) -> None:
    """Reproduced: a token held by one strategy and then bought as a basket leg was one
    lot, owned by the first strategy: its exit sold the whole position, the basket's
    hedged leg with it, and left the other leg of the pair naked. Lots are per owner now."""
    buyer = Once(
        "buyer",
        1.0,
        lambda ctx: Signal("buyer", "Y", Side.BUY, 1.0, "in") if ctx.asset_id == "Y" else None,
    )
    r = await rig(tmp_path / "l.sqlite", [buyer])
    r.frame(
        book("Y", [("0.40", "100")], [("0.42", "100")]),
        book("N", [("0.50", "100")], [("0.52", "100")]),
    )
    assert r.position("Y") == 10 * 10**6  # the buyer's own 10
    arb = BasketOnce(pair(10 * 10**6, yes=4300, no=5200))
    r.core.strategies[:] = [arb]
    r.core.aggregator.weights["arb"] = 1.0
    r.frame(level("Y", "0.40", "90", "BUY"))  # the pair: 10 YES + 10 NO below 1
    assert r.position("Y") == 20 * 10**6
    assert r.position("N") == 10 * 10**6
    r.tick(0.2)
    done = Once("buyer", 1.0, lambda ctx: Signal("buyer", "Y", Side.SELL, 1.0, "done", True))
    r.core.strategies[:] = [done]
    r.frame(level("Y", "0.40", "80", "BUY"))  # the buyer exits its own 10
    # The pair (10 YES + 10 NO) is still whole.
    assert r.position("Y") >= r.position("N"), (
        r.position("Y"),
        r.position("N"),
    )
    await r.ledger.close()


async def test_the_pair_exit_never_leaves_one_leg_held_alone(tmp_path: Path) -> None:
    """Reproduced: the exit was decided on the pair (both bids against what the pair
    cost) but sent per token, on that token's own tick: YES was sold when YES ticked;
    when NO ticked next its bid had fallen, the pair test failed, and NO was held alone,
    a naked position with no take-profit or stop-loss. The exit is a selling basket now."""
    r = await rig(tmp_path / "l.sqlite", [MicroArbitrage(MicroArbitrageParams())])
    r.core.aggregator.weights["micro_arbitrage"] = 1.0
    r.frame(
        book("Y", [("0.44", "100")], [("0.45", "100")]),
        book("N", [("0.49", "100")], [("0.50", "100")]),
    )
    held = r.position("Y")
    assert held > 0
    assert r.position("N") == held  # the pair, bought at 0.95
    r.tick(0.2)  # the basket resolves "complete"
    # YES is bid up: 0.50 + 0.49 after fees beats the 0.95 paid, and the gap is gone.
    r.frame(
        level("Y", "0.45", "0", "SELL"),
        level("Y", "0.51", "100", "SELL"),
        level("Y", "0.50", "100", "BUY"),
    )
    # Then NO's bid falls away.
    r.frame(level("N", "0.49", "0", "BUY"), level("N", "0.40", "100", "BUY"))
    yes, no = r.position("Y"), r.position("N")
    assert yes == no, f"YES {yes / 1e6} held vs NO {no / 1e6}: one leg of the pair alone"
    await r.ledger.close()


async def test_a_pair_exit_that_sells_one_leg_short_sells_the_rest(tmp_path: Path) -> None:
    """The exit basket's NO leg finds only 10 of its 25 shares bid within its limit (one
    tick under the bid): the next protection round sells the other 15 into the bids
    below, within execution.flatten_max_slippage_ticks, so no lone leg is left."""
    r = await rig(tmp_path / "l.sqlite", [MicroArbitrage(MicroArbitrageParams())])
    r.core.aggregator.weights["micro_arbitrage"] = 1.0
    r.frame(
        book("Y", [("0.44", "100")], [("0.45", "100")]),
        book("N", [("0.49", "100")], [("0.50", "100")]),
    )
    held = r.position("N")
    assert held == r.position("Y") == 25 * 10**6
    r.tick(0.2)  # the entry basket resolves "complete"
    r.tick(6.0)  # past the entry cooldown: the market's basket is free again
    # The gap closes: YES bid 0.50, NO bid 0.49 but only 10 shares there (then 0.46).
    r.frame(
        level("Y", "0.45", "0", "SELL"),
        level("Y", "0.51", "100", "SELL"),
        level("Y", "0.50", "100", "BUY"),
        level("N", "0.49", "10", "BUY"),
        level("N", "0.46", "100", "BUY"),
    )
    assert r.position("Y") == 0
    assert r.position("N") == 15 * 10**6
    r.tick(0.6)  # protection: sell the rest of the lagging leg
    assert r.position("N") == 0
    await r.ledger.flush()
    exit_basket = LedgerReader(r.ledger.path).baskets()[-1]
    assert exit_basket.basket.decision == "order (exit)"
    assert exit_basket.outcome is not None
    assert exit_basket.outcome.startswith("sold the rest: sold 15 of leg 2")
    reasons = {x.event.reason for x in LedgerReader(r.ledger.path).exits()}
    assert reasons == {"micro_arbitrage_external_edge_cost"}
    await r.ledger.close()

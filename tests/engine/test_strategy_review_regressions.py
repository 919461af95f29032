"""Defects a review of the strategies and sentiment work found, each as a test that
failed before its fix (the docstrings say what was wrong)."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from engine.clock import SimClock
from engine.config import EngineConfig
from engine.config.strategy import MicroArbitrageParams
from engine.ledger.reader import LedgerReader
from engine.ledger.writer import SqliteLedger
from engine.market.fees import FeeSchedule
from engine.market.health import FeedHealth, FeedSource
from engine.orders import Side
from engine.strategies.base import Signal
from engine.strategies.micro_arbitrage import MicroArbitrage
from polyterm.faces.wiring import build_engine
from tests.engine.harness import NoFeed
from tests.engine.test_decisions import (
    MARKET,
    OPEN,
    T0,
    BasketOnce,
    Once,
    book,
    level,
    pair,
    rig,
)

FEED = replace(MARKET, fees=FeeSchedule(rate=Decimal("0.25"), exponent=Decimal("1")))


async def test_strategy_pnl_adds_up_to_the_accounts_pnl_when_fees_are_paid(
    tmp_path: Path,
) -> None:
    buyer = Once(
        "buyer",
        1.0,
        lambda ctx: Signal("buyer", "Y", Side.BUY, 1.0, "in") if ctx.asset_id == "Y" else None,
    )
    r = await rig(tmp_path / "l.sqlite", [buyer], {"strategy": {"max_slippage_ticks": 0}})
    r.core.on_markets([FEED])
    r.frame(*OPEN)  # buys 10 YES at 0.42, paying a taker fee
    assert r.core.portfolio.position("Y") == 10 * 10**6
    assert r.core.portfolio.fees > 0
    r.frame(level("Y", "0.41", "100", "BUY"))  # the bid moves: still held
    snap = r.parts.builder.build()
    row = next(s for s in snap.strategies if s.name == "buyer")
    account = snap.realized_pnl + snap.unrealized_pnl
    # One strategy, one position: its PnL is the account's PnL (the fee is a cost to both).
    assert row.pnl == account, (row.pnl, account, row.fees)
    assert row.pnl == row.price_moves - row.spread_paid - row.fees
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
    assert r.core.portfolio.position("Y") == 10 * 10**6
    assert r.core.portfolio.position("N") == 10 * 10**6
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
    assert r.core.portfolio.position("Y") == 10 * 10**6
    assert r.core.portfolio.position("N") == 4 * 10**6
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
    yes, no = r.core.portfolio.position("Y"), r.core.portfolio.position("N")
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
    assert r.core.portfolio.position("Y") == 10 * 10**6  # the buyer's own 10
    arb = BasketOnce(pair(10 * 10**6, yes=4300, no=5200))
    r.core.strategies[:] = [arb]
    r.core.aggregator.weights["arb"] = 1.0
    r.frame(level("Y", "0.40", "90", "BUY"))  # the pair: 10 YES + 10 NO below 1
    assert r.core.portfolio.position("Y") == 20 * 10**6
    assert r.core.portfolio.position("N") == 10 * 10**6
    r.tick(0.2)
    done = Once("buyer", 1.0, lambda ctx: Signal("buyer", "Y", Side.SELL, 1.0, "done", True))
    r.core.strategies[:] = [done]
    r.frame(level("Y", "0.40", "80", "BUY"))  # the buyer exits its own 10
    # The pair (10 YES + 10 NO) is still whole.
    assert r.core.portfolio.position("Y") >= r.core.portfolio.position("N"), (
        r.core.portfolio.position("Y"),
        r.core.portfolio.position("N"),
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
    held = r.core.portfolio.position("Y")
    assert held > 0
    assert r.core.portfolio.position("N") == held  # the pair, bought at 0.95
    r.tick(0.2)  # the basket resolves "complete"
    # YES is bid up: 0.50 + 0.49 after fees beats the 0.95 paid, and the gap is gone.
    r.frame(
        level("Y", "0.45", "0", "SELL"),
        level("Y", "0.51", "100", "SELL"),
        level("Y", "0.50", "100", "BUY"),
    )
    # Then NO's bid falls away.
    r.frame(level("N", "0.49", "0", "BUY"), level("N", "0.40", "100", "BUY"))
    yes, no = r.core.portfolio.position("Y"), r.core.portfolio.position("N")
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
    held = r.core.portfolio.position("N")
    assert held == r.core.portfolio.position("Y") == 25 * 10**6
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
    assert r.core.portfolio.position("Y") == 0
    assert r.core.portfolio.position("N") == 15 * 10**6
    r.tick(0.6)  # protection: sell the rest of the lagging leg
    assert r.core.portfolio.position("N") == 0
    await r.ledger.flush()
    exit_basket = LedgerReader(r.ledger.path).baskets()[-1]
    assert exit_basket.basket.decision == "order (exit)"
    assert exit_basket.outcome is not None
    assert exit_basket.outcome.startswith("sold the rest: sold 15 of leg 2")
    reasons = {x.event.reason for x in LedgerReader(r.ledger.path).exits()}
    assert reasons == {"micro_arbitrage_external_edge_cost"}
    await r.ledger.close()


async def test_a_restart_keeps_basket_legs_hedged(tmp_path: Path) -> None:
    """The legs of a basket bought before a restart come back as lots with their exits
    off (held to resolution), not with the global take-profit, stop-loss and maximum
    holding time that would sell one leg alone; another strategy's lot on the same token
    comes back as its own lot with the global rules."""
    buyer = Once(
        "buyer",
        1.0,
        lambda ctx: Signal("buyer", "Y", Side.BUY, 1.0, "in") if ctx.asset_id == "Y" else None,
    )
    path = tmp_path / "l.sqlite"
    r = await rig(path, [buyer, BasketOnce(pair(10 * 10**6, yes=4200, no=5200))])
    r.frame(
        book("Y", [("0.40", "100")], [("0.42", "100")]),
        book("N", [("0.50", "100")], [("0.52", "100")]),
    )
    assert r.core.portfolio.position("Y") == 20 * 10**6
    await r.ledger.close()
    reader = LedgerReader(path)
    state = reader.load_state()
    strategies = {x.event.fill.order_id: x.event.strategy for x in reader.fills()}
    again = SimClock(T0 + 60)
    health = FeedHealth()
    health.set_source(FeedSource.REPLAY, 0.0)
    ledger = await SqliteLedger(path, autocommit=False).open()
    parts = build_engine(
        EngineConfig(),
        again,
        ledger,
        feed=NoFeed(),
        health=health,
        mode="paper",
        venue="t",
        strategies=[],
        state=state,
        lot_strategies=strategies,
    )
    lots = parts.core.exits
    for asset in ("Y", "N"):
        leg = lots.get(asset, "arb")
        assert leg is not None
        assert (leg.take_profit, leg.stop_loss, leg.max_holding_s) == (0, 0, 0), asset
    own = lots.get("Y", "buyer")
    assert own is not None
    assert own.shares == 10 * 10**6
    assert (own.take_profit, own.stop_loss, own.max_holding_s) == (None, None, None)
    await ledger.close()


async def test_a_book_the_feed_no_longer_streams_ages_from_its_own_frames(
    tmp_path: Path,
) -> None:
    """A message on a live WebSocket vouches for the books that connection carries, not
    for a book the hot-asset registry dropped from the subscription: that one ages from
    its own last frame, so no order is priced off it once older than max_book_age_s."""
    r = await rig(tmp_path / "l.sqlite", [])
    r.frame(*OPEN)
    r.clock.advance_to(T0 + 10.0)
    r.core.on_frame(json.dumps([level("N", "0.56", "90", "BUY")]), r.clock.time(), "ws")
    health = r.core.health
    assert r.core.book_age("Y") == 0.0  # one source vouches for every book (a tape)
    # Sharded: only the connection carrying a book vouches for it; Y is carried by none
    # (dropped from the subscription), N by one that spoke just now.
    now = r.clock.monotonic()
    health.last_message_for = lambda asset: now if asset == "N" else None
    assert r.core.book_age("Y") == 10.0
    assert r.core.book_age("N") == 0.0
    await r.ledger.close()

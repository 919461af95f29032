"""The decision pass on a real core (paper venue, SQLite ledger, frames through the book
store): aggregation over the voters, conflicts, weight-0 detections, a signal's execution
style, size hint and exit levels, exits that only close their own strategy's lots, the
audit row of every decision, PnL attribution, headlines into the sentiment book, and
baskets: never partially approved, and one-leg-fill protection on the paper exchange.
(Aggregation itself: tests/engine/strategies/test_aggregator.py.)"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import tempfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.decisions import DETECTED
from engine.fixed import SHARE_STEP
from engine.ledger.reader import LedgerReader
from engine.market.fees import FeeSchedule
from engine.market.sentiment import Headline
from engine.orders import OrderType, Side
from engine.risk.baskets import BasketAccount, BasketLeg, size_basket
from engine.risk.sizing import Holding, SizingLimits
from engine.strategies.base import (
    Basket,
    Execution,
    ExitLevels,
    MarketContext,
    Signal,
)
from tests.kit.engine import (
    MARKET,
    OPEN,
    T0,
    BasketOnce,
    Once,
    Rig,
    book,
    level,
    open_rig,
    pair,
)
from tests.kit.hypothesis import examples


async def rig(
    path: Path,
    strategies: list[Any],
    cfg: dict[str, Any] | None = None,
    *,
    sentiment: bool = False,
) -> Rig:
    return await open_rig(path, strategies, cfg, sentiment=sentiment)


async def test_a_signal_rests_or_takes_sizes_and_exits_as_it_says(tmp_path: Path) -> None:
    rest = Once(
        "rester",
        1.0,
        lambda ctx: (
            Signal(
                "rester",
                "N",
                Side.BUY,
                0.8,
                "rest it",
                size_hint=7 * 10**6,
                execution=Execution.REST,
                edge_bps=12.5,
                inputs={"z": -2.0},
            )
            if ctx.asset_id == "N"
            else None
        ),
    )
    take = Once(
        "taker",
        1.0,
        lambda ctx: (
            Signal(
                "taker",
                "Y",
                Side.BUY,
                1.0,
                "take it",
                execution=Execution.TAKE,
                exits=ExitLevels(take_profit=300, stop_loss=0, max_holding_s=30.0),
                edge_bps=40.0,
                sentiment_source="emulator",
            )
            if ctx.asset_id == "Y"
            else None
        ),
    )
    r = await rig(tmp_path / "l.sqlite", [rest, take], {"strategy": {"order_style": "take"}})
    made = r.frame(*OPEN)
    assert made == 2
    by_strategy = {o.strategy: o for o in r.sent}
    resting = by_strategy["rester"]
    assert (resting.order_type, resting.post_only, resting.price) == (OrderType.GTD, True, 5600)
    assert resting.size == 7 * 10**6  # the size hint
    taken = by_strategy["taker"]
    assert (taken.order_type, taken.price) == (OrderType.FAK, 4200 + 100)  # ask + 1 tick
    lot = r.core.accounting.lots.lots["Y"]["taker"]
    assert (lot.take_profit, lot.stop_loss, lot.max_holding_s) == (300, 0, 30.0)
    # Its own levels, not the global 0.05: the bid at entry + 0.03 takes the profit. (The
    # ask moves up first: a bid through it would be a crossed book, which nobody trades.)
    lift = level("Y", "0.47", "100", "SELL")
    lift["price_changes"].insert(0, {"asset_id": "Y", "price": "0.42", "size": "0", "side": "SELL"})
    lift["price_changes"].append({"asset_id": "Y", "price": "0.45", "size": "100", "side": "BUY"})
    r.frame(lift)
    assert r.core.accounting.exit_reasons["take_profit"] == 1
    assert r.position("Y") == 0
    await r.ledger.flush()
    rows = {x.event.strategy: x.event for x in LedgerReader(r.ledger.path).signals()}
    assert rows["rester"].decision == "order"
    assert rows["rester"].order_id == resting.order_id
    assert json.loads(rows["rester"].inputs_json) == {"z": -2.0}
    assert rows["rester"].edge_bps == 12.5
    assert rows["taker"].sentiment_source == "emulator"
    assert rows["taker"].latency_us is not None
    assert rows["taker"].latency_us >= 0
    await r.ledger.close()


async def test_an_exit_signal_closes_only_its_own_strategys_lot(tmp_path: Path) -> None:
    buyer = Once(
        "buyer",
        1.0,
        lambda ctx: Signal("buyer", "Y", Side.BUY, 1.0, "in") if ctx.asset_id == "Y" else None,
    )
    r = await rig(tmp_path / "l.sqlite", [buyer])
    r.frame(*OPEN)
    held = r.position("Y")
    assert held == 10 * 10**6
    bystander = Once(
        "bystander",
        1.0,
        lambda ctx: Signal("bystander", "Y", Side.SELL, 1.0, "out", True) if ctx.position else None,
    )
    r.core.strategies.append(bystander)
    r.core.aggregator.weights["bystander"] = 1.0
    r.frame(level("Y", "0.41", "50", "BUY"))
    assert r.position("Y") == held  # not its lot
    owner_exit = Once("buyer", 1.0, lambda ctx: Signal("buyer", "Y", Side.SELL, 1.0, "done", True))
    r.core.strategies[:] = [owner_exit]
    r.frame(level("Y", "0.41", "60", "BUY"))
    assert r.position("Y") == 0
    await r.ledger.flush()
    decisions = [
        (x.event.strategy, x.event.decision) for x in LedgerReader(r.ledger.path).signals()
    ]
    assert ("bystander", "exit ignored: the lot is buyer's") in decisions
    assert decisions[-1] == ("buyer", "order")
    await r.ledger.close()


async def test_weight_zero_signals_are_recorded_as_detected_and_never_trade(tmp_path: Path) -> None:
    watcher = Once(
        "watcher", 0.0, lambda ctx: Signal("watcher", ctx.asset_id, Side.BUY, 1.0, "seen")
    )
    r = await rig(tmp_path / "l.sqlite", [watcher])
    assert r.frame(*OPEN) == 0
    await r.ledger.flush()
    rows = LedgerReader(r.ledger.path).signals()
    assert [x.event.decision for x in rows] == [DETECTED.text]
    assert not r.sent
    row = next(s for s in r.engine.builder.build().strategies if s.name == "watcher")
    assert (row.detected, row.signals, row.orders) == (1, 0, 0)
    await r.ledger.close()


async def test_pnl_is_attributed_to_spread_fees_and_price_moves(tmp_path: Path) -> None:
    buyer = Once(
        "buyer",
        1.0,
        lambda ctx: Signal("buyer", "Y", Side.BUY, 1.0, "in") if ctx.asset_id == "Y" else None,
    )
    r = await rig(tmp_path / "l.sqlite", [buyer], {"strategy": {"max_slippage_ticks": 0}})
    r.frame(*OPEN)  # buys 10 at the ask 0.42; the mid was 0.41
    r.frame(level("Y", "0.40", "0", "BUY"), level("Y", "0.44", "100", "BUY"))  # bid 0.44
    row = next(s for s in r.engine.builder.build().strategies if s.name == "buyer")
    assert row.spread_paid == Decimal("0.1")  # (0.42 - 0.41) x 10
    assert row.fees == 0
    assert row.unrealized == Decimal("0.2")  # (0.44 - 0.42) x 10 at the bid
    assert row.pnl == row.price_moves - row.spread_paid - row.fees
    assert row.price_moves == Decimal("0.3")  # mid 0.41 -> bid 0.44
    await r.ledger.close()


async def test_headlines_are_scored_recorded_and_decided_on_at_once(tmp_path: Path) -> None:
    seen: list[MarketContext] = []

    class Reader:
        name = "reader"
        weight = 1.0

        def on_tick(self, ctx: MarketContext) -> None:
            seen.append(ctx)

    r = await rig(tmp_path / "l.sqlite", [Reader()], sentiment=True)
    r.frame(*OPEN)
    assert all(ctx.sentiment is None for ctx in seen)
    seen.clear()
    news = Headline(
        "jsonl",
        "Wire",
        "Great news: a wonderful, sunny week ahead",
        "",
        "https://example.invalid/1",
        T0,
        markets=("0xm",),
    )
    assert r.core.on_headlines([news]) == 1
    r.core.decide()  # no book changed: the headline alone made both tokens due
    assert {ctx.asset_id for ctx in seen} == {"Y", "N"}
    reading = seen[0].sentiment
    assert reading is not None
    assert reading.score > 0
    assert reading.source == "jsonl"
    await r.ledger.flush()
    rows = LedgerReader(r.ledger.path).sentiment()
    assert [(x.event.headline, x.event.markets) for x in rows] == [(news.title, ("0xm",))]
    view = r.engine.builder.build().sentiment
    assert [m.market for m in view.markets] == ["0xm"]
    assert view.headlines[0].markets == (MARKET.question,)
    await r.ledger.close()


def test_contexts_reuse_book_views_and_carry_complement_event_flow_and_lots() -> None:
    async def go(path: Path) -> list[MarketContext]:
        grab = Once("grab", 1.0, lambda ctx: None)
        r = await rig(path, [grab])
        r.frame(*OPEN)
        r.core.on_frame(
            json.dumps(
                {
                    "event_type": "last_trade_price",
                    "asset_id": "Y",
                    "market": "0xm",
                    "price": "0.42",
                    "size": "30",
                    "side": "BUY",
                    "timestamp": "3",
                }
            ),
            r.clock.time(),
        )
        r.core.decide()
        await r.ledger.close()
        return grab.seen

    with tempfile.TemporaryDirectory() as d:
        seen = asyncio.run(go(Path(d) / "l.sqlite"))
    ys = [c for c in seen if c.asset_id == "Y"]
    assert len(ys) == 2
    assert ys[0].book is ys[1].book  # one view per book, made once
    assert ys[1].complement is not None
    assert ys[1].complement.asset_id == "N"
    assert ys[1].event is not None
    assert ys[1].event.markets == (MARKET,)
    assert ys[1].flow is not None
    assert ys[1].flow.prints == 1
    assert ys[1].book_of("N") is ys[1].complement


# -- baskets -------------------------------------------------------------------------------
LIMITS = dict(
    max_order=25 * 10**6,
    max_position=50 * 10**6,
    bankroll_fraction_bps=500,
    max_market_exposure=100 * 10**10,
    max_event_exposure=200 * 10**10,
    max_total_exposure=500 * 10**10,
)


@settings(max_examples=examples(200), deadline=None)
@given(
    prices=st.lists(st.integers(100, 9900), min_size=2, max_size=6),
    wanted=st.integers(1, 60).map(lambda n: n * 10**6),
    cash=st.integers(0, 2000).map(lambda n: n * 10**10 // 2),
    held=st.integers(0, 60).map(lambda n: n * 10**6),
    order_cap=st.integers(1, 40),
    event_cap=st.integers(1, 300),
    min_size=st.integers(1, 10),
)
def test_a_basket_is_sized_whole_or_refused_whole(
    prices: list[int],
    wanted: int,
    cash: int,
    held: int,
    order_cap: int,
    event_cap: int,
    min_size: int,
) -> None:
    legs = [
        BasketLeg(f"t{i}", f"m{i}", "e", p, held if i == 0 else 0, min_size * 10**6, MARKET.fees)
        for i, p in enumerate(prices)
    ]
    limits = SizingLimits(
        **(LIMITS | {"max_order": order_cap * 10**6, "max_event_exposure": event_cap * 10**10})
    )
    account = BasketAccount(
        equity=cash * 4,
        cash=cash,
        holdings={"m0": Holding({"t0": held}, held * prices[0])},
        event_exposure={"e": held * prices[0]},
        total_exposure=held * prices[0],
    )
    out = size_basket(legs, wanted, account, limits)
    if out.size == 0:
        assert out.rule is not None
        assert out.reason.startswith("refused whole")
        return
    # One size for every leg, every leg at least its minimum, and every rule holds with
    # all legs counted together.
    assert out.size % SHARE_STEP == 0
    assert min_size * 10**6 <= out.size <= wanted
    cost = sum(p * out.size for p in prices)
    assert cost <= cash
    assert out.size <= order_cap * 10**6
    assert held + out.size <= limits.max_position
    assert held * prices[0] + cost <= max(event_cap * 10**10, held * prices[0])
    assert cost <= account.equity * 500 // 10_000


@settings(max_examples=examples(25), deadline=None)
@given(
    size=st.integers(1, 40).map(lambda n: n * 10**6),
    yes_depth=st.integers(1, 60),
    no_depth=st.integers(1, 60),
    max_order=st.integers(5, 50),
    market_cap=st.integers(1, 40),
    global_orders=st.integers(1, 3),
)
def test_the_core_sends_every_leg_or_none(
    size: int, yes_depth: int, no_depth: int, max_order: int, market_cap: int, global_orders: int
) -> None:
    """Whatever the caps, the core's outbox holds all of a basket's legs, at one size,
    or none of them: never one leg."""

    async def go(path: Path) -> tuple[list[Any], str]:
        r = await rig(
            path,
            [BasketOnce(pair(size, yes=4900, no=4900))],
            {
                "risk": {
                    "max_order_shares": str(max_order),
                    "max_position_shares": "50",
                    "max_market_exposure": str(market_cap),
                },
                "strategy": {"order_size": "5"},
                "trading": {"order_frequency": {"max_orders": global_orders}},
            },
        )
        r.frame(
            book("Y", [("0.40", "100")], [("0.49", str(yes_depth))]),
            book("N", [("0.40", "100")], [("0.49", str(no_depth))]),
        )
        await r.ledger.flush()
        decision = LedgerReader(r.ledger.path).baskets()[0].basket.decision
        await r.ledger.close()
        return r.sent, decision

    with tempfile.TemporaryDirectory() as d:
        sent, decision = asyncio.run(go(Path(d) / "l.sqlite"))
    entries = [o for o in sent if "basket" in o.reason and "unwind" not in o.reason]
    legs = [o for o in entries if "complete the missing" not in o.reason]
    if decision.startswith("order"):
        assert sorted(o.asset_id for o in legs) == ["N", "Y"]
        assert len({o.size for o in legs}) == 1
        assert all(o.order_type is OrderType.FAK for o in legs)
    else:
        assert decision.startswith("refused: ")
        assert legs == []


async def test_a_lone_leg_is_completed_while_the_edge_holds(tmp_path: Path) -> None:
    r = await rig(tmp_path / "l.sqlite", [BasketOnce(pair(10 * 10**6, yes=4200, no=5200))])
    # NO shows only 4 shares at 0.52: the NO leg fills 4 of 10 (FAK), YES fills 10.
    r.frame(
        book("Y", [("0.40", "100")], [("0.42", "100")]),
        book("N", [("0.50", "100")], [("0.52", "4")]),
    )
    assert r.position("Y") == 10 * 10**6
    assert r.position("N") == 4 * 10**6
    # The taken level is gone; the next one still leaves the pair below 1 (0.42 + 0.54).
    r.frame(level("N", "0.52", "0", "SELL"), level("N", "0.54", "100", "SELL"))
    r.tick(0.2)
    assert r.position("N") == 10 * 10**6
    await r.ledger.flush()
    record = LedgerReader(r.ledger.path).baskets()[0]
    assert record.basket.decision == "order"
    assert record.outcome == "completed: bought 6 of leg 2 at 0.54"
    assert r.engine.builder.build().arbitrage[0].outcome == record.outcome
    await r.ledger.close()


async def test_a_lone_leg_is_unwound_when_the_edge_is_gone(tmp_path: Path) -> None:
    r = await rig(tmp_path / "l.sqlite", [BasketOnce(pair(10 * 10**6, yes=4200, no=5200))])
    r.frame(
        book("Y", [("0.41", "100")], [("0.42", "100")]),
        book("N", [("0.50", "100")], [("0.52", "4")]),
    )
    # NO now costs 0.60: 0.42 + 0.60 > 1, so the 6 extra YES are sold back.
    r.frame(level("N", "0.52", "0", "SELL"), level("N", "0.60", "100", "SELL"))
    r.tick(0.2)
    assert r.position("Y") == 4 * 10**6
    assert r.position("N") == 4 * 10**6
    await r.ledger.flush()
    reader = LedgerReader(r.ledger.path)
    record = reader.baskets()[0]
    assert record.outcome is not None
    assert record.outcome.startswith("unwound: sold 6 of leg 1")
    closed = [x.event for x in reader.exits()]
    assert [(c.strategy, c.shares) for c in closed] == [("arb", 6 * 10**6)]
    await r.ledger.close()


async def test_weight_zero_baskets_are_detected_recorded_once_and_never_sent(
    tmp_path: Path,
) -> None:
    class Always:
        name = "arb"
        weight = 0.0

        def on_tick(self, ctx: MarketContext) -> Basket:
            return pair(10 * 10**6)

    r = await rig(tmp_path / "l.sqlite", [Always()])
    r.frame(*OPEN)
    r.frame(level("Y", "0.40", "90", "BUY"))  # seen again at once: not recorded again
    assert not r.sent
    await r.ledger.flush()
    reader = LedgerReader(r.ledger.path)
    assert [b.basket.decision for b in reader.baskets()] == [DETECTED.text]
    assert [s.event.decision for s in reader.signals()] == [DETECTED.text]
    db = sqlite3.connect(r.ledger.path)
    assert db.execute("SELECT count(*) FROM orders").fetchone()[0] == 0
    snap = r.engine.builder.build()
    assert [(a.strategy, a.executed) for a in snap.arbitrage] == [("arb", False)]
    await r.ledger.close()


async def test_strategy_pnl_adds_up_to_the_accounts_pnl_when_fees_are_paid(
    tmp_path: Path,
) -> None:
    buyer = Once(
        "buyer",
        1.0,
        lambda ctx: Signal("buyer", "Y", Side.BUY, 1.0, "in") if ctx.asset_id == "Y" else None,
    )
    r = await rig(tmp_path / "l.sqlite", [buyer], {"strategy": {"max_slippage_ticks": 0}})
    r.core.on_markets([replace(MARKET, fees=FeeSchedule(Decimal("0.25"), Decimal("1")))])
    r.frame(*OPEN)  # buys 10 YES at 0.42, paying a taker fee
    assert r.position("Y") == 10 * 10**6
    assert r.core.accounting.portfolio.fees > 0
    r.frame(level("Y", "0.41", "100", "BUY"))  # the bid moves: still held
    snap = r.engine.builder.build()
    row = next(s for s in snap.strategies if s.name == "buyer")
    account = snap.realized_pnl + snap.unrealized_pnl
    # One strategy, one position: its PnL is the account's PnL (the fee is a cost to both).
    assert row.pnl == account, (row.pnl, account, row.fees)
    assert row.pnl == row.price_moves - row.spread_paid - row.fees
    await r.ledger.close()

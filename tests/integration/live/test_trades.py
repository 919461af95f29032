"""Live fills through the strict emulator: every venue status in the ledger, a trade that
fails after it matched, a sell right after a buy, sizing on the venue's balance."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.orders import OrderType, Side
from engine.runtime.manual import ManualOrder
from tests.kit.live import snapshot_where
from tests.kit.live_venue import (
    QUIET,
    WALLET,
    ledger_shares,
    live_engine,
    rows,
    throwaway_key,
    venue_shares,
)
from tests.kit.venue import admin, eventually, venue

pytestmark = pytest.mark.integration
SHARES = 10**6


def ready(snap: object) -> bool:
    return not getattr(snap, "trading_blocks", True) and bool(getattr(snap, "markets", ()))


async def test_a_trade_failed_after_it_matched_restores_position_and_cash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    throwaway_key(monkeypatch)
    ledger = tmp_path / "live.sqlite"
    async with venue() as emu:
        assert emu.urls is not None
        book = emu.exchange.markets[0].yes
        async with live_engine(emu, ledger, QUIET) as live:
            start = await snapshot_where(live, ready)
            await admin(emu.urls, "POST", "/faults", {"fail_trades": 1})
            assert book.best_ask is not None
            sent = await live.runner.manual_order(
                ManualOrder(book.asset_id, Side.BUY, 5 * SHARES, book.best_ask + book.tick),
                who="test",
            )
            assert sent.order_id is not None
            await snapshot_where(live, lambda s: bool(s.positions))
            # MATCHED -> RETRYING -> FAILED: the fill is undone to the unit.
            snap = await snapshot_where(live, lambda s: not any(p.shares for p in s.positions))
            assert snap.cash == start.cash
        assert await venue_shares(emu) == {}
    reversal = rows(ledger, "SELECT order_id, reason FROM fill_reversals")
    assert reversal == [(sent.order_id, "trade failed: the venue could not settle it")]
    statuses = rows(
        ledger,
        "SELECT status FROM order_events WHERE order_id = ? AND status LIKE 'venue:%'",
        sent.order_id,
    )
    assert [s for (s,) in statuses] == ["venue:matched", "venue:retrying", "venue:failed"]
    assert rows(ledger, "SELECT venue_status FROM orders") == [("failed",)]
    noted = rows(ledger, "SELECT kind FROM venue_events WHERE kind = 'trade_failed'")
    assert noted == [("trade_failed",)]


async def test_a_fill_goes_matched_mined_confirmed_and_a_sell_right_after_it_fills(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sell goes out at once after the buy's fill: a balance read before the buy
    must not stop it."""
    throwaway_key(monkeypatch)
    ledger = tmp_path / "live.sqlite"
    async with venue() as emu:
        book = emu.exchange.markets[0].yes
        async with live_engine(emu, ledger, QUIET) as live:
            await snapshot_where(live, ready)
            assert book.best_ask is not None
            bought = await live.runner.manual_order(
                ManualOrder(book.asset_id, Side.BUY, 5 * SHARES, book.best_ask + book.tick),
                who="test",
            )
            snap = await snapshot_where(live, lambda s: bool(s.positions))
            held = int(snap.positions[0].shares * SHARES)
            assert book.best_bid is not None
            sold = await live.runner.manual_order(
                ManualOrder(book.asset_id, Side.SELL, held, book.best_bid - book.tick),
                who="test",
            )
            assert sold.order_id is not None, sold.reason
            # A taking buy spends its signed amount: at asks below its limit it gets a
            # little more than asked, and the venue sells in 0.01-share steps: what is
            # left below 0.01 is dust, the same at the venue and in the ledger.
            await snapshot_where(
                live, lambda s: all(p.shares * SHARES < SHARES // 100 for p in s.positions)
            )
            await eventually(
                lambda: (
                    rows(ledger, "SELECT count(*) FROM orders WHERE venue_status = 'confirmed'")
                    == [(2,)]
                )
            )
        assert await venue_shares(emu) == ledger_shares(ledger)
    for order_id in (bought.order_id, sold.order_id):
        statuses = rows(
            ledger,
            "SELECT status FROM order_events WHERE order_id = ? AND status LIKE 'venue:%'",
            order_id,
        )
        assert [s for (s,) in statuses] == ["venue:matched", "venue:mined", "venue:confirmed"]
    assert rows(ledger, "SELECT status FROM orders ORDER BY created_at") == [
        ("filled",),
        ("filled",),
    ]
    # The paper shadow priced both orders too, in tables of its own.
    shadow = rows(ledger, "SELECT order_id, status FROM shadow_orders ORDER BY order_id")
    assert [oid for oid, _ in shadow] == sorted([bought.order_id, sold.order_id])
    paper_fills = rows(ledger, "SELECT fill_id, order_id FROM shadow_fills")
    assert {oid for _, oid in paper_fills} <= {bought.order_id, sold.order_id}
    live_fills = {f for (f,) in rows(ledger, "SELECT fill_id FROM fills")}
    assert live_fills.isdisjoint(f for f, _ in paper_fills)


async def test_live_sizing_uses_the_venues_balance_not_a_paper_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    throwaway_key(monkeypatch)
    ledger = tmp_path / "live.sqlite"
    async with venue() as emu:
        assert emu.urls is not None
        await admin(emu.urls, "POST", f"/wallets/{WALLET}/fund", {"collateral": "3"})
        # A book whose bids sit between 0.20 and 0.45: 5 shares fit in $3, not in $1.
        book = next(
            b
            for m in emu.exchange.markets
            for b in (m.yes, m.no)
            if b.best_bid is not None and 2000 < b.best_bid - 5 * b.tick <= 4500
        )
        env = {**QUIET, "RISK_BANKROLL_FRACTION": "1"}  # cash is the only cap that binds
        async with live_engine(emu, ledger, env) as live:
            snap = await snapshot_where(live, ready)
            assert snap.cash == 3  # the wallet's pUSD, not paper.starting_cash
            assert book.best_bid is not None
            bid = book.best_bid - 5 * book.tick
            costs_4_50 = 45_000 * SHARES // bid // (SHARES // 100) * (SHARES // 100)
            too_big = live.runner.manual_preview(
                ManualOrder(book.asset_id, Side.BUY, costs_4_50, bid, OrderType.GTC)
            )
            assert too_big.rule in ("bankroll fraction", "cash (fee included)")  # $3, not $1000
            fits = ManualOrder(book.asset_id, Side.BUY, 5 * SHARES, bid, OrderType.GTC)
            assert live.runner.manual_preview(fits).approved
            # The venue's pUSD drops below the ledger's (spent elsewhere): sizing follows it.
            await admin(emu.urls, "POST", f"/wallets/{WALLET}/fund", {"collateral": "1"})
            # The ledger still holds $3 (enough for it); the venue's $1 is not.
            await eventually(lambda: live.runner.manual_preview(fits).rule is not None)
            refused = live.runner.manual_preview(fits)
            assert refused.rule in ("cash (fee included)", "market minimum size")
            assert live.runner.builder.build().cash == 3


async def test_a_trade_that_fails_after_a_restart_is_still_undone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run that bought stops while the trade is matched; it fails on chain before the
    next run starts; that run's reconciliation reads the failure and undoes the fill."""
    throwaway_key(monkeypatch)
    ledger = tmp_path / "live.sqlite"
    async with venue() as emu:
        assert emu.urls is not None
        book = emu.exchange.markets[0].yes
        async with live_engine(emu, ledger, QUIET) as live:
            start = await snapshot_where(live, ready)
            await admin(emu.urls, "POST", "/faults", {"fail_trades": 1})
            assert book.best_ask is not None
            await live.runner.manual_order(
                ManualOrder(book.asset_id, Side.BUY, 5 * SHARES, book.best_ask + book.tick),
                who="test",
            )
            await snapshot_where(live, lambda s: bool(s.positions))
        await eventually(
            lambda: any(t["status"] == "FAILED" for t in emu.control.trades()), within_s=10
        )
        async with live_engine(emu, ledger, QUIET) as live:
            snap = await snapshot_where(
                live, lambda s: ready(s) and not any(p.shares for p in s.positions)
            )
            assert snap.cash == start.cash
        assert await venue_shares(emu) == {}
    assert rows(ledger, "SELECT count(*) FROM fill_reversals") == [(1,)]
    assert rows(ledger, "SELECT count(*) FROM venue_events WHERE kind = 'unknown_trade'") == [(0,)]

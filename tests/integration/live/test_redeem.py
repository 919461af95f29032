"""Redemption: `polyterm redeem [--dry-run]` and execution.auto_redeem redeem a resolved
market's shares through the SDK and record the payout; paper settlement is unchanged."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from engine.orders import Side
from engine.runtime.manual import ManualOrder
from tests.kit.live import snapshot_where
from tests.kit.live_venue import (
    QUIET,
    WALLET,
    live_engine,
    rows,
    throwaway_key,
    venue_shares,
)
from tests.kit.secrets import PRIVATE_KEY
from tests.kit.trading import polyterm, venue_env
from tests.kit.venue import admin, eventually, venue

pytestmark = pytest.mark.integration
SHARES = 10**6


async def _collateral(emu: object) -> Decimal:
    urls = emu.urls  # type: ignore[attr-defined]
    for wallet in await admin(urls, "GET", "/wallets"):
        if wallet["address"].lower() == WALLET.lower():
            return Decimal(wallet["collateral"])
    raise AssertionError("the wallet is unknown to the venue")


async def test_polyterm_redeem_redeems_what_resolved_and_records_the_payout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    throwaway_key(monkeypatch)
    ledger = tmp_path / "live.sqlite"
    async with venue() as emu:
        assert emu.urls is not None
        market = emu.exchange.markets[0]
        book = market.yes
        async with live_engine(emu, ledger, QUIET) as live:
            await snapshot_where(live, lambda s: not s.trading_blocks and bool(s.markets))
            assert book.best_ask is not None
            await live.runner.manual_order(
                ManualOrder(book.asset_id, Side.BUY, 5 * SHARES, book.best_ask + book.tick),
                who="test",
            )
            await snapshot_where(live, lambda s: bool(s.positions))
        held = (await venue_shares(emu))[book.asset_id]
        cid = market.info.condition_id
        await admin(emu.urls, "POST", f"/markets/{cid}/resolve", {"winner": "Yes"})
        env = {**venue_env(emu.urls), "POLY_PRIVATE_KEY": PRIVATE_KEY, "POLY_SIGNATURE_TYPE": "eoa"}
        before = await _collateral(emu)

        dry = await polyterm(
            ["redeem", "--dry-run", "--ledger", str(ledger)], tmp_path, keyring=False, **env
        )
        assert dry.code == 0, dry.err
        assert dry.out.splitlines() == [f"would redeem {market.info.question}: {held} shares"]
        assert await _collateral(emu) == before  # a dry run sends nothing

        done = await polyterm(
            ["redeem", "--ledger", str(ledger), "--json"], tmp_path, keyring=False, **env
        )
        assert done.code == 0, done.err
        (line,) = json.loads(done.out)["redemptions"]
        assert (line["market"], Decimal(line["shares"]), Decimal(line["payout"])) == (
            cid,
            held,
            held,
        )
        assert await _collateral(emu) == before + held
        assert await venue_shares(emu) == {}

        again = await polyterm(["redeem", "--ledger", str(ledger)], tmp_path, keyring=False, **env)
        assert again.code == 0, again.err
        assert again.out.startswith("nothing to redeem")
    ((market_id, asset, shares, payout, tx),) = rows(
        ledger, "SELECT market, asset_id, shares, payout, transaction_hash FROM redemptions"
    )
    assert (market_id, asset) == (cid, book.asset_id)
    assert Decimal(shares).scaleb(-6) == held
    assert Decimal(payout).scaleb(-10) == held
    assert tx == line["transaction"]


async def test_auto_redeem_redeems_a_market_as_it_resolves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    throwaway_key(monkeypatch)
    ledger = tmp_path / "live.sqlite"
    async with venue() as emu:
        assert emu.urls is not None
        market = emu.exchange.markets[0]
        book = market.yes
        env = {**QUIET, "EXECUTION_AUTO_REDEEM": "true"}
        async with live_engine(emu, ledger, env) as live:
            await snapshot_where(live, lambda s: not s.trading_blocks and bool(s.markets))
            assert book.best_ask is not None
            await live.runner.manual_order(
                ManualOrder(book.asset_id, Side.BUY, 5 * SHARES, book.best_ask + book.tick),
                who="test",
            )
            await snapshot_where(live, lambda s: bool(s.positions))
            cid = market.info.condition_id
            await admin(emu.urls, "POST", f"/markets/{cid}/resolve", {"winner": "Yes"})
            await eventually(lambda: rows(ledger, "SELECT count(*) FROM redemptions") == [(1,)], 30)
        assert await venue_shares(emu) == {}
    assert rows(ledger, "SELECT count(*) FROM settlements") == [(1,)]  # the account settled

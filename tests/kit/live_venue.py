"""Live trading against the strict emulator: a live engine in this process aimed at an
emulator the test holds (to fault it and read its books), a throwaway key in the
environment, and what the venue and the ledger say afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from engine.orders import OrderType, Side
from engine.runtime.manual import ManualOrder
from polyterm.emulator.server import ExchangeEmulator
from polyterm.faces.live_engine import LiveEngine
from tests.kit.ledgers import rows
from tests.kit.live import at_emulator, running_engine, snapshot_where
from tests.kit.secrets import PRIVATE_KEY
from tests.kit.venue import admin

WALLET = str(Account.from_key(PRIVATE_KEY).address)
STRATEGIES = (
    "mean_reversion",
    "momentum_scalping",
    "event_driven",
    "micro_arbitrage",
    "cross_market_arbitrage",
)
# A live run: paper off, no news, and quick to notice what the tests do to the venue.
LIVE: dict[str, str] = {
    "POLY_DRY_RUN": "false",
    "SENTIMENT_ENABLED": "false",
    "LIVE_BALANCE_REFRESH_S": "0.5",
    "LIVE_HEARTBEAT_INTERVAL_S": "1",
}
# Strategies off: only what the test sends trades.
QUIET = {f"STRATEGIES_{name.upper()}_ENABLED": "false" for name in STRATEGIES}


def throwaway_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The trading key in the environment (an EOA: the emulator has no relayer)."""
    monkeypatch.setenv("POLY_PRIVATE_KEY", PRIVATE_KEY)
    monkeypatch.setenv("POLY_SIGNATURE_TYPE", "eoa")
    for name in ("POLYMARKET_API_KEY", "POLYMARKET_API_SECRET", "POLYMARKET_API_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)


@contextlib.asynccontextmanager
async def live_engine(
    emulator: ExchangeEmulator, ledger: Path, env: Mapping[str, str] | None = None
) -> AsyncIterator[LiveEngine]:
    """A live engine on `emulator`, running until the block ends (then stopped)."""
    async with running_engine(
        ledger, {**LIVE, **(env or {})}, venue_for=at_emulator(emulator)
    ) as live:
        yield live


def ready(snap: object) -> bool:
    """A live run that may trade: no trading block, markets listed."""
    return not getattr(snap, "trading_blocks", True) and bool(getattr(snap, "markets", ()))


async def rest_bids(live: LiveEngine, emulator: ExchangeEmulator, count: int = 2) -> list[str]:
    """`count` resting bids of 5 shares (one a market, below its best bid), sent as a
    person's orders and acknowledged by the venue; their ids."""
    ids = []
    for market in emulator.exchange.markets[:count]:
        book = market.yes
        assert book.best_bid is not None
        sent = await live.runner.manual_order(
            ManualOrder(
                book.asset_id, Side.BUY, 5 * 10**6, book.best_bid - 5 * book.tick, OrderType.GTC
            ),
            who="test",
        )
        assert sent.order_id is not None, sent.reason
        ids.append(sent.order_id)
    await snapshot_where(live, lambda s: sum(o.status == "live" for o in s.orders) == count)
    return ids


async def venue_orders(emulator: ExchangeEmulator) -> list[dict[str, Any]]:
    """Every order of our wallet the venue ever took."""
    assert emulator.urls is not None
    every = await admin(emulator.urls, "GET", "/orders")
    return [o for o in every if str(o["maker_address"]).lower() == WALLET.lower()]


async def venue_shares(emulator: ExchangeEmulator) -> dict[str, Decimal]:
    """Our wallet's shares by token, as the venue holds them (zeros left out)."""
    assert emulator.urls is not None
    for wallet in await admin(emulator.urls, "GET", "/wallets"):
        if str(wallet["address"]).lower() == WALLET.lower():
            return {t: Decimal(s) for t, s in wallet["tokens"].items() if Decimal(s)}
    return {}


def ledger_shares(path: Path) -> dict[str, Decimal]:
    """Positions as the ledger holds them (zeros left out)."""
    return {
        asset: Decimal(shares).scaleb(-6)
        for asset, shares in rows(path, "SELECT asset_id, shares FROM positions")
        if shares
    }

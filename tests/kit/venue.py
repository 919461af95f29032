"""The official SDK against the emulator: a started venue, SDK clients, admin calls.

Clients trade as plain EOA wallets (``wallet=<signer>``): the deposit-wallet flow needs
Polymarket's relayer, which the emulator does not serve.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx

from engine.adapters.polymarket.environment import build_environment
from engine.clock import Clock, SimClock
from polyterm.emulator.server import EmulatorOptions, EmulatorUrls, ExchangeEmulator


@asynccontextmanager
async def venue(clock: Clock | None = None, **options: Any) -> AsyncIterator[ExchangeEmulator]:
    """A started emulator (4 quiet markets unless told otherwise), stopped on exit."""
    settings: dict[str, Any] = {"seed": 5, "markets": 4, "events_per_second": 4.0}
    settings.update(options)
    emulator = ExchangeEmulator(EmulatorOptions(**settings), clock=clock)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


def sim_clock() -> SimClock:
    """A simulated clock at the wall's now (the SDK signs with the wall clock)."""
    return SimClock(time.time())


async def advance(clock: SimClock, seconds: float, step: float = 0.1) -> None:
    """Move `clock` on by `seconds` in steps, letting the emulator's loop run each one."""
    target = clock.time() + seconds
    while clock.time() < target - 1e-9:
        clock.advance_to(min(target, clock.time() + step))
        for _ in range(5):
            await asyncio.sleep(0)
    await asyncio.sleep(0.01)


def environment(urls: EmulatorUrls) -> Any:
    return build_environment(
        clob_url=urls.clob,
        ws_url=urls.ws,
        gamma_url=urls.gamma,
        data_url=urls.data,
        rpc_url=urls.rpc,
    )


async def sdk_client(urls: EmulatorUrls, private_key: str | None = None) -> Any:
    """An ``AsyncSecureClient`` for a fresh (or given) key, trading as its own EOA."""
    from eth_account import Account
    from polymarket import AsyncSecureClient

    account = Account.from_key(private_key) if private_key else Account.create()
    return await AsyncSecureClient.create(
        private_key="0x" + bytes(account.key).hex(),
        wallet=account.address,
        environment=environment(urls),
    )


async def admin(urls: EmulatorUrls, method: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient(base_url=urls.admin, headers=urls.admin_headers()) as client:
        response = await client.request(method, path, json=body)
        response.raise_for_status()
        return response.json()


def price(ticks: int | None) -> Decimal:
    assert ticks is not None
    return Decimal(ticks).scaleb(-4)


async def eventually(check: Any, within_s: float = 10.0) -> Any:
    """Poll `check()` (sync or async) until it returns something truthy."""
    async with asyncio.timeout(within_s):
        while True:
            value = check()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            await asyncio.sleep(0.05)

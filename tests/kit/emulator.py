"""Driving the exchange emulator from a test: its admin API, waiting on what it serves,
and the engine over it (the Polymarket feed on the system clock, a real ledger)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from engine.adapters.polymarket.feed import PolymarketFeed
from engine.clock import SystemClock
from engine.config import EngineConfig
from engine.ledger.writer import SqliteLedger
from engine.runtime.kernel import build_engine
from engine.runtime.live import LiveRunner
from polyterm.emulator.server import ExchangeEmulator
from tests.kit.feed import FAST_HOT, fast_feed_config
from tests.kit.waits import until

__all__ = ["admin", "engine_over", "served_by", "until"]


async def admin(emulator: ExchangeEmulator, method: str, path: str, **body: Any) -> Any:
    """One call to the emulator's admin API (its JSON answer)."""
    assert emulator.urls is not None
    async with httpx.AsyncClient(
        base_url=emulator.urls.admin, headers=emulator.urls.admin_headers()
    ) as client:
        response = await client.request(method, path, json=body if method == "POST" else None)
        response.raise_for_status()
        return response.json()


async def served_by(emulator: ExchangeEmulator, want: Callable[[set[str]], bool]) -> set[str]:
    """The tokens the emulator's market connections hold, once `want` holds of them
    (a subscription change travels on its own connection: poll, never race it)."""
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        served = {a for c in await admin(emulator, "GET", "/connections") for a in c["assets"]}
        if want(served):
            return served
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the emulator never served what was expected: {served}")
        await asyncio.sleep(0.05)


async def engine_over(
    emulator: ExchangeEmulator, tmp_path: Path
) -> tuple[LiveRunner, SqliteLedger]:
    """The engine a live face runs, on the emulator with short feed timers (the caller
    closes the ledger)."""
    assert emulator.urls is not None
    config = EngineConfig().model_copy(
        update={"feed": fast_feed_config(emulator.urls), "hot_assets": FAST_HOT}
    )
    clock = SystemClock()
    ledger = await SqliteLedger(tmp_path / "l.sqlite").open()
    feed = PolymarketFeed(config.feed, config.hot_assets, clock)
    engine = build_engine(config, clock, ledger, venue="emulator", feed=feed, health=feed.health)
    return engine.live_runner(feed, ledger), ledger

"""The live gateway on its own against the emulator: the real gateway and SDK client,
with the engine's side played by a sink that records what the gateway reports and holds
"on disk" until the test lets it (so a test can have many orders waiting together)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from engine.adapters.polymarket.live.gateway import LiveGateway, LiveOptions
from engine.clock import SystemClock
from engine.market.book import OrderBook
from engine.market.markets import MarketInfo
from engine.venue import AdoptedOrder, BlockReason, VenueReport
from polyterm.emulator.server import EmulatorUrls


class EngineSide:
    """What the gateway reports to (the order manager's place) and reads the account
    from (the kernel's): every report kept; :meth:`recorded` waits while held."""

    def __init__(self) -> None:
        self.reports: list[VenueReport] = []
        self.blocks: dict[BlockReason, str] = {}
        self.notes: list[tuple[str, str]] = []
        self.waiting = 0  # orders signed and waiting for the ledger
        self._disk = asyncio.Event()
        self._disk.set()

    def hold(self) -> None:
        """Nothing becomes durable until :meth:`release`."""
        self._disk.clear()

    def release(self) -> None:
        self._disk.set()

    # -- LiveVenueSink -----------------------------------------------------------------------
    def on_reports(self, reports: Sequence[VenueReport]) -> None:
        self.reports.extend(reports)

    def block(self, reason: BlockReason, detail: str) -> None:
        self.blocks[reason] = detail

    def unblock(self, reason: BlockReason) -> None:
        self.blocks.pop(reason, None)

    def note(self, kind: str, detail: str, order_id: str | None = None) -> None:
        self.notes.append((kind, detail))

    async def recorded(self) -> None:
        self.waiting += 1
        try:
            await self._disk.wait()
        finally:
            self.waiting -= 1

    def adopt(self, adopted: AdoptedOrder) -> str:
        return adopted.order.order_id

    def knows_fill(self, fill_id: str) -> bool:
        return False

    def on_shadow(self, reports: Sequence[VenueReport]) -> None:
        return None

    def redeemed(
        self, market: str, asset_id: str, shares: int, payout: int, transaction: str
    ) -> None:
        return None

    # -- MarketLookup / AccountLookup --------------------------------------------------------
    def market_of(self, asset_id: str) -> MarketInfo | None:
        return None

    def book(self, asset_id: str) -> OrderBook | None:
        return None

    def is_resolved(self, condition_id: str) -> bool:
        return False

    def holdings(self) -> Mapping[str, int]:
        return {}

    def cash(self) -> int:
        return 0


def bare_gateway(client: Any, urls: EmulatorUrls) -> tuple[LiveGateway, EngineSide]:
    """A live gateway bound to an :class:`EngineSide`; its background work not started
    (no heartbeats, no user channel): orders and cancels only."""
    gateway = LiveGateway(client, SystemClock(), LiveOptions(urls.user_ws, shadow=False))
    side = EngineSide()
    gateway.bind(side, side)
    return gateway, side

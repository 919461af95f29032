"""The strategy interface and the signal it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from engine.market.book import OrderBook
from engine.market.markets import MarketInfo
from engine.orders import Side


@dataclass(frozen=True, slots=True)
class Signal:
    strategy: str
    asset_id: str
    side: Side
    strength: float  # 0 < strength <= 1
    reason: str
    is_exit: bool = False  # closing an existing position: not subject to the entry threshold


@dataclass(frozen=True, slots=True)
class MarketContext:
    asset_id: str
    market: MarketInfo
    book: OrderBook
    position: int  # shares held, 1e-6 units
    now: float  # monotonic seconds


class Strategy(Protocol):
    name: str
    weight: float

    def on_tick(self, ctx: MarketContext) -> Signal | None:
        """Called once per decision tick for every tradeable book."""

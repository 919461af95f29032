"""Exposure kept current incrementally, so a decision costs O(1), not O(markets).

Exposure per market (worst-case loss at resolution, open buys counted as held; see
:mod:`engine.risk.sizing`) is recomputed only for markets something happened in (a fill,
an order placed or closed, a settlement: the order manager and the accounting say so
through :meth:`ExposureBook.touch`), with per-event and total sums adjusted by the
difference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from engine.market.markets import MarketInfo
from engine.risk.sizing import Holding, exposure


class Held(Protocol):
    """A position as exposure sees it."""

    market: str
    shares: int
    cost: int


class OpenBuys(Protocol):
    """What open buy orders promise (the order manager's tracker)."""

    def buying(self, asset_id: str) -> int: ...

    def buy_cost(self, market: str) -> int: ...


class ExposureBook:
    def __init__(
        self,
        positions: Mapping[str, Held],
        orders: OpenBuys,
        market_of: Callable[[str], MarketInfo | None],
    ) -> None:
        self._positions = positions
        self._tracker = orders
        self._market_of = market_of
        self._dirty: set[str] = set()
        self._holding: dict[str, Holding] = {}
        self._market: dict[str, int] = {}
        self._event: dict[str, int] = {}
        self._event_of: dict[str, str] = {}
        self.total = 0

    def touch(self, market: str) -> None:
        """Something changed in this market: recompute it when next asked."""
        self._dirty.add(market)

    def _refresh(self) -> None:
        positions = self._positions
        tracker = self._tracker
        for market_id in self._dirty:
            info = self._market_of(market_id)
            if info is not None:
                tokens: tuple[str, ...] = info.token_ids
                event = info.event
            else:  # a market nobody listed (restored): its held tokens are what we know
                tokens = tuple(a for a, p in positions.items() if p.market == market_id)
                event = market_id
            shares: dict[str, int] = {}
            cost = tracker.buy_cost(market_id)
            for token in tokens:
                pos = positions.get(token)
                held = 0
                if pos is not None and pos.shares:
                    held = pos.shares
                    cost += pos.cost
                shares[token] = held + tracker.buying(token)
            holding = Holding(shares, cost)
            new = exposure(holding)
            old = self._market.get(market_id, 0)
            self._holding[market_id] = holding
            self._market[market_id] = new
            self._event_of[market_id] = event
            self._event[event] = self._event.get(event, 0) + new - old
            self.total += new - old
        self._dirty.clear()

    def of(self, market: MarketInfo) -> tuple[Holding, int, int]:
        """(this market's holding, its event's exposure, the total), cash units."""
        self._dirty.add(market.condition_id)
        self._refresh()
        holding = self._holding[market.condition_id]
        return holding, self._event.get(market.event, 0), self.total

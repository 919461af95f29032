"""Exposure and equity kept current incrementally, so a decision costs O(1), not O(markets).

Exposure per market (worst-case loss at resolution, open buys counted as held; see
:mod:`engine.risk.sizing`) is recomputed only for markets something happened in (a fill,
an order placed or closed, a settlement), with per-event and total sums adjusted by the
difference. Holdings are valued at their marks (best bid, else last trade, else cost) the
same way, complete YES/NO sets at no less than the 1 they pay (see
:mod:`engine.execution.valuation`): only the asset that filled or whose book moved, and
its complement, are revalued.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.execution.lifecycle import OrderTracker
from engine.execution.portfolio import Portfolio
from engine.execution.valuation import set_credit
from engine.market.markets import MarketInfo
from engine.risk.sizing import Holding, exposure


class ExposureBook:
    def __init__(
        self,
        portfolio: Portfolio,
        tracker: OrderTracker,
        market_of: Callable[[str], MarketInfo | None],
    ) -> None:
        self._portfolio = portfolio
        self._tracker = tracker
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
        positions = self._portfolio.positions
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


class ValueBook:
    """The market value of what is held, at marks, revalued one market at a time."""

    def __init__(
        self,
        portfolio: Portfolio,
        mark_of: Callable[[str], int | None],
        complement_of: Callable[[str], str | None],
    ) -> None:
        self._portfolio = portfolio
        self._mark_of = mark_of
        self._complement_of = complement_of
        self._value: dict[str, int] = {}
        self.total = 0
        self.unmarked: set[str] = set()  # held, but no bid or trade to mark at (at cost)

    def revalue(self, asset_id: str) -> None:
        """Revalue this asset and its complement (a complete set's worth needs both)."""
        other = self._complement_of(asset_id)
        self._revalue(asset_id, other)
        if other is not None:
            self._revalue(other, asset_id)

    def _revalue(self, asset_id: str, other: str | None) -> None:
        positions = self._portfolio.positions
        pos = positions.get(asset_id)
        new = 0
        self.unmarked.discard(asset_id)
        if pos is not None and pos.shares:
            mark = self._mark_of(asset_id)
            if mark is None:
                self.unmarked.add(asset_id)
                new = pos.cost
            else:
                new = pos.shares * mark
                opos = None if other is None else positions.get(other)
                if other is not None and opos is not None and opos.shares:
                    other_mark = self._mark_of(other)
                    if other_mark is not None:
                        new += set_credit(
                            asset_id, pos.shares, mark, other, opos.shares, other_mark
                        )
        old = self._value.get(asset_id, 0)
        if new != old:
            self._value[asset_id] = new
            self.total += new - old

    def held(self, asset_id: str) -> bool:
        return asset_id in self._value

    def value(self, asset_id: str) -> int | None:
        """What this holding is worth now (None: nothing held is valued)."""
        pos = self._portfolio.positions.get(asset_id)
        if pos is None or not pos.shares:
            return None
        return self._value.get(asset_id)

    def unrealized(self) -> int:
        positions = self._portfolio.positions
        return self.total - sum(p.cost for p in positions.values() if p.shares)

    def equity(self) -> int:
        return self._portfolio.cash + self.total

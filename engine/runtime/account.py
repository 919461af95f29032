"""The account as risk and the desks read it: positions and marks from the accounting,
open orders' promises from the order manager, exposure from the exposure book. A read-only
view over three components, so none of them has to know the others."""

from __future__ import annotations

from collections.abc import Callable

from engine.execution.accounting import Accounting
from engine.execution.lifecycle import OrderTracker
from engine.market.markets import MarketInfo
from engine.risk.exposure import ExposureBook
from engine.risk.sizing import Holding


class AccountView:
    def __init__(
        self,
        accounting: Accounting,
        orders: OrderTracker,
        exposure: ExposureBook,
        *,
        venue_cash: Callable[[], int | None] | None = None,
    ) -> None:
        self._venue_cash = venue_cash  # a live venue's balance: never spend beyond it
        self._portfolio = accounting.portfolio
        self._values = accounting.values
        self._lots = accounting.lots
        self._orders = orders
        self._exposure = exposure

    def equity(self) -> int:
        return self._values.equity()

    def free_cash(self) -> int:
        cash = self._portfolio.cash
        if self._venue_cash is not None:
            venue = self._venue_cash()
            cash = min(cash, venue) if venue is not None else 0
        return cash - self._orders.reserved_cash

    def held(self, asset_id: str) -> int:
        """Shares held of this token."""
        return self._portfolio.position(asset_id)

    def holding(self, asset_id: str) -> int:
        return self._portfolio.position(asset_id) + self._orders.buying(asset_id)

    def position(self, asset_id: str) -> tuple[int, int]:
        pos = self._portfolio.positions.get(asset_id)
        return (pos.shares, pos.cost) if pos is not None else (0, 0)

    def exposures(self, market: MarketInfo) -> tuple[Holding, int, int]:
        return self._exposure.of(market)

    def sellable(self, asset_id: str) -> int:
        """Shares held that no open sell promises yet."""
        return self._portfolio.position(asset_id) - self._orders.selling(asset_id)

    def lot_sellable(self, asset_id: str, owner: str) -> int:
        """Shares of `owner`'s lot here that no open sell of theirs promises yet."""
        lot = self._lots.get(asset_id, owner)
        if lot is None:
            return 0
        return lot.shares - self._orders.selling_by(asset_id, owner)

"""Cash, positions and PnL, in exact integer units.

Average-cost accounting. Fees are realised the moment they are paid. The identity
``cash + sum(cost) == starting cash + sum(realised)`` holds after every fill (it is a
property test), and a position's cost is released in full when it goes flat, so integer
rounding never leaks across round trips.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.orders import Fill, Side


@dataclass(slots=True)
class Position:
    asset_id: str
    market: str
    shares: int = 0  # 1e-6
    cost: int = 0  # cash units (1e-10) of the shares held
    realized: int = 0  # cash units, net of fees
    fees: int = 0
    bought: int = 0
    sold: int = 0

    def avg_price(self) -> int | None:
        """Average entry price in price units (rounded down), or None when flat."""
        return self.cost // self.shares if self.shares else None


class Portfolio:
    def __init__(self, starting_cash: int) -> None:
        self.starting_cash = starting_cash
        self.cash = starting_cash
        self.positions: dict[str, Position] = {}
        self.fees = 0

    def position(self, asset_id: str) -> int:
        pos = self.positions.get(asset_id)
        return pos.shares if pos else 0

    def apply(self, fill: Fill) -> Position:
        pos = self.positions.get(fill.asset_id)
        if pos is None:
            pos = self.positions[fill.asset_id] = Position(fill.asset_id, fill.market)
        value = fill.price * fill.size
        if fill.side is Side.BUY:
            self.cash -= value + fill.fee
            pos.shares += fill.size
            pos.cost += value
            pos.bought += fill.size
        else:
            if fill.size > pos.shares:
                raise ValueError(f"sell of {fill.size} exceeds the {pos.shares} held")
            released = pos.cost if fill.size == pos.shares else pos.cost * fill.size // pos.shares
            self.cash += value - fill.fee
            pos.shares -= fill.size
            pos.cost -= released
            pos.realized += value - released
            pos.sold += fill.size
        pos.realized -= fill.fee
        pos.fees += fill.fee
        self.fees += fill.fee
        return pos

    def released_by(self, fill: Fill) -> int:
        """The cost a sell fill would release from its position (0 for a buy)."""
        pos = self.positions.get(fill.asset_id)
        if fill.side is Side.BUY or pos is None or not pos.shares:
            return 0
        return pos.cost if fill.size >= pos.shares else pos.cost * fill.size // pos.shares

    def reverse(self, fill: Fill, released: int) -> Position:
        """Undo a fill exactly (its trade failed): `released` is the cost the sell had
        released (0 for a buy). The identity holds after it as after any fill."""
        pos = self.positions.get(fill.asset_id)
        if pos is None:
            pos = self.positions[fill.asset_id] = Position(fill.asset_id, fill.market)
        value = fill.price * fill.size
        if fill.side is Side.BUY:
            self.cash += value + fill.fee
            pos.shares -= fill.size
            pos.cost -= value
            pos.bought -= fill.size
        else:
            self.cash -= value - fill.fee
            pos.shares += fill.size
            pos.cost += released
            pos.realized -= value - released
            pos.sold -= fill.size
        pos.realized += fill.fee
        pos.fees -= fill.fee
        self.fees -= fill.fee
        return pos

    def settle(self, asset_id: str, payout_price: int) -> tuple[int, int, int, int]:
        """The market resolved: every share held pays `payout_price` (ONE or 0), no fee.

        Returns (shares, cash received, realized against cost, average entry price).
        """
        pos = self.positions.get(asset_id)
        if pos is None or not pos.shares:
            return 0, 0, 0, 0
        shares, cost = pos.shares, pos.cost
        avg = cost // shares
        cash = payout_price * shares
        self.cash += cash
        pos.realized += cash - cost
        pos.sold += shares
        pos.shares = 0
        pos.cost = 0
        return shares, cash, cash - cost, avg

    @property
    def realized(self) -> int:
        return sum(p.realized for p in self.positions.values())

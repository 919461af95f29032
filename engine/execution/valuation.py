"""What a holding is worth now, in exact cash units (1e-10 USDC).

A token is worth what it sells for now: its best bid, else its last trade (the caller's
mark), else its cost. A complete set, one YES and one NO of a binary market, is worth
more than its two bids: it pays exactly 1 at resolution, and Polymarket merges it into
1 USDC at any time. So the paired part of a holding is worth at least 1 per set, and the
credit above the two bids, ``paired x (1 - YES bid - NO bid)``, is split between the two
legs (the odd unit to the lower token id, so the legs always sum exactly). Marking a
YES/NO arbitrage at its bids alone would book the spread as a loss it can never realise,
and could trip the daily-loss kill switch on a position that cannot lose.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.execution.portfolio import Portfolio
from engine.fixed import ONE


def set_credit(
    asset_id: str, shares: int, mark: int, other_id: str, other_shares: int, other_mark: int
) -> int:
    """This leg's share of its complete sets' credit above the two bids (0 when none)."""
    paired = min(shares, other_shares)
    gap = ONE - mark - other_mark
    if paired <= 0 or gap <= 0:
        return 0
    credit = paired * gap
    return (credit + 1) // 2 if asset_id < other_id else credit // 2


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

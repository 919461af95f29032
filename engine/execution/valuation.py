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

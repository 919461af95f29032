"""Redeeming resolved positions on chain through the official SDK.

A market that resolved pays its winning shares 1 pUSD each, but only once they are
redeemed (``redeem_positions``: the collateral adapter burns every share of the market
and pays the winners). The engine's account already settled them when the market
resolved (paper and live alike); redemption is what moves the venue's pUSD, so it is
recorded on its own (``redemptions``: the shares burned, the payout, the transaction).
What was paid is measured, not assumed: pUSD after the transaction less pUSD before.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.fixed import CASH_DIGITS, SIZE_DIGITS

log = logging.getLogger("engine.live.redeem")

_CASH_PER_UNIT = 10 ** (CASH_DIGITS - SIZE_DIGITS)


@dataclass(frozen=True, slots=True)
class Held:
    """Shares of a resolved market the wallet still holds."""

    condition_id: str
    shares: tuple[tuple[str, int], ...]  # (token, shares 1e-6) with shares > 0

    @property
    def total(self) -> int:
        return sum(s for _, s in self.shares)


@dataclass(frozen=True, slots=True)
class Redemption:
    condition_id: str
    asset_id: str  # the winning token when known, else the first one held
    shares: int  # every share of the market burned
    payout: int  # cash units the wallet's pUSD grew by
    transaction: str


async def held_in_resolved(client: Any, markets: Sequence[tuple[str, Sequence[str]]]) -> list[Held]:
    """Of `markets` ((condition id, token ids)), those resolved at the venue in which the
    wallet holds shares."""
    found = []
    for condition_id, tokens in markets:
        shares = []
        for token in tokens:
            got = await client.get_balance_allowance(asset_type="CONDITIONAL", token_id=token)
            if int(got.balance) > 0:
                shares.append((token, int(got.balance)))
        if not shares:
            continue
        page = await client.list_markets(
            condition_ids=[condition_id], closed=True, page_size=1
        ).first_page()
        if page.items:
            found.append(Held(condition_id, tuple(shares)))
    return found


async def redeem(client: Any, held: Held, winner: str | None = None) -> Redemption:
    """Redeem one market's shares; returns what it paid (raises the SDK's errors)."""
    before = (await client.get_balance_allowance(asset_type="COLLATERAL")).balance
    handle = await client.redeem_positions(condition_id=held.condition_id)
    outcome = await handle.wait()
    after = (await client.get_balance_allowance(asset_type="COLLATERAL")).balance
    transaction = str(getattr(outcome, "transaction_hash", "") or handle.transaction_hash or "")
    held_tokens = [t for t, _ in held.shares]
    asset = winner if winner in held_tokens else held_tokens[0]
    paid = (int(after) - int(before)) * _CASH_PER_UNIT
    log.info(
        "redeemed %s: %d shares burned, %d cash units paid (%s)",
        held.condition_id,
        held.total,
        paid,
        transaction,
    )
    return Redemption(held.condition_id, asset, held.total, paid, transaction)

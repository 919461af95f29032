"""What crosses the order seam: the reports a venue sends about our orders, and its say
over whether new orders may go out at all.

A venue (the paper exchange or Polymarket) answers a request and also speaks unasked: an
order rested, filled, was cancelled by the venue, expired; a trade moved on chain or
failed. Every one of those is a :data:`VenueReport`, and all of them -- asked or unasked,
paper or live -- enter the engine through one door, the order manager's ``on_reports``.

A fill's ``fill_id`` is the venue's trade id (plus our order id when one trade fills
several of our orders): the order manager counts each id once, whatever repeats it.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

import msgspec

from engine.orders import Fill, OrderRequest, OrderStatus


class TradingMode(StrEnum):
    """Where orders go: the paper exchange (simulated fills) or a real venue. A property
    of the gateway chosen at assembly, never a branch in the engine."""

    PAPER = "paper"
    LIVE = "live"


class TradeStatus(StrEnum):
    """A fill's settlement: matched by the venue, then mined and confirmed on chain, or
    failed (retrying on the way). Paper fills are confirmed at once."""

    MATCHED = "matched"
    MINED = "mined"
    CONFIRMED = "confirmed"
    RETRYING = "retrying"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in (TradeStatus.CONFIRMED, TradeStatus.FAILED)


class OrderUpdate(msgspec.Struct, frozen=True):
    """Where one of our orders stands, as the venue says: acknowledged and resting (LIVE),
    part filled, filled, cancelled (by us, by the venue, a FAK's remainder), expired or
    rejected. Fill amounts come from fills, never from this."""

    order_id: str
    status: OrderStatus
    at: float
    reason: str | None = None
    venue_id: str | None = None


class FillReport(msgspec.Struct, frozen=True):
    """A fill of one of our orders (or of an order we do not know: it is still counted)."""

    fill: Fill
    status: TradeStatus = TradeStatus.CONFIRMED


class TradeUpdate(msgspec.Struct, frozen=True):
    """A later status of a fill already reported: MINED, CONFIRMED, RETRYING or FAILED (a
    failed trade's fill is reversed)."""

    fill_id: str
    status: TradeStatus
    at: float
    reason: str | None = None


VenueReport = OrderUpdate | FillReport | TradeUpdate


class BlockReason(StrEnum):
    """Why the gateway says no new orders may go out now."""

    HEARTBEAT = "heartbeat"  # the venue's dead-man switch is not being fed
    RECONCILIATION = "reconciliation"  # a difference with the venue is not explained yet
    ALLOWANCE = "allowance"  # the exchange may not move our collateral or tokens
    CONNECTION = "connection"  # the venue cannot be reached
    CLOSED_ONLY = "closed_only"  # the venue allows only closing orders for this account
    VENUE = "venue"  # anything else the venue said


class TradingBlock(msgspec.Struct, frozen=True):
    reason: BlockReason
    detail: str  # one line for a person: what happened and, where known, the fix
    since: float  # clock time


class VenueSink(Protocol):
    """Where a gateway reports (the order manager implements it)."""

    def on_reports(self, reports: Sequence[VenueReport]) -> None:
        """Reports in the order they happened: answers to our requests and what the venue
        sent unasked alike."""

    def block(self, reason: BlockReason, detail: str) -> None:
        """No new orders until :meth:`unblock` with the same reason (cancels still go)."""

    def unblock(self, reason: BlockReason) -> None: ...

    def note(self, kind: str, detail: str, order_id: str | None = None) -> None:
        """Record something a person (or the next reconciliation) must know: a difference
        with the venue, an order cancelled at start, a redemption."""


class LiveVenueSink(VenueSink, Protocol):
    """What a live venue's gateway needs on top: the ledger's word that what it was told
    is on disk (so an order's venue id is recorded before the order leaves), orders the
    venue still holds after a restart, fills already counted, and the paper shadow."""

    async def recorded(self) -> None:
        """Return once everything reported so far is on disk."""

    def adopt(self, adopted: AdoptedOrder) -> str:
        """Track an order the venue holds (found at reconciliation); its engine id."""

    def knows_fill(self, fill_id: str) -> bool:
        """The fill was counted already (this run or an earlier one)."""

    def on_shadow(self, reports: Sequence[VenueReport]) -> None:
        """What the paper model says of a live order (its own tables, never the account)."""

    def redeemed(
        self, market: str, asset_id: str, shares: int, payout: int, transaction: str
    ) -> None:
        """Resolved shares redeemed on chain: what the venue's pUSD grew by."""


class AdoptedOrder(msgspec.Struct, frozen=True):
    """An order the venue holds that the engine tracks from now on. `known`: the ledger
    has it (its id, strategy and reason are the ledger's); otherwise it is recorded now as
    an order of its own (strategy "", the reason says where it came from)."""

    order: OrderRequest
    filled: int
    venue_id: str
    status: OrderStatus
    known: bool
    reason: str

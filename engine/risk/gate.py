"""The risk gate: approve, resize or reject every order before it leaves the engine.

It never calls the network. This first gate enforces the order-size and position caps,
refuses naked sells (a CLOB token can only be sold if held), checks cash, and stops new
entries while the feed cannot be trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.fixed import SHARE_STEP, format_size
from engine.market.health import FeedSource


@dataclass(frozen=True, slots=True)
class RiskDecision:
    size: int  # approved size (shares, 1e-6); 0 when rejected
    reason: str | None = None  # why rejected, or why resized

    @property
    def approved(self) -> bool:
        return self.size > 0


TRADEABLE_SOURCES = frozenset({FeedSource.WS_LIVE, FeedSource.REST_ONLY, FeedSource.REPLAY})


class RiskGate:
    def __init__(self, max_order: int, max_position: int) -> None:
        self.max_order = max_order
        self.max_position = max_position

    def check_buy(
        self,
        size: int,
        price: int,
        position: int,
        cash: int,
        min_size: int,
        feed: FeedSource,
    ) -> RiskDecision:
        if feed not in TRADEABLE_SOURCES:
            return RiskDecision(0, f"feed is {feed.value}: no new entries")
        resized: str | None = None
        if size > self.max_order:
            size, resized = self.max_order, f"capped at max order {format_size(self.max_order)}"
        room = self.max_position - position
        if room < size:
            size, resized = max(room, 0), f"capped by max position {format_size(self.max_position)}"
        affordable = cash // price if price > 0 else 0
        affordable -= affordable % SHARE_STEP
        if affordable < size:
            size, resized = affordable, "capped by available cash"
        if size < min_size or size <= 0:
            return RiskDecision(0, resized or "below the market's minimum size")
        return RiskDecision(size, resized)

    def check_sell(self, size: int, position: int, min_size: int) -> RiskDecision:
        # Exits are allowed whatever the feed does: reducing risk is always permitted.
        if position <= 0:
            return RiskDecision(0, "no position to sell")
        resized = None
        if size > position:
            size, resized = position, "capped at the position held"
        if size < min_size:
            return RiskDecision(0, "position below the market's minimum order size (dust)")
        return RiskDecision(size, resized)

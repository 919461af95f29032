"""The risk gate: approve, resize or reject every order before it leaves the engine.

It never calls the network. This gate enforces the order-size and position caps (counting
buys still working), refuses naked sells (a CLOB token can only be sold if held, less what
open sells already promise), checks cash including the taker fee (paid in USDC on top of a
buy's cost), and stops new entries while the feed cannot be trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.fixed import PRICE_SCALE, SHARE_STEP, format_size
from engine.market.fees import FeeSchedule
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
        fees: FeeSchedule,
    ) -> RiskDecision:
        if feed not in TRADEABLE_SOURCES:
            return RiskDecision(0, f"feed is {feed.value}: no new entries")
        resized: str | None = None
        if size > self.max_order:
            size, resized = self.max_order, f"capped at max order {format_size(self.max_order)}"
        room = self.max_position - position
        if room < size:
            size, resized = max(room, 0), f"capped by max position {format_size(self.max_position)}"
        affordable = affordable_size(cash, price, fees)
        if affordable < size:
            size, resized = affordable, "capped by available cash (fee included)"
        if size < min_size or size <= 0:
            return RiskDecision(0, resized or "below the market's minimum size")
        return RiskDecision(size, resized)

    def check_sell(self, size: int, position: int, min_size: int) -> RiskDecision:
        """`position` is what can still be sold: held shares less open sells."""
        # Exits are allowed whatever the feed does: reducing risk is always permitted.
        if position <= 0:
            return RiskDecision(0, "no position to sell (or already being sold)")
        resized = None
        if size > position:
            size, resized = position, "capped at the position held"
        if size < min_size:
            return RiskDecision(0, "position below the market's minimum order size (dust)")
        return RiskDecision(size, resized)


def affordable_size(cash: int, price: int, fees: FeeSchedule) -> int:
    """The most shares (0.01 steps) whose cost plus taker fee fits in `cash`."""
    if price <= 0 or cash <= 0:
        return 0
    size = cash // price
    size -= size % SHARE_STEP
    if fees.is_free:
        return size
    # The fee per share is at most rate * price-ish; start from an estimate that includes
    # it, then step down until cost + fee fits (a few steps at most: fees round up 1e-6).
    per_share = fees.effective_rate(price)
    estimate = int(cash / (price + per_share * PRICE_SCALE) / SHARE_STEP) * SHARE_STEP
    size = min(size, max(0, estimate))
    while size > 0 and price * size + fees.taker_fee(price, size) > cash:
        size -= SHARE_STEP
    return size

"""The risk gate: every intent is approved, resized or rejected here before it is an order.

It never calls the network. For an entry it asks, in order: is the kill switch letting
entries through; can the feed be traded on, and what does the fallback policy say
(halt, skip the strategy, or scale it); is the book fresh enough to price off; would
the order break a rate window; then how big may it be (:mod:`.sizing`). Exits are
never blocked by entry rules: they only need shares that open sells have not already
promised, and a book fresh enough (or a policy that allows a stale one). Every verdict
names the rule that decided it.
"""

from __future__ import annotations

import msgspec

from engine.config import EngineConfig
from engine.fixed import CASH_DIGITS, SIZE_DIGITS, decimal_to_fixed
from engine.market.health import FeedSource
from engine.orders import Side, StrategyId
from engine.risk.kill_switch import KillSwitch
from engine.risk.live_limits import LiveLimits
from engine.risk.rate_limits import ORDER_RATE_LIMIT, OrderRateLimiter
from engine.risk.sizing import (
    SizingInputs,
    SizingLimits,
    SizingResult,
    affordable_size,
    size_entry,
)
from engine.venue import TradingBlock

__all__ = ["RiskDecision", "RiskGate", "affordable_size"]

# Sources an entry may be priced on; anything else is "fallback" for the feed policy.
TRADEABLE_SOURCES = frozenset({FeedSource.WS_LIVE, FeedSource.REST_ONLY, FeedSource.REPLAY})
LIVE_SOURCES = frozenset({FeedSource.WS_LIVE, FeedSource.REPLAY})
TRADING_BLOCKED = "trading_blocked"  # the rule that refuses while the gateway says no


class RiskDecision(msgspec.Struct, frozen=True):
    size: int  # approved size (shares, 1e-6); 0 when rejected
    reason: str | None = None  # why rejected, or which rules resized it
    rule: str | None = None  # the short name of the deciding rule (for counters)

    @property
    def approved(self) -> bool:
        return self.size > 0


class EntryRequest(msgspec.Struct, frozen=True):
    strategy: str
    market: str
    token: str
    side: Side
    price: int
    confidence: float
    book_age_s: float
    feed: FeedSource
    now: float  # clock time
    blocked: TradingBlock | None = None  # the gateway says no new orders now


class RiskGate:
    def __init__(
        self,
        config: EngineConfig,
        kill_switch: KillSwitch,
        limiter: OrderRateLimiter,
        live: LiveLimits | None = None,
    ) -> None:
        self.config = config
        self.kill_switch = kill_switch
        self.limiter = limiter
        self.live = live  # [live]'s caps and canary mode: live runs only
        risk = config.risk
        self.max_order = decimal_to_fixed(risk.max_order_shares, SIZE_DIGITS)
        self.max_position = decimal_to_fixed(risk.max_position_shares, SIZE_DIGITS)
        self.limits = SizingLimits(
            max_order=self.max_order,
            max_position=self.max_position,
            bankroll_fraction_bps=int(risk.bankroll_fraction * 10_000),
            max_market_exposure=decimal_to_fixed(risk.max_market_exposure, CASH_DIGITS),
            max_event_exposure=decimal_to_fixed(risk.max_event_exposure, CASH_DIGITS),
            max_total_exposure=decimal_to_fixed(risk.max_total_exposure, CASH_DIGITS),
        )
        default = decimal_to_fixed(config.strategy.order_size, SIZE_DIGITS)
        self._base = {
            name: decimal_to_fixed(size, SIZE_DIGITS) for name, size in risk.strategy_sizes.items()
        }
        self._default_base = default
        self._base_sizes: dict[str, int] = {}  # strategy id -> base_size (the sizes are fixed)

    def base_size(self, strategy: str) -> int:
        """The base size of an entry: the strategy's own, else strategy.order_size; for
        a combined decision ("a+b") the smallest of them."""
        size = self._base_sizes.get(strategy)
        if size is None:  # asked for every entry signal: worked out once per id
            names = StrategyId(strategy).names or ("",)
            size = min(self._base.get(n, self._default_base) for n in names)
            self._base_sizes[strategy] = size
        return size

    def screen_entry(self, req: EntryRequest) -> tuple[RiskDecision | None, float]:
        """The checks before sizing: a rejection, or None and the fallback size scale."""
        if req.blocked is not None:
            why = f"trading blocked ({req.blocked.reason}): {req.blocked.detail}"
            return RiskDecision(0, why, TRADING_BLOCKED), 0.0
        ks = self.kill_switch
        if not ks.allows_entries(req.now):
            state = ks.view(req.now).state
            return RiskDecision(0, f"kill switch {state}: no entries", "kill_switch"), 0.0
        if self.live is not None:
            refused = self.live.screen(req.strategy, req.market, req.now)
            if refused is not None:
                rule, why = refused
                return RiskDecision(0, why, rule), 0.0
        if req.feed not in TRADEABLE_SOURCES:
            return RiskDecision(0, f"feed is {req.feed.value}: no new entries", "feed"), 0.0
        scale = 1.0
        if req.feed not in LIVE_SOURCES:
            policy = self.config.strategy
            names = StrategyId(req.strategy).names
            if policy.halt_on_fallback:
                why = f"feed fallback ({req.feed.value}): entries halted"
                return RiskDecision(0, why, "feed_fallback"), 0.0
            if any(n in policy.skip_on_fallback for n in names):
                why = f"feed fallback ({req.feed.value}): {req.strategy} skipped"
                return RiskDecision(0, why, "feed_fallback"), 0.0
            scale = min(policy.size_scales_on_fallback.get(n, 1.0) for n in names)
        if req.book_age_s > self.config.strategy.max_book_age_s:
            why = f"stale book: {req.book_age_s:.1f}s since the feed vouched for it"
            return RiskDecision(0, why, "stale_book"), 0.0
        # The limiter applies each named strategy's windows of a combined "a+b" itself.
        rate = self.limiter.check(req.strategy, req.market, req.side, req.now)
        if not rate.allowed:
            reason = rate.reason or ORDER_RATE_LIMIT
            return RiskDecision(0, f"{reason}: {rate.detail}", reason), 0.0
        return None, scale

    def size(self, inputs: SizingInputs) -> SizingResult:
        sized = size_entry(inputs, self.limits)
        if self.live is None or sized.size <= 0:
            return sized
        cuts = self.live.cuts(sized.size, inputs.price)
        if not cuts:
            return sized
        size = cuts[-1][1]
        steps = (*sized.steps, *cuts)
        if size < inputs.min_size:
            if size > 0:
                steps = (*steps, ("market minimum size", 0))
            size = 0
        return SizingResult(size, steps)

    def live_cap(self, size: int, price: int) -> int:
        """A basket leg's size under the live caps (unchanged for a paper run)."""
        if self.live is None:
            return size
        cuts = self.live.cuts(size, price)
        return cuts[-1][1] if cuts else size

    def check_sell(self, size: int, position: int, min_size: int) -> RiskDecision:
        """`position` is what can still be sold: held shares less open sells."""
        if position <= 0:
            return RiskDecision(0, "no position to sell (or already being sold)", "no_position")
        resized = None
        if size > position:
            size, resized = position, "capped at the position held"
        if size < min_size:
            why = "position below the market's minimum order size (dust)"
            return RiskDecision(0, why, "dust")
        return RiskDecision(size, resized)

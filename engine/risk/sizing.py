"""Sizing: how many shares an entry gets, and which rule decided it.

Start from the strategy's base size times the signal's confidence, scale by the kill
switch's recovery scale and the feed policy's fallback scale, then cap, in order, by the
order and position caps, the bankroll fraction, the market, event and total exposure
caps, and cash (taker fee included). Every rule that cut the size is kept, in order, so
a resize always names what resized it (the ``[sizing]`` log line, ``risk_events`` and the
snapshot carry it).

Exposure is the worst-case loss at resolution: the cost of what is held (plus open buys)
less what the held shares are sure to pay. Holding YES and NO of one market is a hedge:
``min(yes, no)`` pairs pay exactly 1 whichever side wins, so they net out. An entry that
only adds to the hedged side always fits.
"""

from __future__ import annotations

import msgspec

from engine.fixed import ONE, PRICE_SCALE, SHARE_STEP, format_size
from engine.market.fees import FeeSchedule


class Holding(msgspec.Struct, frozen=True):
    """One market's YES/NO holdings (open buys included), for exposure."""

    shares: dict[str, int]  # token -> shares (1e-6)
    cost: int  # cash units paid (or promised to open buys)


def exposure(holding: Holding) -> int:
    """Worst-case loss at resolution (cash units): cost less the shares sure to pay."""
    if not holding.shares:
        return max(0, holding.cost)
    sure = min(holding.shares.values()) if len(holding.shares) > 1 else 0
    return max(0, holding.cost - sure * ONE)


def max_buy_within(room: int, price: int, token: str, holding: Holding) -> int:
    """Most shares of `token` at `price` whose added exposure fits in `room` (cash units).

    Buying the short side of a hedge first *reduces* exposure, so up to that many shares
    always fit, whatever the room.
    """
    shares = holding.shares
    mine = shares.get(token, 0)
    others = [s for t, s in shares.items() if t != token]
    # Shares of `token` that pair with shares already held on every other outcome.
    hedge = max(0, min(others) - mine) if others and len(shares) > 1 else 0
    if price <= 0:
        return 0
    fits = (room + hedge * ONE) // price if room + hedge * ONE > 0 else 0
    best = max(hedge, fits)
    return best - best % SHARE_STEP


class SizingInputs(msgspec.Struct, frozen=True):
    strategy: str
    token: str
    price: int
    confidence: float  # 0..1
    base: int  # the strategy's base size (shares, 1e-6)
    recovery_scale: float  # kill switch: 1 armed, ratio..1 recovering
    fallback_scale: float  # feed policy: 1 on a live feed
    position: int  # shares held of this token, open buys included
    equity: int  # cash units
    cash: int  # cash units not promised to open buys
    market: Holding
    event_exposure: int  # cash units, this market included
    total_exposure: int  # cash units, this market included
    min_size: int
    fees: FeeSchedule


class SizingLimits(msgspec.Struct, frozen=True):
    max_order: int
    max_position: int
    bankroll_fraction_bps: int  # of equity, in basis points
    max_market_exposure: int  # cash units
    max_event_exposure: int
    max_total_exposure: int


class SizingResult(msgspec.Struct, frozen=True):
    size: int  # 0: nothing to send
    steps: tuple[tuple[str, int], ...]  # (rule, size after it) for every rule that cut

    @property
    def rule(self) -> str | None:
        """The rule that had the last word, when any cut the size."""
        return self.steps[-1][0] if self.steps else None

    def describe(self) -> str:
        return ", ".join(f"{rule} -> {format_size(size)}" for rule, size in self.steps)


def size_entry(inputs: SizingInputs, limits: SizingLimits) -> SizingResult:
    steps: list[tuple[str, int]] = []

    def cut(rule: str, size: int, cap: int) -> int:
        cap = max(0, cap - cap % SHARE_STEP)
        if cap < size:
            steps.append((rule, cap))
            return cap
        return size

    wanted = int(inputs.base * max(0.0, min(1.0, inputs.confidence)))
    size = wanted - wanted % SHARE_STEP
    if size < inputs.base:
        steps.append(("confidence", size))
    if inputs.recovery_scale < 1.0:
        size = cut("kill switch recovery", size, int(size * inputs.recovery_scale))
    if inputs.fallback_scale < 1.0:
        size = cut("feed fallback scale", size, int(size * inputs.fallback_scale))
    size = cut("max order", size, limits.max_order)
    size = cut("max position", size, limits.max_position - inputs.position)
    price = inputs.price
    if price > 0:
        budget = inputs.equity * limits.bankroll_fraction_bps // 10_000
        size = cut("bankroll fraction", size, budget // price)
        market_room = limits.max_market_exposure - exposure(inputs.market)
        size = cut(
            "market exposure", size, max_buy_within(market_room, price, inputs.token, inputs.market)
        )
        # Event and total rooms: the market's own hedge still counts in them.
        hedge_room = max_buy_within(0, price, inputs.token, inputs.market)
        event_room = limits.max_event_exposure - inputs.event_exposure
        size = cut("event exposure", size, max(hedge_room, max(0, event_room) // price))
        total_room = limits.max_total_exposure - inputs.total_exposure
        size = cut("total exposure", size, max(hedge_room, max(0, total_room) // price))
        size = cut("cash (fee included)", size, affordable_size(inputs.cash, price, inputs.fees))
    if size < inputs.min_size:
        if size > 0:
            steps.append(("market minimum size", 0))
        size = 0
    return SizingResult(max(0, size), tuple(steps))


def affordable_size(cash: int, price: int, fees: FeeSchedule) -> int:
    """The most shares (0.01 steps) whose cost plus taker fee fits in `cash`."""
    if price <= 0 or cash <= 0:
        return 0
    size = cash // price
    size -= size % SHARE_STEP
    if fees.is_free:
        return size
    # Start from an estimate that includes the fee, then step down until cost + fee fits
    # (a few steps at most: fees round up to the 1e-6 unit).
    per_share = fees.effective_rate(price)
    estimate = int(cash / (price + per_share * PRICE_SCALE) / SHARE_STEP) * SHARE_STEP
    size = min(size, max(0, estimate))
    while size > 0 and price * size + fees.taker_fee(price, size) > cash:
        size -= SHARE_STEP
    return size

"""Sizing a basket: every leg the same size, all legs fitting together, or none at all.

A basket (a YES/NO pair, every outcome of a neg-risk event) only pays as a whole, so it
is never partially approved: one unit size is found for all legs such that, with every
leg counted at once, the order and position caps, the bankroll fraction, cash (taker
fees included) and the market, event and total exposure caps all hold. Exposure counts
the legs together, so a YES/NO pair bought below 1 is seen as the hedge it is. If that
size is below any leg's minimum order size, the basket is refused whole and the rule that
bound it is named.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.fixed import SHARE_STEP, format_size
from engine.market.fees import FeeSchedule
from engine.risk.sizing import Holding, SizingLimits, exposure


@dataclass(frozen=True, slots=True)
class BasketLeg:
    token: str
    market: str  # condition id
    event: str  # the market's event id
    price: int  # 1e-4
    position: int  # shares held of this token, open buys included
    min_size: int
    fees: FeeSchedule


@dataclass(frozen=True, slots=True)
class BasketAccount:
    """The account as it stands, for the legs' markets and events."""

    equity: int  # cash units
    cash: int  # not promised to open buys
    holdings: dict[str, Holding]  # market -> its holding now
    event_exposure: dict[str, int]  # event -> its exposure now
    total_exposure: int


@dataclass(frozen=True, slots=True)
class BasketSizing:
    size: int  # shares per leg (1e-6); 0: refused whole
    rule: str | None  # the rule that bound the size (None: the size asked for)
    reason: str


def size_basket(
    legs: Sequence[BasketLeg],
    wanted: int,
    account: BasketAccount,
    limits: SizingLimits,
) -> BasketSizing:
    """The largest per-leg size up to `wanted` that every rule allows for all legs at
    once (0.01-share steps), or 0 with the binding rule."""
    if not legs:
        return BasketSizing(0, "empty", "a basket with no legs")
    checks = _checks(legs, account, limits)

    def failing(units: int) -> str | None:
        for rule, fits in checks:
            if not fits(units):
                return rule
        return None

    top = wanted - wanted % SHARE_STEP
    rule = failing(top)
    if rule is None:
        size = top
    else:
        # Every rule allows a prefix of sizes (costs grow with size; hedged exposure only
        # shrinks), so the largest allowed size is found by bisection over whole steps.
        low, high = 0, top // SHARE_STEP - 1
        while low < high:
            mid = (low + high + 1) // 2
            if failing(mid * SHARE_STEP) is None:
                low = mid
            else:
                high = mid - 1
        size = low * SHARE_STEP
    minimum = max(leg.min_size for leg in legs)
    if size < minimum or size <= 0:
        bound = rule or "market minimum size"
        return BasketSizing(
            0,
            bound,
            f"refused whole: {bound} allows {format_size(size)} per leg, "
            f"below the minimum {format_size(minimum)}",
        )
    if rule is not None:
        return BasketSizing(
            size, rule, f"resized whole by {rule}: {format_size(size)} of {format_size(top)}"
        )
    return BasketSizing(size, None, "")


def _checks(
    legs: Sequence[BasketLeg], account: BasketAccount, limits: SizingLimits
) -> list[tuple[str, Callable[[int], bool]]]:
    by_market: dict[str, list[BasketLeg]] = {}
    for leg in legs:
        by_market.setdefault(leg.market, []).append(leg)
    budget = account.equity * limits.bankroll_fraction_bps // 10_000

    def cost(units: int) -> int:
        return sum(leg.price * units for leg in legs)

    def with_fees(units: int) -> int:
        return sum(leg.price * units + leg.fees.taker_fee(leg.price, units) for leg in legs)

    def deltas(units: int) -> dict[str, int]:
        """Each leg market's exposure change if every leg filled `units`."""
        out: dict[str, int] = {}
        for market, mine in by_market.items():
            old = account.holdings.get(market, Holding({}, 0))
            shares = dict(old.shares)
            added = 0
            for leg in mine:
                shares[leg.token] = shares.get(leg.token, 0) + units
                added += leg.price * units
            out[market] = exposure(Holding(shares, old.cost + added)) - exposure(old)
        return out

    def markets_fit(units: int) -> bool:
        for market, delta in deltas(units).items():
            now = exposure(account.holdings.get(market, Holding({}, 0)))
            if delta > 0 and now + delta > limits.max_market_exposure:
                return False
        return True

    def events_fit(units: int) -> bool:
        per_event: dict[str, int] = {}
        event_of = {leg.market: leg.event for leg in legs}
        for market, delta in deltas(units).items():
            event = event_of[market]
            per_event[event] = per_event.get(event, 0) + delta
        return all(
            delta <= 0 or account.event_exposure.get(event, 0) + delta <= limits.max_event_exposure
            for event, delta in per_event.items()
        )

    def total_fits(units: int) -> bool:
        delta = sum(deltas(units).values())
        return delta <= 0 or account.total_exposure + delta <= limits.max_total_exposure

    return [
        ("max order", lambda units: units <= limits.max_order),
        (
            "max position",
            lambda units: all(leg.position + units <= limits.max_position for leg in legs),
        ),
        ("bankroll fraction", lambda units: cost(units) <= budget),
        ("market exposure", markets_fit),
        ("event exposure", events_fit),
        ("total exposure", total_fits),
        ("cash (fee included)", lambda units: with_fees(units) <= account.cash),
    ]

"""The entry screen: whether an entry may go out, at what price and how big, and how much
of a sell keeps exposure within the caps.

An entry is priced (the bid to rest at, or the ask plus the slippage cap to take), then
screened by the risk gate (trading blocks, the kill switch, the feed, the book's age,
rate windows), then sized from everything the account holds now (open orders counted as
held). A refusal names its rule. The ``[sizing]`` line keeps every input and each rule
that cut the size; formatting it costs more than sizing, so it is made on demand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Protocol

import msgspec

from engine.config import EngineConfig
from engine.fixed import ONE, SHARE_STEP, format_cash, format_price, format_size
from engine.logbook import Logbook
from engine.market.book import OrderBook
from engine.market.health import FeedHealth
from engine.market.markets import MarketInfo
from engine.orders import Side, StrategyId
from engine.risk.gate import EntryRequest, RiskDecision, RiskGate
from engine.risk.sizing import Holding, SizingInputs, SizingResult, exposure
from engine.venue import TradingBlock

sizing_log = logging.getLogger("engine.sizing")  # one [sizing] line per entry decision


class AccountView(Protocol):
    """What sizing weighs of the account, as it stands now."""

    def equity(self) -> int: ...

    def free_cash(self) -> int:
        """Cash not promised to open buys."""

    def holding(self, asset_id: str) -> int:
        """Shares held of this token, open buys included."""

    def position(self, asset_id: str) -> tuple[int, int]:
        """(shares held, their cost)."""

    def exposures(self, market: MarketInfo) -> tuple[Holding, int, int]:
        """(this market's holding, its event's exposure, the total), cash units."""


class EntryTicket(msgspec.Struct, frozen=True):
    """An approved entry: the price and size to send, and whether it rests."""

    price: int
    size: int
    rest: bool
    base: int  # the size before the caps
    resized: str | None = None  # "resized: <rule> -> <size>, ..." when a risk rule cut it


class Refusal(msgspec.Struct, frozen=True):
    """A refused entry: the rule, why, and the size that was wanted."""

    rule: str
    reason: str
    wanted: int


class EntryScreen:
    def __init__(
        self,
        config: EngineConfig,
        gate: RiskGate,
        account: AccountView,
        health: FeedHealth,
        book_age: Callable[[str], float],
        blocked: Callable[[], TradingBlock | None],
        logbook: Logbook | None = None,
    ) -> None:
        self._config = config
        self._logbook = logbook or Logbook()
        self.gate = gate
        self._account = account
        self._health = health
        self._book_age = book_age
        self._blocked = blocked
        self._cooldown_until: dict[str, float] = {}
        self._last: tuple[MarketInfo, SizingInputs, SizingResult, int] | None = None
        self._said: tuple[object, str] | None = None  # _last and its words, once asked
        self.resized = 0  # entries a risk rule made smaller

    def cooling(self, asset_id: str, now: float) -> bool:
        """The token's entry cooldown has not run out (monotonic `now`)."""
        return now < self._cooldown_until.get(asset_id, 0.0)

    def screen(
        self, strategy: str, market: MarketInfo, token: str, price: int, at: float
    ) -> tuple[RiskDecision | None, float]:
        """The gate's checks before sizing: a refusal, or None and the fallback scale."""
        return self.gate.screen_entry(
            EntryRequest(
                strategy,
                market.condition_id,
                token,
                Side.BUY,
                price,
                1.0,
                self._book_age(token),
                self._health.source,
                at,
                self._blocked(),
            )
        )

    def entry(
        self,
        strategy: StrategyId,
        market: MarketInfo,
        book: OrderBook,
        confidence: float,
        at: float,
        *,
        rest: bool,
        size_hint: int | None = None,
    ) -> EntryTicket | Refusal:
        """Price, screen and size an entry on this book."""
        cfg = self._config.strategy
        tick = book.tick
        token = book.asset_id
        if rest:
            price = book.best_bid
        else:
            best = book.best_ask
            price = None if best is None else min(best + cfg.max_slippage_ticks * tick, ONE - tick)
        base = self.gate.base_size(strategy)
        if size_hint is not None and size_hint > 0:
            # The strategy's own size, its conviction already in it: not scaled again by
            # confidence; every cap below still applies.
            base, confidence = size_hint, 1.0
        if price is None:
            return Refusal("no_price", "no price on the book", base)
        verdict, fallback_scale = self.gate.screen_entry(
            EntryRequest(
                strategy,
                market.condition_id,
                token,
                Side.BUY,
                price,
                confidence,
                self._book_age(token),
                self._health.source,
                at,
                self._blocked(),
            )
        )
        if verdict is not None:
            return Refusal(verdict.rule or "risk", verdict.reason or "", base)
        inputs = self.inputs(strategy, market, token, price, confidence, base, fallback_scale, at)
        sized = self.gate.size(inputs)
        # Formatting costs more than sizing: keep the parts, format on demand.
        self._last = (market, inputs, sized, price)
        if sizing_log.isEnabledFor(logging.INFO):
            self._logbook.write(partial(_log_sizing, self._last))
        if sized.size <= 0:
            why = f"sized to zero by {sized.rule or 'confidence'} ({sized.describe()})"
            return Refusal(sized.rule or "sizing", why, base)
        if not rest:
            # A taking entry asks only what the book offers within its limit: a FAK that
            # fills part of a bigger order could open a position below the market's
            # minimum, which could then never be sold.
            offered = _offered(book, price)
            if offered < sized.size:
                capped = offered - offered % SHARE_STEP
                if capped < market.min_order_size:
                    why = (
                        f"the asks offer {format_size(offered)} within the limit, below the "
                        f"market's minimum order size {format_size(market.min_order_size)}"
                    )
                    return Refusal("thin_book", why, base)
                sized = SizingResult(capped, (*sized.steps, ("book depth", capped)))
                self._last = (market, inputs, sized, price)
        resized = None
        if sized.steps and any(rule != "confidence" for rule, _ in sized.steps):
            # A resize names the rule that resized it (confidence scaling is the
            # strategy's own and not a risk event).
            self.resized += 1
            resized = f"resized: {sized.describe()}"
        return EntryTicket(price, sized.size, rest, base, resized)

    def approved(
        self, strategy: str, market: MarketInfo, asset_id: str, now: float, at: float
    ) -> None:
        """An entry is going out: its token cools down, its rate windows count it."""
        self._cooldown_until[asset_id] = now + self._config.strategy.entry_cooldown_s
        self.gate.limiter.record(strategy, market.condition_id, Side.BUY, at)

    # -- sizing -----------------------------------------------------------------------------
    def inputs(
        self,
        strategy: str,
        market: MarketInfo,
        token: str,
        price: int,
        confidence: float,
        base: int,
        fallback_scale: float,
        at: float,
    ) -> SizingInputs:
        """Everything sizing weighs for an entry, as the account stands now (open buys
        count as held; exposure and equity are kept current incrementally)."""
        account = self._account
        holding, event_exposure, total_exposure = account.exposures(market)
        return SizingInputs(
            strategy=strategy,
            token=token,
            price=price,
            confidence=confidence,
            base=base,
            recovery_scale=self.gate.kill_switch.entry_scale(at),
            fallback_scale=fallback_scale,
            position=account.holding(token),
            equity=account.equity(),
            cash=account.free_cash(),
            market=holding,
            event_exposure=event_exposure,
            total_exposure=total_exposure,
            min_size=market.min_order_size,
            fees=market.fees,
        )

    @property
    def last_sizing(self) -> str:
        """The latest [sizing] line: every input and each rule that cut the size."""
        last = self._last
        if last is None:
            return ""
        said = self._said
        if said is None or said[0] is not last:
            # Worded once per entry sized: snapshots ask ten times a second.
            said = self._said = (last, sizing_line(last))
        return said[1]

    # -- exits ------------------------------------------------------------------------------
    def unhedge_limit(self, asset: str, market: MarketInfo, size: int) -> int:
        """How much of a sell keeps exposure within the caps. Selling only ever lowers
        exposure, except one leg of a YES/NO hedge: those pairs pay 1 whatever happens, and
        selling a leg turns the other into open risk. Flatten and kill close every leg and
        are not limited."""
        holding, event_exposure, total_exposure = self._account.exposures(market)
        before = exposure(holding)
        limits = self.gate.limits
        room = min(
            limits.max_market_exposure - before,
            limits.max_event_exposure - event_exposure,
            limits.max_total_exposure - total_exposure,
        )
        shares, cost = self._account.position(asset)
        if not shares:
            return size

        def delta(sold: int) -> int:
            held = dict(holding.shares)
            held[asset] -= sold
            released = cost if sold >= shares else cost * sold // shares
            return exposure(Holding(held, holding.cost - released)) - before

        if delta(size) <= max(0, room):
            return size
        low, high = 0, size // SHARE_STEP  # the most whole steps that still fit
        while low < high:
            mid = (low + high + 1) // 2
            if delta(mid * SHARE_STEP) <= max(0, room):
                low = mid
            else:
                high = mid - 1
        return low * SHARE_STEP


def _offered(book: OrderBook, limit: int) -> int:
    """Shares the asks show at or below `limit`."""
    sizes = book.ask_sizes
    total = 0
    for price in book.ask_prices:
        if price > limit:
            break
        total += sizes[price]
    return total


def sizing_line(parts: tuple[MarketInfo, SizingInputs, SizingResult, int]) -> str:
    """A [sizing] line: every input and each rule that cut the size."""
    market, i, sized, price = parts
    return (
        f"[sizing] {i.strategy} {market.outcome_of(i.token)} '{market.question[:40]}' "
        f"conf={i.confidence:.2f} base={format_size(i.base)} price={format_price(price)} "
        f"recovery={i.recovery_scale:.2f} fallback={i.fallback_scale:.2f} "
        f"equity={format_cash(i.equity)} cash={format_cash(i.cash)} "
        f"exposure market/event/total={format_cash(exposure(i.market))}/"
        f"{format_cash(i.event_exposure)}/{format_cash(i.total_exposure)} "
        f"-> {format_size(sized.size)}" + (f" ({sized.describe()})" if sized.steps else "")
    )


def _log_sizing(parts: tuple[MarketInfo, SizingInputs, SizingResult, int]) -> None:
    sizing_log.info("%s", sizing_line(parts))

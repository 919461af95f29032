"""Baskets: legs that trade all or none, from a strategy's find to a balanced position.

A :class:`~engine.strategies.base.Basket` skips voting. A weight-0 strategy's basket is
detected: recorded and shown, never traded. Otherwise it is screened whole and either
refused whole or sent whole, every leg a FAK order at once:

- a buying basket (an arbitrage's entry) passes every leg through the entry rules and
  is sized by the thinnest leg and every cap (:func:`engine.risk.baskets.size_basket`);
- a selling basket (an arbitrage's exit) sells the same number of shares of every leg
  from the strategy's own lots; exits are never held back by entry rules.

One-leg-fill protection: once every order of a traded basket is done, legs that filled
unevenly are repaired. A buying basket's short legs are bought over the book's depth
while the basket still pays, else the extra shares of the long legs are sold back; a
selling basket's unsold shares are sold into the bids. Repairs are orders like the legs,
watched the same way, up to ``MAX_REPAIRS`` rounds ``REPAIR_PAUSE_S`` apart (the book
needs a moment to refill). The outcome recorded is what the fills did: the repairs sent
and whether the legs ended balanced.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from engine.clock import Clock
from engine.config import EngineConfig
from engine.decisions import DETECTED, PAUSED, Decision, DecisionKind
from engine.events import BasketDecided, BasketResolved, EngineEvent, SignalRaised
from engine.execution.attribution import Attribution
from engine.execution.matching import match_taker
from engine.execution.oms import OrderManager
from engine.exit_reasons import ExitReason
from engine.fixed import ONE, format_price, format_size, price_decimal, size_decimal
from engine.market.book import OrderBook
from engine.market.markets import MarketInfo
from engine.market.registry import MarketRegistry
from engine.orders import NO_EXITS, Fill, OrderRequest, OrderType, Side, basket_order_reason
from engine.risk.baskets import BasketAccount, BasketLeg, size_basket
from engine.risk.entry import EntryScreen
from engine.risk.gate import RiskGate
from engine.risk.refusals import Refusals
from engine.risk.sizing import Holding
from engine.runtime.account import AccountView
from engine.runtime.snapshot import ArbitrageLeg, ArbitrageRow
from engine.strategies.base import Basket
from engine.strategies.edge import fee_per_share

log = logging.getLogger("engine.baskets")

# Basket legs are hedged and held to resolution (or until their strategy exits them):
# the per-lot take-profit, stop-loss and maximum holding time (0: off) would each sell one
# leg of the hedge alone.
BASKET_LEG_EXITS = NO_EXITS
ORDER_EXIT = Decision(DecisionKind.ORDER, detail="exit")
RECENT_ARBITRAGE = 50  # detections the snapshot keeps
MAX_REPAIRS = 3  # rounds of one-leg-fill protection before the legs are left as they are
REPAIR_PAUSE_S = 0.5  # between rounds: the book refills


@dataclass(slots=True)
class BasketRun:
    """A traded basket whose orders are on their way: what protection watches until
    every leg is done and balanced (or the rounds run out)."""

    basket_id: str
    basket: Basket
    size: int  # per leg, as sent
    deadline: float  # clock time: orders still open then are cancelled
    leg_of: dict[str, int]  # order id (legs and repairs) -> leg index
    filled: list[int]  # shares filled per leg
    actions: list[str] = field(default_factory=list)  # what protection did, in order
    repairs: int = 0
    not_before: float = 0.0  # the next round waits for this clock time
    cancelled: bool = False

    @property
    def buying(self) -> bool:
        return self.basket.legs[0].side is Side.BUY


class BasketDesk:
    """Baskets from find to balance, through the order manager, the entry screen and the
    account's views (never the core)."""

    def __init__(
        self,
        config: EngineConfig,
        clock: Clock,
        emit: Callable[[EngineEvent], None],
        *,
        oms: OrderManager,
        screen: EntryScreen,
        gate: RiskGate,
        refusals: Refusals,
        account: AccountView,
        registry: MarketRegistry,
        books: Mapping[str, OrderBook],
        attribution: Attribution,
        weight: Callable[[str], float],
        entries_allowed: Callable[[], bool],
        latency_us: Callable[[], float | None],
        book_age: Callable[[str], float],
    ) -> None:
        self._config = config
        self._clock = clock
        self._emit = emit
        self._oms = oms
        self._screen = screen
        self._gate = gate
        self._refusals = refusals
        self._account = account
        self._registry = registry
        self._books = books
        self._attribution = attribution
        self._weight = weight
        self._entries_allowed = entries_allowed
        self._latency_us = latency_us
        self._book_age = book_age
        self.counts: Counter[str] = Counter()
        self.runs: dict[str, BasketRun] = {}
        self._run_of_order: dict[str, str] = {}
        self._seq = 0
        self._seen: dict[tuple[str, str], tuple[float, Decision]] = {}
        self._busy: dict[tuple[str, str], float] = {}  # traded: cooldown until
        self.arbitrage: dict[str, ArbitrageRow] = {}  # recent detections, by basket id
        self.arbitrage_version = 0

    # -- a strategy's basket ------------------------------------------------------------
    def on_basket(self, basket: Basket) -> None:
        """Detected (weight 0), refused whole, or every leg sent at once as FAK at its
        price. Repeats of an unchanged verdict are recorded once per
        `execution.basket_redetect_s`; a traded basket's event waits for its legs."""
        if not basket.legs:
            return
        key = (basket.strategy, basket.event_id)
        at = self._clock.time()
        busy = self._busy.get(key)
        if busy is not None and at < busy:
            return
        sides = {leg.side for leg in basket.legs}
        size = 0
        decision: Decision
        if len(sides) != 1:
            decision = self._refuse(basket, "side", "a basket buys every leg or sells every leg")
        elif Side.SELL in sides:
            # An exit: never held back by weight, pause or entry rules.
            decision, size = self._screen_exit(basket)
        elif self._weight(basket.strategy) <= 0:
            decision = DETECTED
        elif not self._entries_allowed():
            decision = PAUSED
        else:
            decision, size = self._screen_entry(basket, at)
        if size > 0:
            self._seen.pop(key, None)
            self._trade(basket, size, at)
            return
        seen = self._seen.get(key)
        if (
            seen is not None
            and seen[1] == decision
            and at - seen[0] < self._config.execution.basket_redetect_s
        ):
            return
        self._seen[key] = (at, decision)
        self._record(basket, decision, (), at)

    def _screen_entry(self, basket: Basket, at: float) -> tuple[Decision, int]:
        """Every rule for every leg before any leg is placed: (decision, size per leg),
        size 0 when refused whole."""
        books = self._books
        strategy = basket.strategy
        account = self._account
        legs: list[BasketLeg] = []
        markets: dict[str, MarketInfo] = {}
        resolved = self._registry.resolved
        for leg in basket.legs:
            market = self._registry.market_of(leg.asset_id)
            book = books.get(leg.asset_id)
            if market is None or book is None or not book.has_snapshot or book.needs_snapshot:
                return self._refuse(basket, "book", f"leg {leg.asset_id[:12]}… not tradeable"), 0
            if market.condition_id in resolved:
                # An outcome already decided trades no more: the others would be bought
                # for a basket that cannot be completed.
                why = f"leg {leg.asset_id[:12]}…: its market resolved"
                return self._refuse(basket, "resolved", why), 0
            verdict, scale = self._screen.screen(strategy, market, leg.asset_id, leg.price, at)
            if verdict is not None:
                return self._refuse(basket, verdict.rule or "risk", verdict.reason or ""), 0
            if scale < 1.0:
                why = "feed fallback: baskets are not traded scaled"
                return self._refuse(basket, "feed_fallback", why), 0
            markets[market.condition_id] = market
            legs.append(
                BasketLeg(
                    leg.asset_id,
                    market.condition_id,
                    market.event,
                    leg.price,
                    account.holding(leg.asset_id),
                    market.min_order_size,
                    market.fees,
                )
            )
        limiter = self._gate.limiter
        rate = limiter.check_batch(strategy, [(leg.market, Side.BUY) for leg in legs], at)
        if not rate.allowed:
            rule = rate.reason or "order_rate_limit"
            return self._refuse(basket, rule, f"{rule}: {rate.detail}"), 0
        holdings: dict[str, Holding] = {}
        events: dict[str, int] = {}
        total = 0
        for market in markets.values():
            holding, event_exposure, total = account.exposures(market)
            holdings[market.condition_id] = holding
            events[market.event] = event_exposure
        wanted = min(leg.size for leg in basket.legs)
        if wanted <= 0:  # no size from the strategy: its base size
            wanted = self._gate.base_size(strategy)
        # A live run's caps count the legs together (conservative for each leg's own).
        wanted = self._gate.live_cap(wanted, sum(leg.price for leg in legs))
        funds = BasketAccount(account.equity(), account.free_cash(), holdings, events, total)
        sized = size_basket(legs, wanted, funds, self._gate.limits)
        if sized.size <= 0:
            return self._refuse(basket, sized.rule or "sizing", sized.reason), 0
        if sized.rule is None:
            return Decision(DecisionKind.ORDER), sized.size
        return Decision(DecisionKind.ORDER, detail=sized.reason), sized.size

    def _screen_exit(self, basket: Basket) -> tuple[Decision, int]:
        """A selling basket sells as many shares of every leg as the strategy's own lot
        on each still holds (and no open sell already promises), all or none."""
        cfg = self._config.strategy
        owner = basket.strategy
        account = self._account
        size: int | None = None
        block = self._oms.blocked
        if block is not None:
            why = f"trading blocked ({block.reason}): {block.detail}"
            return self._refuse(basket, "trading_blocked", why), 0
        for leg in basket.legs:
            market = self._registry.market_of(leg.asset_id)
            book = self._books.get(leg.asset_id)
            if market is None or book is None or not book.has_snapshot or book.needs_snapshot:
                return self._refuse(basket, "book", f"leg {leg.asset_id[:12]}… not tradeable"), 0
            if market.condition_id in self._registry.resolved:
                why = f"leg {leg.asset_id[:12]}…: its market resolved (settlement pays it)"
                return self._refuse(basket, "resolved", why), 0
            if cfg.stale_book_exits == "hold" and self._book_age(leg.asset_id) > cfg.max_book_age_s:
                return self._refuse(basket, "stale_book", "stale book: exit held"), 0
            held = account.lot_sellable(leg.asset_id, owner)
            held = min(held, account.sellable(leg.asset_id))
            if leg.size > 0:
                held = min(held, leg.size)
            if held < market.min_order_size:
                why = f"leg {leg.asset_id[:12]}…: {format_size(max(0, held))} to sell"
                return self._refuse(basket, "size", why), 0
            size = held if size is None else min(size, held)
        return ORDER_EXIT, size or 0

    def _refuse(self, basket: Basket, rule: str, why: str) -> Decision:
        if basket.legs[0].side is Side.BUY:
            self._refusals.count_entry_refused()
        self._refusals.reject(rule)
        return Decision(DecisionKind.REFUSED, rule, why)

    def _trade(self, basket: Basket, size: int, at: float) -> None:
        self._seq += 1
        basket_id = f"b{self._oms.run_id}-{self._seq}"
        strategy = basket.strategy
        buying = basket.legs[0].side is Side.BUY
        ticks = self._config.strategy.max_slippage_ticks
        legs: list[tuple[OrderRequest, MarketInfo, OrderBook]] = []
        for leg in basket.legs:
            market = self._registry.by_token[leg.asset_id]
            book = self._books[leg.asset_id]
            price = leg.price if buying else max(leg.price - ticks * book.tick, book.tick)
            order = OrderRequest(
                order_id=self._oms.next_order_id(),
                asset_id=leg.asset_id,
                market=market.condition_id,
                side=leg.side,
                price=price,
                size=size,
                order_type=OrderType.FAK,
                strategy=strategy,
                # An exit's reason is the strategy's own, so exit analytics group by it.
                reason=basket_order_reason(basket_id, basket.reason) if buying else basket.reason,
                created_at=at,
                is_exit=not buying,
            )
            legs.append((order, market, book))
        orders = tuple(order.order_id for order, _, _ in legs)
        # Watched before any leg goes out: a gateway may answer (and fill) synchronously.
        run = BasketRun(
            basket_id,
            basket,
            size,
            at + self._config.execution.basket_leg_timeout_s,
            {oid: i for i, oid in enumerate(orders)},
            [0] * len(orders),
        )
        self.runs[basket_id] = run
        self._run_of_order.update(dict.fromkeys(orders, basket_id))
        self._busy[(strategy, basket.event_id)] = float("inf")
        self.counts["baskets_traded"] += 1
        decided = Decision(DecisionKind.ORDER) if buying else ORDER_EXIT
        self._record(basket, decided, orders, at, basket_id, size)
        for order, market, book in legs:
            self._send(order, market, book, entry=buying)

    def _send(self, order: OrderRequest, market: MarketInfo, book: OrderBook, entry: bool) -> None:
        if entry:
            self._gate.limiter.record(
                order.strategy, market.condition_id, Side.BUY, order.created_at
            )
            self.counts["entry_orders"] += 1
        self._oms.submit(
            order,
            market,
            decision_mid=book.mid_price(),
            levels=BASKET_LEG_EXITS if entry else None,
            exit_kind=None if entry else ExitReason.BASKET,
        )

    def on_fill(self, fill: Fill) -> None:
        """Count a fill on its leg: shares the basket's way (bought for a buying basket,
        sold for a selling one) add, shares sold back by an unwind take away."""
        basket_id = self._run_of_order.get(fill.order_id)
        if basket_id is not None:
            run = self.runs[basket_id]
            way = 1 if fill.side is run.basket.legs[0].side else -1
            run.filled[run.leg_of[fill.order_id]] += way * fill.size

    # -- recording ------------------------------------------------------------------------
    def _record(
        self,
        basket: Basket,
        decision: Decision,
        orders: tuple[str, ...],
        at: float,
        basket_id: str = "",
        size: int | None = None,
    ) -> None:
        if not basket_id:
            self._seq += 1
            basket_id = f"b{self._oms.run_id}-{self._seq}"
        stats = self._attribution.of(basket.strategy)
        if decision == DETECTED:
            stats.detected += 1
        else:
            stats.signals += 1
        self.counts["baskets"] += 1
        self.counts["signals"] += 1
        legs = [
            [
                leg.asset_id,
                leg.market,
                leg.side.value,
                leg.price,
                leg.size if size is None else size,
                orders[i] if orders else None,
            ]
            for i, leg in enumerate(basket.legs)
        ]
        self._emit(
            BasketDecided(
                at,
                basket_id,
                basket.strategy,
                basket.kind,
                basket.event_id,
                json.dumps(legs),
                basket.cost,
                basket.payout,
                basket.edge_bps,
                basket.reason,
                decision.text,
            )
        )
        inputs = dict(basket.inputs)
        inputs["legs"] = len(basket.legs)
        first = basket.legs[0]
        self._emit(
            SignalRaised(
                at,
                basket.strategy,
                first.asset_id,
                first.side,
                1.0,
                f"basket {basket_id} ({basket.kind} {basket.event_id[:16]}): {basket.reason}",
                first.side is Side.SELL,
                decision.text,
                basket.edge_bps,
                json.dumps({"basket": basket_id, **inputs}),
                "",
                self._latency_us() if orders else None,
                orders[0] if orders else None,
            )
        )
        self._show(basket_id, basket, decision, orders, at, size)

    def _show(
        self,
        basket_id: str,
        basket: Basket,
        decision: Decision,
        orders: tuple[str, ...],
        at: float,
        size: int | None,
    ) -> None:
        by_token = self._registry.by_token
        legs = []
        for i, leg in enumerate(basket.legs):
            market = by_token.get(leg.asset_id)
            legs.append(
                ArbitrageLeg(
                    leg.asset_id,
                    market.question if market else "",
                    market.outcome_of(leg.asset_id) if market else "?",
                    leg.side.value,
                    price_decimal(leg.price),
                    size_decimal(leg.size if size is None else size),
                    orders[i] if orders else None,
                )
            )
        rows = self.arbitrage
        rows[basket_id] = ArbitrageRow(
            at,
            basket_id,
            basket.strategy,
            basket.kind,
            basket.event_id,
            tuple(legs),
            price_decimal(basket.cost),
            price_decimal(basket.payout),
            round(basket.edge_bps, 2),
            decision.text,
            bool(orders),
            None,
        )
        while len(rows) > RECENT_ARBITRAGE:
            del rows[next(iter(rows))]
        self.arbitrage_version += 1

    # -- one-leg-fill protection ----------------------------------------------------------
    def check(self, at: float) -> None:
        """Each housekeeping tick: cancel orders past their bound, then repair legs that
        filled unevenly, until the basket is balanced or the rounds run out."""
        tracker = self._oms.tracker
        for run in list(self.runs.values()):
            open_orders = [oid for oid in run.leg_of if tracker.get(oid) is not None]
            if open_orders:
                if at >= run.deadline and not run.cancelled:
                    run.cancelled = True
                    for oid in open_orders:
                        self._oms.cancel(oid)
                continue
            if max(run.filled) == min(run.filled):
                self._resolve(run, at, "")
            elif run.repairs >= MAX_REPAIRS:
                self._resolve(run, at, f"left unbalanced: {self._legs_text(run)}")
            elif at >= run.not_before:
                self._repair(run, at)
                if not any(tracker.get(oid) is not None for oid in run.leg_of) and max(
                    run.filled
                ) == min(run.filled):
                    self._resolve(run, at, "")  # a gateway that answered at once

    def _resolve(self, run: BasketRun, at: float, tail: str) -> None:
        del self.runs[run.basket_id]
        for oid in run.leg_of:
            self._run_of_order.pop(oid, None)
        key = (run.basket.strategy, run.basket.event_id)
        self._busy[key] = at + self._config.strategy.entry_cooldown_s
        if run.actions:
            outcome = "; ".join(run.actions + ([tail] if tail else []))
        elif tail:
            outcome = tail
        else:
            outcome = "complete" if max(run.filled) else "none filled"
        if tail:
            log.warning("basket %s: %s", run.basket_id, outcome)
        self.counts[f"basket_{outcome.split(':')[0].split(';')[0].replace(' ', '_')}"] += 1
        self._emit(BasketResolved(at, run.basket_id, outcome))
        row = self.arbitrage.get(run.basket_id)
        if row is not None:
            self.arbitrage[run.basket_id] = replace(row, outcome=outcome)
            self.arbitrage_version += 1

    def _legs_text(self, run: BasketRun) -> str:
        return ", ".join(f"leg {i + 1} {format_size(n)}" for i, n in enumerate(run.filled))

    def _repair(self, run: BasketRun, at: float) -> None:
        run.repairs += 1
        run.not_before = at + REPAIR_PAUSE_S
        run.deadline = at + self._config.execution.basket_leg_timeout_s
        run.cancelled = False
        if run.buying:
            action = self._complete(run, at) or self._unwind(run, at)
        else:
            action = self._sell_rest(run, at)
        run.actions.append(action)

    def _complete(self, run: BasketRun, at: float) -> str:
        """Buy every short leg's missing shares over the book's depth, if the basket still
        pays more than it costs (filled legs at their limit price, the rest at what the
        book asks for them, fees included); '' when it does not."""
        books = self._books
        top = max(run.filled)
        cost = 0
        plan: list[tuple[int, int, int, MarketInfo, OrderBook]] = []  # leg, shares, limit
        for i, (leg, got) in enumerate(zip(run.basket.legs, run.filled, strict=True)):
            market = self._registry.market_of(leg.asset_id)
            if market is None:
                return ""
            if got >= top:
                cost += leg.price + fee_per_share(market.fees, leg.price)
                continue
            book = books.get(leg.asset_id)
            missing = top - got
            if book is None or book.needs_snapshot or missing < market.min_order_size:
                return ""
            match = match_taker(book, Side.BUY, ONE - book.tick, missing, market.fees)
            if match.filled < missing or not match.fills:
                return ""  # the book cannot complete it at any price
            cost += -(-(match.notional + match.fee) // missing)  # per share, rounded up
            plan.append((i, missing, match.fills[-1][0], market, book))
        if not plan or cost >= run.basket.payout:
            return ""
        done = []
        for i, shares, limit, market, book in plan:
            leg = run.basket.legs[i]
            order = OrderRequest(
                order_id=self._oms.next_order_id(),
                asset_id=leg.asset_id,
                market=market.condition_id,
                side=Side.BUY,
                price=limit,
                size=shares,
                order_type=OrderType.FAK,
                strategy=run.basket.strategy,
                reason=basket_order_reason(run.basket_id, "complete the missing leg"),
                created_at=at,
            )
            self._watch(run, order.order_id, i)
            self._oms.submit(order, market, decision_mid=book.mid_price(), levels=BASKET_LEG_EXITS)
            done.append(f"{format_size(shares)} of leg {i + 1} at {format_price(limit)}")
        return "completed: bought " + ", ".join(done)

    def _unwind(self, run: BasketRun, at: float) -> str:
        """Sell what the other legs cannot match back into the bid."""
        low = min(run.filled)
        return "unwound: " + self._sell_legs(
            run, at, [n - low for n in run.filled], "unwind the lone leg", False
        )

    def _sell_rest(self, run: BasketRun, at: float) -> str:
        """A selling basket whose legs sold unevenly: sell the rest of the lagging legs."""
        top = max(run.filled)
        return "sold the rest: " + self._sell_legs(
            run, at, [top - n for n in run.filled], run.basket.reason, True
        )

    def _sell_legs(
        self, run: BasketRun, at: float, extra: list[int], why: str, exiting: bool
    ) -> str:
        books = self._books
        owner = run.basket.strategy
        cfg = self._config
        ticks = (
            cfg.execution.flatten_max_slippage_ticks if exiting else cfg.strategy.max_slippage_ticks
        )
        sold, left = [], []
        for i, (leg, want) in enumerate(zip(run.basket.legs, extra, strict=True)):
            if want <= 0:
                continue
            held = self._account.lot_sellable(leg.asset_id, owner)
            want = min(want, held)
            market = self._registry.market_of(leg.asset_id)
            book = books.get(leg.asset_id)
            if market is None or book is None or book.best_bid is None:
                left.append(f"{format_size(max(0, want))} of leg {i + 1} (no bid)")
                continue
            if want < market.min_order_size:
                left.append(f"{format_size(max(0, want))} of leg {i + 1} (below minimum size)")
                continue
            price = max(book.best_bid - ticks * book.tick, book.tick)
            reason = why if exiting else basket_order_reason(run.basket_id, why)
            order_id = self._oms.next_order_id()
            self._watch(run, order_id, i)  # before it leaves: it may fill at once
            self._oms.sell(
                market,
                leg.asset_id,
                price,
                want,
                owner,
                reason,
                book,
                at,
                ExitReason.BASKET,
                order_id,
            )
            sold.append(f"{format_size(want)} of leg {i + 1} at {format_price(price)} or better")
        parts = []
        if sold:
            parts.append("sold " + ", ".join(sold))
        if left:
            parts.append("left " + ", ".join(left))
        return "; ".join(parts) or "nothing sellable"

    def _watch(self, run: BasketRun, order_id: str, leg: int) -> None:
        run.leg_of[order_id] = leg
        self._run_of_order[order_id] = run.basket_id

"""A seeded order-flow model that keeps the emulator's books moving.

Per market and per step it draws a Poisson number of events: limit orders joining or
improving the touch, cancels, taker trades biased toward a drifting fair value, and rare
news-driven jumps of the fair value that come with a matching headline. The model works
in YES coordinates; the NO book follows as a mirror. The same seed and step sizes give
the same sequence of messages, whatever the wall clock does; every timestamp is read from
the exchange's clock, so on a ``SimClock`` the messages are byte-identical too.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

from engine.fixed import ONE, PRICE_SCALE, SHARE_STEP, format_price
from engine.market.markets import MarketInfo
from engine.orders import Side
from polyterm.emulator.mispricing import Mispricings
from polyterm.emulator.seed import BookShape
from polyterm.emulator.state import EmuMarket, Event, Exchange

_FINE_TICK = 10  # 0.001: the venue refines the tick near the extremes
_COARSE_TICK = 100


def _poisson(rng: random.Random, lam: float) -> int:
    threshold = math.exp(-lam)
    k, p = 0, rng.random()
    while p > threshold:
        k += 1
        p *= rng.random()
    return k


def _shares(rng: random.Random, mu: float, sigma: float) -> int:
    """A lognormal size in shares, on the 0.01-share grid, at least 1 share."""
    hundredths = max(100, int(rng.lognormvariate(mu, sigma) * 100))
    return hundredths * SHARE_STEP


class FlowModel:
    def __init__(
        self,
        exchange: Exchange,
        seed: int,
        events_per_second: float = 12.0,
        news_per_hour: float = 30.0,
        mispricings_per_hour: float = 0.0,
        *,
        market_makers: bool = True,
    ) -> None:
        self.exchange = exchange
        self.seed = seed
        self.events_per_second = events_per_second
        self.news_rate = news_per_hour / 3600.0
        self.rngs = [random.Random(f"flow:{seed}:{i}") for i in range(len(exchange.markets))]
        self.steps = 0
        self.time = 0.0  # model seconds since start: schedules run on it, not the wall
        self.groups = [
            EventGroup(event_id, members, seed)
            for event_id, (_, _, members) in exchange.events.items()
        ]
        self.grouped = {id(m) for g in self.groups for m in g.markets}
        self.mispricings = Mispricings(exchange, seed, mispricings_per_hour)
        self.market_makers = market_makers
        self.quotes = [Quoting(random.Random(f"quoting:{seed}:{i}")) for i in range(len(self.rngs))]

    def jump(self, market: EmuMarket, move: float) -> None:
        """Move `market`'s YES fair value by `move` (an injected news jump); in a
        neg-risk event the other outcomes give way so the event still sums to 1."""
        for group in self.groups:
            if market in group.markets:
                group.set_fair(group.markets.index(market), market.fair + move)
                return
        market.fair = min(0.97, max(0.03, market.fair + move))

    def add_market(self, market: EmuMarket) -> None:
        """Give a market listed after start-up its own seeded stream."""
        index = len(self.rngs)
        self.rngs.append(random.Random(f"flow:{self.seed}:{index}"))
        self.quotes.append(Quoting(random.Random(f"quoting:{self.seed}:{index}")))

    # -- set-up -------------------------------------------------------------------
    @staticmethod
    def seed_book(market: EmuMarket, shape: BookShape, fair: float) -> None:
        """Lay a recorded (or synthetic) book shape around `fair` on the market's tick."""
        tick = market.yes.tick
        best_bid = max(tick, int(fair * PRICE_SCALE) // tick * tick)
        best_ask = min(ONE - tick, best_bid + shape.spread_ticks * tick)
        if best_ask <= best_bid:
            best_bid = best_ask - tick
        sink: list[Event] = []
        for offset, size in shape.bids:
            price = best_bid - offset * tick
            if price >= tick:
                market.set_level(market.yes, True, price, size, sink)
        for offset, size in shape.asks:
            price = best_ask + offset * tick
            if price <= ONE - tick:
                market.set_level(market.yes, False, price, size, sink)

    # -- the step -----------------------------------------------------------------
    def step(self, dt: float) -> None:
        """Advance every market by `dt` seconds of model time."""
        self.steps += 1
        self.time += dt
        for group in self.groups:
            group.drift(self, dt)
        for market, rng, quoting in zip(self.exchange.markets, self.rngs, self.quotes, strict=True):
            if market.resolved:
                continue
            if id(market) not in self.grouped:
                self._drift(market, rng, dt)
            for _ in range(_poisson(rng, self.events_per_second * dt)):
                roll = rng.random()
                if roll < 0.45:
                    self._add(market, rng)
                elif roll < 0.78:
                    self._cancel(market, rng)
                else:
                    self._trade(market, rng)
            self._refill(market, rng)
            if self.market_makers:
                quoting.maintain(self, market)
            self._maybe_retick(market)
        self.mispricings.step(self.time)

    def _drift(self, market: EmuMarket, rng: random.Random, dt: float) -> None:
        market.fair += rng.gauss(0.0, 0.004 * math.sqrt(dt))
        if rng.random() < self.news_rate * dt:
            direction = 1 if rng.random() < 0.5 else -1
            market.fair += direction * rng.uniform(0.04, 0.12)
            self._headline(market.info, direction, rng)
        market.fair = min(0.97, max(0.03, market.fair))

    def _add(self, market: EmuMarket, rng: random.Random) -> None:
        yes = market.yes
        tick = yes.tick
        is_bid = rng.random() < 0.5
        best_bid, best_ask = yes.best_bid, yes.best_ask
        if best_bid is None or best_ask is None:
            return
        spread = best_ask - best_bid
        if spread > tick and rng.random() < 0.25:
            price = best_bid + tick if is_bid else best_ask - tick
        else:
            distance = min(int(rng.expovariate(0.6)), 15) * tick
            price = best_bid - distance if is_bid else best_ask + distance
        if not tick <= price <= ONE - tick:
            return
        if (is_bid and price >= best_ask) or (not is_bid and price <= best_bid):
            return
        sizes = yes.bid_sizes if is_bid else yes.ask_sizes
        changes: list[Event] = []
        market.set_level(yes, is_bid, price, sizes.get(price, 0) + _shares(rng, 4.2, 1.0), changes)
        self.exchange._price_change(market, changes)

    def _cancel(self, market: EmuMarket, rng: random.Random) -> None:
        yes = market.yes
        is_bid = rng.random() < 0.5
        prices = yes.bid_prices if is_bid else yes.ask_prices
        if len(prices) <= 3:
            return
        index = min(int(rng.expovariate(0.35)), len(prices) - 1)
        price = prices[-1 - index] if is_bid else prices[index]
        sizes = yes.bid_sizes if is_bid else yes.ask_sizes
        user = market.user_size_at(is_bid, price)
        cancellable = sizes[price] - user
        if cancellable <= 0:
            return
        cut = cancellable if rng.random() < 0.4 else int(cancellable * rng.uniform(0.2, 0.9))
        cut = cut // SHARE_STEP * SHARE_STEP or cancellable
        changes: list[Event] = []
        market.set_level(yes, is_bid, price, sizes[price] - cut, changes)
        self.exchange._price_change(market, changes)
        if user:
            self.exchange.shrink_queues(market, is_bid, price)

    def _trade(self, market: EmuMarket, rng: random.Random) -> None:
        yes = market.yes
        mid = yes.mid()
        if mid is None:
            return
        pull = max(-0.45, min(0.45, (market.fair - mid) * 12))
        buy = rng.random() < 0.5 + pull
        left = _shares(rng, 3.6, 1.1)
        changes: list[Event] = []
        levels = 0
        while left > 0 and levels < 4:
            price = yes.best_ask if buy else yes.best_bid
            if price is None:
                break
            sizes = yes.ask_sizes if buy else yes.bid_sizes
            take = min(left, sizes[price])
            market.set_level(yes, not buy, price, sizes[price] - take, changes)
            self.exchange.fill_resting(market, not buy, price, take)
            self.exchange._last_trade(market, yes, price, take, Side.BUY if buy else Side.SELL)
            left -= take
            levels += 1
        if changes:
            self.exchange._price_change(market, changes)

    def _refill(self, market: EmuMarket, rng: random.Random) -> None:
        """Keep at least a few levels a side so the book never empties."""
        yes = market.yes
        tick = yes.tick
        for is_bid in (True, False):
            prices = yes.bid_prices if is_bid else yes.ask_prices
            if len(prices) >= 5:
                continue
            other = yes.best_ask if is_bid else yes.best_bid
            anchor = int(market.fair * PRICE_SCALE) // tick * tick
            if is_bid:
                start = prices[0] - tick if prices else min(anchor, (other or ONE) - tick)
            else:
                start = prices[-1] + tick if prices else max(anchor + tick, (other or 0) + tick)
            changes: list[Event] = []
            price = start
            for _ in range(5 - len(prices)):
                if not tick <= price <= ONE - tick:
                    break
                market.set_level(yes, is_bid, price, _shares(rng, 4.5, 0.8), changes)
                price += -tick if is_bid else tick
            if changes:
                self.exchange._price_change(market, changes)

    def _maybe_retick(self, market: EmuMarket) -> None:
        yes = market.yes
        bb, ba = yes.best_bid, yes.best_ask
        if bb is None or ba is None:
            return
        if yes.tick == _COARSE_TICK and (bb >= 9600 or ba <= 400):
            self._set_tick(market, _FINE_TICK)
        elif yes.tick == _FINE_TICK and bb >= 1000 and ba <= 9000:
            changes: list[Event] = []
            for is_bid, prices in ((True, yes.bid_prices), (False, yes.ask_prices)):
                for price in [p for p in prices if p % _COARSE_TICK]:
                    if not market.user_size_at(is_bid, price):
                        market.set_level(yes, is_bid, price, 0, changes)
            if changes:
                self.exchange._price_change(market, changes)
            if not any(p % _COARSE_TICK for p in yes.bid_prices + yes.ask_prices):
                self._set_tick(market, _COARSE_TICK)

    def _set_tick(self, market: EmuMarket, tick: int) -> None:
        old = market.yes.tick
        for book in (market.yes, market.no):
            book.set_tick(tick)
            self.exchange.market_outbox.append(
                {
                    "event_type": "tick_size_change",
                    "asset_id": book.asset_id,
                    "market": market.info.condition_id,
                    "old_tick_size": format_price(old),
                    "new_tick_size": format_price(tick),
                    "timestamp": str(self.exchange.now_ms()),
                }
            )

    def _headline(self, info: MarketInfo, direction: int, rng: random.Random) -> None:
        subject = info.question.rstrip("?")
        if direction > 0:
            title = (
                rng.choice(("Odds surge", "Momentum builds", "Backers pile in")) + f": {subject}"
            )
        else:
            title = rng.choice(("Odds slump", "Doubts grow", "Sellers take over")) + f": {subject}"
        n = self.exchange.next_headline_number()
        published = datetime.fromtimestamp(self.exchange.clock.time(), UTC)
        published_text = published.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.exchange.headlines.append(
            {
                "source": {"id": "polyterm-wire", "name": "Polyterm Wire (emulated)"},
                "author": "exchange emulator",
                "title": title,
                "description": f"Emulated news jump ({direction:+d}) for {info.slug}",
                "url": f"https://news.invalid/polyterm/{n}",
                "urlToImage": None,
                "publishedAt": published_text,
                "content": title,
                "polyterm": {"market": info.condition_id, "direction": direction},
            }
        )


class EventGroup:
    """The outcome markets of one neg-risk event: their YES fair values sum to 1.

    Fair values are ``floor + (1 - n * floor) * softmax(logits)``: mutually exclusive
    outcomes whose probabilities always sum to exactly 1 and never reach 0 or 1. The
    logits take a seeded random walk; a news jump moves one outcome (and so, through the
    normalisation, all the others the other way) and comes with a headline.
    """

    FLOOR = 0.02

    def __init__(self, event_id: str, markets: list[EmuMarket], seed: int) -> None:
        self.event_id = event_id
        self.markets = markets
        self.rng = random.Random(f"event:{seed}:{event_id}")
        # Invert the floor mapping so the seeded fair values are kept as they are.
        n = len(markets)
        total = sum(m.fair for m in markets) or 1.0
        self.logits = [
            math.log(max((m.fair / total - self.FLOOR) / (1 - n * self.FLOOR), 1e-3))
            for m in markets
        ]
        self.apply()

    def fairs(self) -> list[float]:
        top = max(self.logits)
        weights = [math.exp(x - top) for x in self.logits]
        total = sum(weights)
        n = len(weights)
        return [self.FLOOR + (1 - n * self.FLOOR) * w / total for w in weights]

    def set_fair(self, k: int, fair: float) -> None:
        """Put outcome `k` at `fair`, scaling the others to keep the sum at 1."""
        n = len(self.markets)
        fairs = self.fairs()
        top = 1 - (n - 1) * self.FLOOR - 0.005
        target = min(top, max(self.FLOOR + 0.005, fair))
        rest = sum(f for i, f in enumerate(fairs) if i != k)
        scale = (1 - target) / rest if rest else 0.0
        new = [target if i == k else f * scale for i, f in enumerate(fairs)]
        self.logits = [math.log(max((f - self.FLOOR) / (1 - n * self.FLOOR), 1e-6)) for f in new]
        self.apply()

    def apply(self) -> None:
        for market, fair in zip(self.markets, self.fairs(), strict=True):
            market.fair = fair

    def drift(self, flow: FlowModel, dt: float) -> None:
        rng = self.rng
        self.logits = [
            min(4.0, max(-4.0, x + rng.gauss(0.0, 0.02 * math.sqrt(dt)))) for x in self.logits
        ]
        if rng.random() < flow.news_rate * dt:
            k = rng.randrange(len(self.markets))
            direction = 1 if rng.random() < 0.5 else -1
            self.logits[k] = min(4.0, max(-4.0, self.logits[k] + direction * rng.uniform(0.3, 0.6)))
            flow._headline(self.markets[k].info, direction, rng)
        self.apply()


class Quoting:
    """The market makers that keep a book a book: they narrow a spread wider than the
    market's usual one (improving on the side the fair value leans to) and restore depth
    near the touch when takers and cancels have thinned it.

    Recorded Polymarket books show 0.3-4 cent spreads and hundreds to millions of
    shares within 5 cents of the mid; without this the random flow let spreads walk to
    85 cents within minutes (``benchmarks/flow_realism.py`` measures it).
    """

    IMPROVE_P = 0.6  # per step, while the spread is too wide
    REFILL_P = 0.5  # per step and side, while depth near the touch is short
    WINDOW_TICKS = 5  # "near the touch", in ticks from the best price

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.target_ticks = rng.choice((1, 1, 1, 2, 2, 3))  # this market's usual spread
        self.depth_floor = int(rng.uniform(300, 1200)) * SHARE_STEP * 100  # shares a side

    def maintain(self, flow: FlowModel, market: EmuMarket) -> None:
        if market.detached_no_ask is not None:
            return  # a YES/NO mispricing is open: leave its books to the mispricing model
        yes = market.yes
        tick = yes.tick
        bb, ba = yes.best_bid, yes.best_ask
        if bb is None or ba is None:
            return
        rng = self.rng
        changes: list[Event] = []
        spread_ticks = (ba - bb) // tick
        if spread_ticks > self.target_ticks and rng.random() < self.IMPROVE_P:
            fair = int(market.fair * PRICE_SCALE)
            lean_bid = fair > (bb + ba) // 2
            is_bid = lean_bid if rng.random() < 0.75 else not lean_bid
            inside = min(spread_ticks - 1, rng.randint(1, 3))
            price = bb + inside * tick if is_bid else ba - inside * tick
            if tick <= price <= ONE - tick:
                sizes = yes.bid_sizes if is_bid else yes.ask_sizes
                size = sizes.get(price, 0) + _shares(rng, 4.5, 0.8)
                market.set_level(yes, is_bid, price, size, changes)
        for is_bid in (True, False):
            best = yes.best_bid if is_bid else yes.best_ask
            if best is None or rng.random() >= self.REFILL_P:
                continue
            reach = self.WINDOW_TICKS * tick
            if is_bid:
                near = sum(s for p, s in yes.bid_sizes.items() if p >= best - reach)
            else:
                near = sum(s for p, s in yes.ask_sizes.items() if p <= best + reach)
            if near >= self.depth_floor:
                continue
            offset = min(int(rng.expovariate(0.7)), self.WINDOW_TICKS) * tick
            price = best - offset if is_bid else best + offset
            if tick <= price <= ONE - tick:
                sizes = yes.bid_sizes if is_bid else yes.ask_sizes
                market.set_level(
                    yes, is_bid, price, sizes.get(price, 0) + _shares(rng, 5.0, 0.7), changes
                )
        if changes:
            flow.exchange._price_change(market, changes)

"""Seeded, short-lived mispricings for the arbitrage strategies to find.

Three kinds, opened on a seeded schedule (``mispricings_per_hour``) or on demand through
``POST /_admin/mispricings``, and closed by the flow a few seconds later:

- ``yes_no``: the NO book shows a stale ask ``q`` with ``YES best ask + q`` below
  ``1 - taker fees - margin``. The venue's books are mirrors (a NO ask at q *is* a YES bid
  at 1 - q), so this is modelled as the NO book detaching from the mirror: its bids that
  would cross q are pulled and the ask is added, NO only. Closing re-mirrors the NO book.
- ``basket_yes``: in a neg-risk event, every outcome's YES ask drops so the asks sum below
  ``1 - fees - margin`` (bids under them are pulled first, so no book crosses). Closing:
  a flow taker lifts what is left of the cheap asks.
- ``basket_no``: the NO-side equivalent: every YES bid rises so the bids sum above
  ``1 + fees + margin`` (the NO asks, 1 - bid, then sum below ``n - 1 - fees``). Closing:
  a flow taker hits what is left of the rich bids.

All draws come from one seeded RNG and the flow's model time, so the same seed gives the
same mispricings at the same simulated moments.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from engine.fixed import ONE, PRICE_SCALE, SHARE_STEP, format_price
from engine.orders import Side
from polyterm.emulator.state import EmuMarket, Event, Exchange

KINDS = ("yes_no", "basket_yes", "basket_no")


def fee_per_share(market: EmuMarket, price: int) -> float:
    """The taker fee on one share at `price`, as a fraction of 1 (rate * (p(1-p))^e)."""
    fees = market.fees
    if not fees.rate:
        return 0.0
    p = price / PRICE_SCALE
    return float(fees.rate) * float((p * (1 - p)) ** float(fees.exponent))


@dataclass(slots=True)
class Mispricing:
    kind: str
    opened_at: float  # model seconds
    closes_at: float
    margin: float
    # (market, YES price, size added, YES side is bid) for the basket kinds; the NO
    # price and size for yes_no.
    legs: list[tuple[EmuMarket, int, int, bool]] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "opened_at": round(self.opened_at, 3),
            "closes_at": round(self.closes_at, 3),
            "margin": round(self.margin, 4),
            "markets": [m.info.condition_id for m, *_ in self.legs],
            "prices": [format_price(p) for _, p, _, _ in self.legs],
        }


class Mispricings:
    """Opens and closes mispricings; owned by the flow model, stepped with it."""

    def __init__(self, exchange: Exchange, seed: int, per_hour: float) -> None:
        self.exchange = exchange
        self.rng = random.Random(f"mispricing:{seed}")
        self.per_hour = per_hour
        self.active: list[Mispricing] = []
        self.opened: Counter[str] = Counter()
        self.closed = 0
        self.log: list[dict[str, Any]] = []
        self._turn = 0
        self._next_at = self._gap(first=True)

    def _gap(self, first: bool = False) -> float:
        if self.per_hour <= 0:
            return float("inf")
        mean = 3600.0 / self.per_hour
        # Jittered but never bunched: a 60 s run at the default rate always sees several.
        return mean * (self.rng.uniform(0.2, 0.6) if first else self.rng.uniform(0.6, 1.4))

    def set_rate(self, per_hour: float, now: float) -> None:
        self.per_hour = per_hour
        self._next_at = now + self._gap(first=True)

    # -- the step -------------------------------------------------------------------
    def step(self, now: float) -> None:
        for mp in [m for m in self.active if m.closes_at <= now]:
            self.close(mp)
        if now >= self._next_at:
            self._next_at = now + self._gap()
            kinds = [k for k in KINDS if k == "yes_no" or self._events()]
            for _ in range(len(kinds)):
                kind = kinds[self._turn % len(kinds)]
                self._turn += 1
                if self.open(kind, now) is not None:
                    break

    def _events(self) -> list[list[EmuMarket]]:
        return [
            ms
            for _, _, ms in self.exchange.events.values()
            if not any(m.resolved or m.detached_no_ask is not None for m in ms)
            and not any(self._busy(m) for m in ms)
        ]

    def _busy(self, market: EmuMarket) -> bool:
        return market.resolved or any(m is market for mp in self.active for m, *_ in mp.legs)

    def open(self, kind: str, now: float, target: str = "") -> Mispricing | None:
        """Open one mispricing of `kind` (on `target`, a condition id or event id, if given)."""
        rng = self.rng
        duration = rng.uniform(2.0, 5.0)
        margin = rng.uniform(0.01, 0.03)
        if kind == "yes_no":
            candidates = [
                m
                for m in self.exchange.markets
                if not self._busy(m) and (not target or m.info.condition_id == target)
            ]
            if not candidates:
                return None
            mp = self._open_yes_no(rng.choice(candidates), now, duration, margin)
        elif kind in ("basket_yes", "basket_no"):
            events = self._events()
            if target:
                events = [ms for ms in events if ms[0].info.event_id == target]
            if not events:
                return None
            mp = self._open_basket(kind, rng.choice(events), now, duration, margin)
        else:
            raise ValueError(f"unknown mispricing kind {kind!r}: use {', '.join(KINDS)}")
        if mp is not None:
            self.active.append(mp)
            self.opened[kind] += 1
            self.log.append(mp.describe())
            del self.log[:-200]
        return mp

    def _open_yes_no(
        self, market: EmuMarket, now: float, duration: float, margin: float
    ) -> Mispricing | None:
        yes = market.yes
        ask = yes.best_ask
        if ask is None or market.resting:
            return None
        tick = yes.tick
        # q below 1 - ask - fees - margin, on the tick; the fee is taken at both legs.
        room = 1 - ask / PRICE_SCALE - fee_per_share(market, ask) - margin
        q = int(room * PRICE_SCALE) // tick * tick
        q -= tick if fee_per_share(market, ONE - q) else 0  # the NO leg's fee
        if q < tick:
            return None
        size = (self.rng.randint(50, 250) * 100) * SHARE_STEP
        changes: list[Event] = []
        no = market.no
        for price in [p for p in no.bid_prices if p >= q]:
            market.set_no_only(True, price, 0, changes)
        market.detached_no_ask = q
        market.set_no_only(False, q, no.ask_sizes.get(q, 0) + size, changes)
        self.exchange._price_change(market, changes)
        return Mispricing("yes_no", now, now + duration, margin, [(market, q, size, False)])

    def _open_basket(
        self, kind: str, markets: list[EmuMarket], now: float, duration: float, margin: float
    ) -> Mispricing | None:
        if any(m.resting for m in markets):
            return None  # never move a level a user order rests at
        buy_side = kind == "basket_yes"  # asks drop (buy every YES) or bids rise
        fairs = [m.fair for m in markets]
        total = sum(fairs)
        fees = sum(
            fee_per_share(m, int(f / total * PRICE_SCALE))
            for m, f in zip(markets, fairs, strict=True)
        )
        ticks = sum(m.yes.tick for m in markets) / PRICE_SCALE
        gap = fees + margin + ticks
        legs: list[tuple[EmuMarket, int, int, bool]] = []
        for market, fair in zip(markets, fairs, strict=True):
            yes, tick = market.yes, market.yes.tick
            share = fair / total
            if buy_side:
                price = max(tick, int(share * (1 - gap) * PRICE_SCALE) // tick * tick)
            else:
                price = min(ONE - tick, -(-int(share * (1 + gap) * PRICE_SCALE) // tick) * tick)
            legs.append((market, price, (self.rng.randint(50, 250) * 100) * SHARE_STEP, buy_side))
        sum_prices = sum(p for _, p, _, _ in legs) / PRICE_SCALE
        if (buy_side and sum_prices >= 1 - fees - margin) or (
            not buy_side and sum_prices <= 1 + fees + margin
        ):
            return None  # the tick grid cannot express it (tiny outcomes); try later
        for market, price, size, _ in legs:
            yes = market.yes
            changes: list[Event] = []
            if buy_side:
                for p in [p for p in yes.bid_prices if p >= price]:
                    market.set_level(yes, True, p, 0, changes)
                market.set_level(yes, False, price, yes.ask_sizes.get(price, 0) + size, changes)
            else:
                for p in [p for p in yes.ask_prices if p <= price]:
                    market.set_level(yes, False, p, 0, changes)
                market.set_level(yes, True, price, yes.bid_sizes.get(price, 0) + size, changes)
            self.exchange._price_change(market, changes)
        return Mispricing(kind, now, now + duration, margin, legs)

    # -- closing --------------------------------------------------------------------
    def close(self, mp: Mispricing) -> None:
        """The flow closes it: re-mirror the NO book, or take what is left of the legs."""
        self.active.remove(mp)
        self.closed += 1
        ex = self.exchange
        for market, price, size, yes_is_bid in mp.legs:
            changes: list[Event] = []
            if mp.kind == "yes_no":
                market.resync_no(changes)
                if changes:
                    ex._price_change(market, changes)
                continue
            yes = market.yes
            sizes = yes.bid_sizes if yes_is_bid else yes.ask_sizes
            take = min(size, sizes.get(price, 0))
            if take <= 0:
                continue
            market.set_level(yes, yes_is_bid, price, sizes[price] - take, changes)
            ex.fill_resting(market, yes_is_bid, price, take)
            ex._last_trade(market, yes, price, take, Side.SELL if yes_is_bid else Side.BUY)
            ex._price_change(market, changes)

    def describe(self) -> dict[str, Any]:
        return {
            "per_hour": self.per_hour,
            "opened": {k: self.opened.get(k, 0) for k in KINDS},
            "closed": self.closed,
            "active": [mp.describe() for mp in self.active],
        }

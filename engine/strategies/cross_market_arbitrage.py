"""Cross-market arbitrage over neg-risk events: an event's outcomes are mutually
exclusive and exactly one resolves YES, so buying every outcome's YES pays exactly 1, and
buying every outcome's NO pays exactly N - 1 (N outcomes).

When the YES asks of every outcome plus their taker fees sum below 1 - ``margin_bps``
(or, with ``include_no_side``, the NO asks plus fees below N - 1 less the margin), a
``neg_risk`` Basket of all legs is returned, sized by the thinnest touch (at most
``max_shares``). Each side is priced on the ticks of its own tokens (a YES book's change
can only change the YES basket), which halves the work. It is returned whenever
found, whatever the weight: the core records detections at weight 0 (the default, as in
the seed) and executes only above it, all legs or none. The same basket at the same
prices is not sent again within ``repeat_after_s``.

Any outcome whose book is missing or not tradeable means no basket: an all-or-none
basket priced off a book we do not trust is not an arbitrage.

Incremental: it keeps each basket side's sum (every outcome's tradeable ask plus its taker
fee) current from the asks that moved, and a pass asks it only about changed books on a
side whose sum is below the payout less the margin with every leg tradeable.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from engine.config.strategy import CrossMarketArbitrageParams
from engine.fixed import PRICE_SCALE, SHARE_STEP
from engine.market.event_groups import EventGroup
from engine.market.fees import FeeSchedule
from engine.market.markets import MarketInfo
from engine.orders import Side
from engine.strategies.base import Basket, Inputs, Leg, MarketContext
from engine.strategies.edge import fee_per_share, tradeable
from engine.strategies.micro_arbitrage import shares


def payout_of(outcomes: int, side_index: int) -> int:
    """What buying one token of every outcome pays: exactly 1 for the YESes (one of them
    wins), exactly N - 1 for the NOs (all but one win)."""
    return PRICE_SCALE * (outcomes - 1 if side_index else 1)


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity: kept in a dict
class _Side:
    """One side of a basket event: its legs (token, fees) and the gap it must leave."""

    key: tuple[str, int]  # (event id, 0 for YES / 1 for NO), as the sent baskets are keyed
    legs: tuple[tuple[str, FeeSchedule], ...]
    limit: float  # the payout less the margin: the sum must stay below it


class CrossMarketArbitrage:
    name = "cross_market_arbitrage"
    lots_matter = False  # its baskets are held to resolution: no exit of its own

    def __init__(self, params: CrossMarketArbitrageParams, weight: float = 0.0) -> None:
        self.config = params
        self.weight = weight
        self._max_size = shares(params.max_shares)
        # (event id, side) -> (legs' tokens and prices, when sent)
        self._sent: dict[tuple[str, int], tuple[tuple[tuple[str, int], ...], float]] = {}
        # Incremental state: the basket side each token is a leg of, and the sides whose
        # sum leaves a gap now (the only ones whose changed books can give a basket).
        self._side_of: dict[str, _Side] = {}
        self._gaps: dict[_Side, None] = {}

    # -- incremental ------------------------------------------------------------------------
    def on_markets(self, markets: Sequence[MarketInfo], events: Mapping[str, EventGroup]) -> None:
        side_of: dict[str, _Side] = {}
        sides = (0, 1) if self.config.include_no_side else (0,)
        for event in events.values():
            if not event.is_basket or any(len(m.outcomes) != 2 for m in event.markets):
                continue
            n = len(event.markets)
            for index in sides:
                payout = payout_of(n, index)
                # _price's own limit, computed the same way (a float margin).
                limit = payout - payout * self.config.margin_bps / 10_000
                side = _Side(
                    (event.event_id, index),
                    tuple((m.outcomes[index].token_id, m.fees) for m in event.markets),
                    limit,
                )
                for token, _ in side.legs:
                    side_of[token] = side
        self._side_of = side_of
        self._gaps = {}

    def on_quotes(self, moved: Sequence[str], asks: Mapping[str, int]) -> None:
        side_of = self._side_of
        touched = {side: None for asset in moved if (side := side_of.get(asset)) is not None}
        gaps = self._gaps
        for side in touched:
            cost = 0
            for token, fees in side.legs:
                ask = asks.get(token)
                if ask is None:
                    break
                cost += ask + fee_per_share(fees, ask)
            else:
                if cost < side.limit:
                    gaps[side] = None
                    continue
            gaps.pop(side, None)

    def select(self, pending: Mapping[str, None], now: float, inputs: Inputs) -> Collection[str]:
        """Changed books that are legs of a side with a gap, unless that side's basket
        went at these very prices within ``repeat_after_s`` (on_tick would hold it)."""
        gaps = self._gaps
        if not gaps:
            return ()
        asks = inputs.asks
        chosen: list[str] = []
        if len(pending) < len(gaps):
            # A live pass has a frame's one or two books: look each one's side up rather
            # than walk every side with a gap (a few hundred at 1,000 markets).
            side_of = self._side_of
            for token in pending:
                side = side_of.get(token)
                if side is not None and side in gaps and not self._held(side, now, asks):
                    chosen.append(token)
            return chosen
        for side in gaps:
            if not self._held(side, now, asks):
                chosen.extend(token for token, _ in side.legs if token in pending)
        return chosen

    def _held(self, side: _Side, now: float, asks: Mapping[str, int]) -> bool:
        """The side's basket went at these very asks within ``repeat_after_s``."""
        last = self._sent.get(side.key)
        return (
            last is not None
            and now - last[1] < self.config.repeat_after_s
            and last[0] == tuple((token, asks[token]) for token, _ in side.legs)
        )

    def on_tick(self, ctx: MarketContext) -> Basket | None:
        event = ctx.event
        if event is None or not event.is_basket or not tradeable(ctx.book):
            return None  # nothing is decided on the tick of a book we do not trust
        outcomes = ctx.market.outcomes
        if len(outcomes) != 2:
            return None
        # A token's change can only change the basket of its own side: price that one.
        side_index = 0 if outcomes[0].token_id == ctx.asset_id else 1
        if side_index and not self.config.include_no_side:
            return None
        basket = self._price(ctx, event, side_index)
        if basket is None:
            return None
        key = tuple((leg.asset_id, leg.price) for leg in basket.legs)
        sent_key = (event.event_id, side_index)
        last = self._sent.get(sent_key)
        if last is not None and last[0] == key and ctx.now - last[1] < self.config.repeat_after_s:
            return None
        self._sent[sent_key] = (key, ctx.now)
        return basket

    def _price(self, ctx: MarketContext, event: EventGroup, side_index: int) -> Basket | None:
        """The basket buying token `side_index` (0: YES, 1: NO) of every outcome."""
        legs: list[tuple[str, str, int]] = []  # token, market, ask
        floor = 0
        cost = 0
        size = self._max_size
        fees_total = 0
        margin = payout_of(len(event.markets), side_index) * self.config.margin_bps / 10_000
        for market in event.markets:
            outcomes = market.outcomes
            if len(outcomes) != 2:
                return None
            token = outcomes[side_index].token_id
            book = ctx.book if token == ctx.asset_id else ctx.book_of(token)
            top = book.top() if book is not None else None
            if book is None or top is None:
                return None
            ask = top[1]
            fee = fee_per_share(market.fees, ask)
            fees_total += fee
            cost += ask + fee
            if cost >= payout_of(len(event.markets), side_index) - margin:
                return None  # already no gap: the rest of the legs can only add cost
            size = min(size, book.best_ask_size())
            floor = max(floor, market.min_order_size, book.min_order_size)
            legs.append((token, market.condition_id, ask))
        n = len(legs)
        payout = payout_of(n, side_index)
        size = size // SHARE_STEP * SHARE_STEP
        if size <= 0 or size < floor:
            return None  # a touch too thin for a minimum order on every leg
        side_name = "NO" if side_index else "YES"
        return Basket(
            self.name,
            "neg_risk",
            event.event_id,
            tuple(Leg(token, cid, Side.BUY, ask, size) for token, cid, ask in legs),
            cost,
            payout,
            (payout - cost) * 10_000 / cost,
            f"{side_name} asks of {n} outcomes + fees cost {cost / PRICE_SCALE:.4f}"
            f" < payout {payout // PRICE_SCALE}",
            inputs={
                "outcomes": float(n),
                "cost": float(cost),
                "payout": float(payout),
                "fees": float(fees_total),
                "size": float(size),
            },
        )

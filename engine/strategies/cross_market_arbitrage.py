"""Cross-market arbitrage over neg-risk events: an event's outcomes are mutually
exclusive and exactly one resolves YES, so buying every outcome's YES pays exactly 1, and
buying every outcome's NO pays exactly N - 1 (N outcomes).

When the YES asks of every outcome plus their taker fees sum below 1 - ``margin_bps``
(or, with ``include_no_side``, the NO asks plus fees below N - 1 less the margin), a
``neg_risk`` Basket of all legs is returned, sized by the thinnest touch (at most
``max_shares``); when both sides qualify, the better edge wins. It is returned whenever
found, whatever the weight: the core records detections at weight 0 (the default, as in
the seed) and executes only above it, all legs or none. The same basket at the same
prices is not sent again within ``repeat_after_s``.

Any outcome whose book is missing or not tradeable means no basket: an all-or-none
basket priced off a book we do not trust is not an arbitrage.
"""

from __future__ import annotations

from engine.config.strategy import CrossMarketArbitrageParams
from engine.fixed import PRICE_SCALE, SHARE_STEP
from engine.market.event_groups import EventGroup
from engine.orders import Side
from engine.strategies.base import Basket, Leg, MarketContext
from engine.strategies.edge import fee_per_share, tradeable
from engine.strategies.micro_arbitrage import shares


class CrossMarketArbitrage:
    name = "cross_market_arbitrage"

    def __init__(self, params: CrossMarketArbitrageParams, weight: float = 0.0) -> None:
        self.config = params
        self.weight = weight
        self._max_size = shares(params.max_shares)
        # event id -> (legs' tokens and prices, when sent)
        self._sent: dict[str, tuple[tuple[tuple[str, int], ...], float]] = {}

    def on_tick(self, ctx: MarketContext) -> Basket | None:
        event = ctx.event
        if event is None or not event.is_basket or not tradeable(ctx.book):
            return None  # nothing is decided on the tick of a book we do not trust
        best: Basket | None = None
        for side_index in (0, 1) if self.config.include_no_side else (0,):
            basket = self._price(ctx, event, side_index)
            if basket is not None and (best is None or basket.edge_bps > best.edge_bps):
                best = basket
        if best is None:
            return None
        key = tuple((leg.asset_id, leg.price) for leg in best.legs)
        last = self._sent.get(event.event_id)
        if last is not None and last[0] == key and ctx.now - last[1] < self.config.repeat_after_s:
            return None
        self._sent[event.event_id] = (key, ctx.now)
        return best

    def _price(self, ctx: MarketContext, event: EventGroup, side_index: int) -> Basket | None:
        """The basket buying token `side_index` (0: YES, 1: NO) of every outcome."""
        legs: list[tuple[str, str, int]] = []  # token, market, ask
        floor = 0
        cost = 0
        size = self._max_size
        fees_total = 0
        for market in event.markets:
            tokens = market.token_ids
            if len(tokens) != 2:
                return None
            token = tokens[side_index]
            book = ctx.book if token == ctx.asset_id else ctx.book_of(token)
            ask = book.best_ask if book is not None and tradeable(book) else None
            if book is None or ask is None:
                return None
            fee = fee_per_share(market.fees, ask)
            fees_total += fee
            cost += ask + fee
            size = min(size, book.best_ask_size())
            floor = max(floor, market.min_order_size, book.min_order_size)
            legs.append((token, market.condition_id, ask))
        n = len(legs)
        payout = PRICE_SCALE * (n - 1 if side_index else 1)
        if payout - cost <= payout * self.config.margin_bps / 10_000:
            return None  # no gap, or fees and the margin eat it
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

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
"""

from __future__ import annotations

from engine.config.strategy import CrossMarketArbitrageParams
from engine.fixed import PRICE_SCALE, SHARE_STEP
from engine.market.event_groups import EventGroup
from engine.orders import Side
from engine.strategies.base import Basket, Leg, MarketContext
from engine.strategies.edge import fee_per_share, tradeable
from engine.strategies.micro_arbitrage import shares


def payout_of(outcomes: int, side_index: int) -> int:
    """What buying one token of every outcome pays: exactly 1 for the YESes (one of them
    wins), exactly N - 1 for the NOs (all but one win)."""
    return PRICE_SCALE * (outcomes - 1 if side_index else 1)


class CrossMarketArbitrage:
    name = "cross_market_arbitrage"

    def __init__(self, params: CrossMarketArbitrageParams, weight: float = 0.0) -> None:
        self.config = params
        self.weight = weight
        self._max_size = shares(params.max_shares)
        # (event id, side) -> (legs' tokens and prices, when sent)
        self._sent: dict[tuple[str, int], tuple[tuple[tuple[str, int], ...], float]] = {}

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
            ask = book.best_ask if book is not None and tradeable(book) else None
            if book is None or ask is None:
                return None
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

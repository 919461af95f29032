"""Micro-arbitrage: buy both tokens of a binary market when together they cost less than
the 1 they pay at resolution (exactly one of YES and NO pays 1).

Entry: YES ask + NO ask + both taker fees < 1 - ``margin_bps`` → a ``yes_no`` Basket
buying both at their asks, all or none, sized by the smaller size shown at the two
touches (at most ``max_shares``, at least each book's minimum order). The same
opportunity at the same prices is not sent again within ``repeat_after_s``.

Exit (reason ``micro_arbitrage_external_edge_cost``, the seed's name): once the external
edge, what the book still offers (1 - YES ask - NO ask), is at or below the taker cost of
the pair, the mispricing is closed and the pair is sold, but only when selling both at the
bids, fees paid, returns at least what the pair cost (otherwise holding to resolution
pays exactly 1 and selling would lose the arbitrage). The pair's cost is what this
strategy priced its basket at; after a restart it is unknown and the pair is held.
"""

from __future__ import annotations

from decimal import Decimal

from engine.config.strategy import MicroArbitrageParams
from engine.fixed import PRICE_SCALE, SHARE_STEP, SIZE_SCALE, format_price
from engine.orders import Side
from engine.strategies.base import Basket, Leg, MarketContext, Signal
from engine.strategies.edge import fee_per_share, tradeable

EXIT_REASON = "micro_arbitrage_external_edge_cost"


def shares(value: Decimal) -> int:
    """A config share count in 1e-6 units, on the 0.01-share order step."""
    return int(value * SIZE_SCALE) // SHARE_STEP * SHARE_STEP


class MicroArbitrage:
    name = "micro_arbitrage"

    def __init__(self, params: MicroArbitrageParams, weight: float = 1.0) -> None:
        self.config = params
        self.weight = weight
        self._max_size = shares(params.max_shares)
        self._margin = params.margin_bps * PRICE_SCALE / 10_000  # price units
        # condition id -> (leg prices, when sent): the last basket, not re-sent too soon.
        self._sent: dict[str, tuple[tuple[int, int], float]] = {}
        # condition id -> per-share cost, fees included, of the last basket priced.
        self._cost: dict[str, int] = {}

    def on_tick(self, ctx: MarketContext) -> Signal | Basket | None:
        market = ctx.market
        tokens = market.token_ids
        if len(tokens) != 2 or ctx.asset_id not in tokens:
            return None
        other = ctx.complement
        if not tradeable(ctx.book) or other is None or not tradeable(other):
            return None
        yes, no = (ctx.book, other) if ctx.asset_id == tokens[0] else (other, ctx.book)
        yes_ask, no_ask, yes_bid, no_bid = yes.best_ask, no.best_ask, yes.best_bid, no.best_bid
        if yes_ask is None or no_ask is None or yes_bid is None or no_bid is None:
            return None
        fees = market.fees
        taker_cost = fee_per_share(fees, yes_ask) + fee_per_share(fees, no_ask)
        cost = yes_ask + no_ask + taker_cost
        lots = ctx.lots.get(self.name, ())
        if lots:
            external = PRICE_SCALE - yes_ask - no_ask
            if external > taker_cost:
                return None  # the mispricing is still there: hold
            paid = self._cost.get(market.condition_id)
            proceeds = yes_bid + no_bid - fee_per_share(fees, yes_bid) - fee_per_share(fees, no_bid)
            if paid is None or proceeds < paid:
                return None  # holding to resolution pays 1: selling now would lose
            return Signal(
                self.name,
                ctx.asset_id,
                Side.SELL,
                1.0,
                EXIT_REASON,
                is_exit=True,
                size_hint=sum(lot.size for lot in lots),
                inputs={
                    "external_edge": float(external),
                    "taker_cost": float(taker_cost),
                    "proceeds": float(proceeds),
                    "paid": float(paid),
                },
            )
        if PRICE_SCALE - cost <= self._margin:
            return None  # no gap, or fees and the margin eat it
        floor = max(market.min_order_size, yes.min_order_size, no.min_order_size)
        size = min(yes.best_ask_size(), no.best_ask_size(), self._max_size)
        size = size // SHARE_STEP * SHARE_STEP
        if size <= 0 or size < floor:
            return None  # the touches are too thin to fill a minimum order on both legs
        prices = (yes_ask, no_ask)
        last = self._sent.get(market.condition_id)
        if (
            last is not None
            and last[0] == prices
            and ctx.now - last[1] < self.config.repeat_after_s
        ):
            return None
        self._sent[market.condition_id] = (prices, ctx.now)
        self._cost[market.condition_id] = cost
        cid = market.condition_id
        return Basket(
            self.name,
            "yes_no",
            cid,
            (
                Leg(tokens[0], cid, Side.BUY, yes_ask, size),
                Leg(tokens[1], cid, Side.BUY, no_ask, size),
            ),
            cost,
            PRICE_SCALE,
            (PRICE_SCALE - cost) * 10_000 / cost,
            f"YES {format_price(yes_ask)} + NO {format_price(no_ask)}"
            f" + fees {format_price(taker_cost)} < 1",
            inputs={
                "yes_ask": float(yes_ask),
                "no_ask": float(no_ask),
                "fees": float(taker_cost),
                "size": float(size),
            },
        )

"""Micro-arbitrage: buy both tokens of a binary market when together they cost less than
the 1 they pay at resolution (exactly one of YES and NO pays 1).

Entry: YES ask + NO ask + both taker fees < 1 - ``margin_bps`` → a ``yes_no`` Basket
buying both at their asks, all or none, sized by the smaller size shown at the two
touches (at most ``max_shares``, at least each book's minimum order). The same
opportunity at the same prices is not sent again within ``repeat_after_s``.

Exit (reason ``micro_arbitrage_external_edge_cost``, the seed's name): once the external
edge, what the book still offers (1 - YES ask - NO ask), is at or below the taker cost of
the pair, the mispricing is closed and the pairs held are sold, but only when selling
both at the bids, fees paid, returns at least what they cost (otherwise holding to
resolution pays exactly 1 and selling would lose the arbitrage). What they cost is read
from the strategy's own lots on both tokens (their average entries plus the taker fee at
each), so a restart or a basket that was priced and never traded changes nothing. The
exit is a selling basket of both legs, all or none, so it never leaves one leg alone.

Incremental: it keeps each binary market's ask sum (asks + taker fees) current from the
tradeable asks that moved, and a pass asks it only about changed books of markets whose
sum leaves a gap past the margin, and (``lots_matter``) about books where lots are held.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal

from engine.config.strategy import MicroArbitrageParams
from engine.fixed import PRICE_SCALE, SHARE_STEP, SIZE_SCALE, format_price
from engine.market.event_groups import EventGroup
from engine.market.markets import MarketInfo
from engine.orders import Side
from engine.strategies.base import Basket, Inputs, Leg, MarketContext, OwnLot, Signal
from engine.strategies.edge import fee_per_share

EXIT_REASON = "micro_arbitrage_external_edge_cost"


def shares(value: Decimal) -> int:
    """A config share count in 1e-6 units, on the 0.01-share order step."""
    return int(value * SIZE_SCALE) // SHARE_STEP * SHARE_STEP


class MicroArbitrage:
    name = "micro_arbitrage"
    lots_matter = True  # the pairs held exit on any change of either book

    def __init__(self, params: MicroArbitrageParams, weight: float = 1.0) -> None:
        self.config = params
        self.weight = weight
        self._max_size = shares(params.max_shares)
        self._margin = params.margin_bps * PRICE_SCALE / 10_000  # price units
        # condition id -> (leg prices, when sent): the last basket, not re-sent too soon.
        self._sent: dict[str, tuple[tuple[int, int], float]] = {}
        # Incremental state: each binary market by its tokens, and the markets whose
        # tradeable asks plus fees leave a gap past the margin now (the only ones whose
        # changed books can give an entry).
        self._pair_of: dict[str, MarketInfo] = {}
        self._gaps: dict[str, MarketInfo] = {}

    # -- incremental ------------------------------------------------------------------------
    def on_markets(self, markets: Sequence[MarketInfo], events: Mapping[str, EventGroup]) -> None:
        self._pair_of = {t: m for m in markets if len(tokens := m.token_ids) == 2 for t in tokens}
        self._gaps = {}

    def on_quotes(self, moved: Sequence[str], asks: Mapping[str, int]) -> None:
        pair_of = self._pair_of
        gaps = self._gaps
        margin = self._margin
        for asset in moved:
            market = pair_of.get(asset)
            if market is None:
                continue
            yes, no = market.token_ids
            yes_ask, no_ask = asks.get(yes), asks.get(no)
            if yes_ask is None or no_ask is None:
                gaps.pop(market.condition_id, None)
                continue
            fees = market.fees
            cost = yes_ask + no_ask + fee_per_share(fees, yes_ask) + fee_per_share(fees, no_ask)
            # on_tick's own test, written the same way (a float margin).
            if PRICE_SCALE - cost <= margin:
                gaps.pop(market.condition_id, None)
            else:
                gaps[market.condition_id] = market

    def select(self, pending: Mapping[str, None], now: float, inputs: Inputs) -> Collection[str]:
        """Changed books of markets with a gap (their entries), unless that basket went
        at these very asks within ``repeat_after_s`` (on_tick would hold it; a pair
        held is asked about through ``lots_matter``)."""
        gaps = self._gaps
        if not gaps:
            return ()
        asks = inputs.asks
        chosen: list[str] = []
        if len(pending) < len(gaps):
            # A live pass has a frame's one or two books: look each one's market up
            # rather than walk every market with a gap.
            pair_of = self._pair_of
            for token in pending:
                market = pair_of.get(token)
                if (
                    market is not None
                    and market.condition_id in gaps
                    and not self._held(market, now, asks)
                ):
                    chosen.append(token)
            return chosen
        for market in gaps.values():
            if not self._held(market, now, asks):
                yes, no = market.token_ids
                if yes in pending:
                    chosen.append(yes)
                if no in pending:
                    chosen.append(no)
        return chosen

    def _held(self, market: MarketInfo, now: float, asks: Mapping[str, int]) -> bool:
        """The market's pair went at these very asks within ``repeat_after_s``."""
        last = self._sent.get(market.condition_id)
        if last is None or not now - last[1] < self.config.repeat_after_s:
            return False
        yes, no = market.token_ids
        return last[0] == (asks[yes], asks[no])

    def on_tick(self, ctx: MarketContext) -> Signal | Basket | None:
        market = ctx.market
        tokens = market.token_ids
        if len(tokens) != 2 or ctx.asset_id not in tokens:
            return None
        other = ctx.complement
        here = ctx.book.top()  # None: not a book to price off
        there = other.top() if other is not None and here is not None else None
        if here is None or other is None or there is None:
            return None
        first = ctx.asset_id == tokens[0]
        yes, no = (ctx.book, other) if first else (other, ctx.book)
        (yes_bid, yes_ask), (no_bid, no_ask) = (here, there) if first else (there, here)
        fees = market.fees
        taker_cost = fee_per_share(fees, yes_ask) + fee_per_share(fees, no_ask)
        cost = yes_ask + no_ask + taker_cost
        mine = ctx.lots.get(self.name, ())
        theirs = ctx.lots_of(tokens[1] if ctx.asset_id == tokens[0] else tokens[0]).get(
            self.name, ()
        )
        if mine or theirs:
            return self._exit(ctx, mine, theirs, yes_ask, no_ask, yes_bid, no_bid, taker_cost)
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

    def _exit(
        self,
        ctx: MarketContext,
        mine: tuple[OwnLot, ...],
        theirs: tuple[OwnLot, ...],
        yes_ask: int,
        no_ask: int,
        yes_bid: int,
        no_bid: int,
        taker_cost: int,
    ) -> Basket | None:
        """Sell the pairs held, both legs at once, once the gap has closed and selling
        returns at least what they cost; None while they should be held."""
        market = ctx.market
        fees = market.fees
        tokens = market.token_ids
        yes_lots, no_lots = (mine, theirs) if ctx.asset_id == tokens[0] else (theirs, mine)
        pairs = min(sum(lot.size for lot in yes_lots), sum(lot.size for lot in no_lots))
        if pairs < market.min_order_size:
            return None  # no whole pair (a lone leg is the basket's protection's business)
        external = PRICE_SCALE - yes_ask - no_ask
        if external > taker_cost:
            return None  # the mispricing is still there: hold
        yes_entry, no_entry = _average_entry(yes_lots), _average_entry(no_lots)
        paid = yes_entry + no_entry + fee_per_share(fees, yes_entry) + fee_per_share(fees, no_entry)
        proceeds = yes_bid + no_bid - fee_per_share(fees, yes_bid) - fee_per_share(fees, no_bid)
        if proceeds < paid:
            return None  # holding to resolution pays 1: selling now would lose
        cid = market.condition_id
        return Basket(
            self.name,
            "yes_no",
            cid,
            (
                Leg(tokens[0], cid, Side.SELL, yes_bid, pairs),
                Leg(tokens[1], cid, Side.SELL, no_bid, pairs),
            ),
            paid,  # what a pair cost, fees included
            proceeds,  # what selling one returns, fees paid
            (proceeds - paid) * 10_000 / paid,
            EXIT_REASON,
            inputs={
                "external_edge": float(external),
                "taker_cost": float(taker_cost),
                "proceeds": float(proceeds),
                "paid": float(paid),
            },
        )


def _average_entry(lots: tuple[OwnLot, ...]) -> int:
    shares = sum(lot.size for lot in lots)
    return sum(lot.entry_price * lot.size for lot in lots) // shares if shares else 0

"""The five strategies in their from-scratch form: the reference the incremental ones are
held to (tests/engine/strategies/test_incremental.py).

Each is the strategy as it was before it became incremental, kept verbatim: a plain
strategy (no ``select``), so the core asks it about every changed book, and it reads
everything it needs from the books on every call. Same names as the engine's, so the
signals, baskets and ledgers of the two forms compare row for row.
"""

from __future__ import annotations

import math
from collections import deque
from decimal import Decimal

from engine.config.strategy import (
    DEFAULT_SPREAD_TIERS,
    CrossMarketArbitrageParams,
    EventDrivenParams,
    MeanReversionConfig,
    MeanReversionParams,
    MicroArbitrageParams,
    MomentumScalpingParams,
    SpreadVolumeTier,
)
from engine.fixed import PRICE_SCALE, SHARE_STEP, SIZE_SCALE, format_price
from engine.market.event_groups import EventGroup
from engine.orders import Side
from engine.strategies.base import (
    Basket,
    Execution,
    ExitLevels,
    Leg,
    MarketContext,
    OwnLot,
    Signal,
)
from engine.strategies.edge import bps_of, fee_per_share, spread_bps, tradeable


# -- mean_reversion ----------------------------------------------------------------------
class _Window:
    __slots__ = ("values", "total", "total_sq", "since_exact", "last_sample")

    def __init__(self, size: int) -> None:
        self.values: deque[float] = deque(maxlen=size)
        self.total = 0.0
        self.total_sq = 0.0
        self.since_exact = 0
        self.last_sample = -math.inf

    def add(self, x: float) -> None:
        values = self.values
        if len(values) == values.maxlen:
            old = values[0]
            self.total -= old
            self.total_sq -= old * old
        values.append(x)
        self.total += x
        self.total_sq += x * x
        self.since_exact += 1
        if self.since_exact >= len(values):
            self.total = math.fsum(values)
            self.total_sq = math.fsum(v * v for v in values)
            self.since_exact = 0

    def stats(self, full: int) -> tuple[float, float, float] | None:
        """(z of the last sample, mean, standard deviation) once the window is full."""
        n = len(self.values)
        if n < full:
            return None
        mean = self.total / n
        var = self.total_sq / n - mean * mean
        if var <= 1e-12:
            return None
        sd = math.sqrt(var)
        return (self.values[-1] - mean) / sd, mean, sd


class ScratchMeanReversion:
    name = "mean_reversion"

    def __init__(
        self,
        params: MeanReversionParams,
        weight: float | None = None,
        spread_volume_tiers: tuple[SpreadVolumeTier, ...] = DEFAULT_SPREAD_TIERS,
    ) -> None:
        """`spread_volume_tiers` is `[strategy] spread_volume_tiers`; the params' own tiers,
        when given, override it."""
        self.config = params
        if weight is None:
            # The legacy [strategy.mean_reversion] table carries its own weight.
            weight = params.weight if isinstance(params, MeanReversionConfig) else 1.0
        self.weight = weight
        self._windows: dict[str, _Window] = {}
        tiers = params.spread_volume_tiers
        self._tiers = tuple(
            (t.min_volume_24h, t.max_spread_bps)
            for t in (spread_volume_tiers if tiers is None else tiers)
        )

    def samples(self, asset_id: str) -> int:
        """How many mids the token's window holds (one per sample interval at most)."""
        window = self._windows.get(asset_id)
        return 0 if window is None else len(window.values)

    def zscore(self, asset_id: str) -> float | None:
        window = self._windows.get(asset_id)
        stats = None if window is None else window.stats(self.config.window)
        return None if stats is None else stats[0]

    def max_spread_bps(self, volume_24h: float) -> float | None:
        """The spread gate of the tier this volume falls in (None: below every tier)."""
        limit = None
        for min_volume, max_bps in self._tiers:
            if volume_24h < min_volume:
                break
            limit = max_bps
        return limit

    def on_tick(self, ctx: MarketContext) -> Signal | None:
        cfg = self.config
        book = ctx.book
        if not tradeable(book):
            return None
        window = self._windows.get(ctx.asset_id)
        if window is None:
            window = self._windows[ctx.asset_id] = _Window(cfg.window)
        if ctx.now - window.last_sample < cfg.sample_interval_s:
            return None
        mid = book.mid()
        bid, ask = book.best_bid, book.best_ask
        if mid is None or bid is None or ask is None:
            return None
        window.last_sample = ctx.now
        window.add(mid)
        stats = window.stats(cfg.window)
        if stats is None:
            return None
        z, mean, sd = stats
        lots = ctx.lots.get(self.name, ())
        if lots and z >= -cfg.exit_z:
            held = sum(lot.size for lot in lots)
            return Signal(
                self.name,
                ctx.asset_id,
                Side.SELL,
                1.0,
                "reverted to mean",  # a stable name for exit analytics; z is in inputs
                is_exit=True,
                size_hint=held,
                inputs={"z": z, "mean": mean, "sd": sd, "mid": mid},
            )
        if z > -cfg.entry_z:
            return None
        spread = ask - bid
        if spread > cfg.max_spread_ticks * book.tick:
            return None  # too wide to enter: the spread would eat the edge
        width = spread_bps(book) or 0.0
        volume = ctx.volume_24h
        limit = self.max_spread_bps(volume)
        if limit is not None and width > limit:
            return None  # a busy market this wide is not the market it usually is
        fees = ctx.market.fees
        # Expected gain per share in price units: a share of the gap to the exit level.
        expected = cfg.reversion_share * ((mean - cfg.exit_z * sd) - mid) * PRICE_SCALE
        fee_in, fee_out = fee_per_share(fees, ask), fee_per_share(fees, bid)
        take_edge = bps_of(expected - spread - fee_in - fee_out, ask)
        rest_edge = bps_of(expected - fee_out, bid)
        if take_edge > cfg.min_edge_bps:
            execution, edge = Execution.TAKE, take_edge
        elif rest_edge > cfg.min_edge_bps:
            execution, edge = Execution.REST, rest_edge  # the gap does not pay the spread
        else:
            return None  # fees eat the edge even at the bid
        strength = min(1.0, -z / (1.5 * cfg.entry_z))
        return Signal(
            self.name,
            ctx.asset_id,
            Side.BUY,
            strength,
            f"mid {z:+.2f} sd below mean",
            execution=execution,
            edge_bps=edge,
            inputs={
                "z": z,
                "mean": mean,
                "sd": sd,
                "mid": mid,
                "spread_bps": width,
                "max_spread_bps": -1.0 if limit is None else limit,
                "volume_24h": volume,
                "expected_bps": bps_of(expected, ask),
                "take_edge_bps": take_edge,
                "rest_edge_bps": rest_edge,
            },
        )


# -- momentum_scalping -------------------------------------------------------------------
class _Trend:
    __slots__ = ("mids", "last_sample")

    def __init__(self, lookback: int) -> None:
        self.mids: deque[float] = deque(maxlen=lookback + 1)
        self.last_sample = -math.inf

    def move_bps(self) -> float | None:
        """Move of the mid over the full lookback, in basis points of its start."""
        mids = self.mids
        if len(mids) < (mids.maxlen or 0):
            return None
        first = mids[0]
        return (mids[-1] - first) * 10_000 / first if first > 0 else None


class ScratchMomentumScalping:
    name = "momentum_scalping"

    def __init__(self, params: MomentumScalpingParams, weight: float = 1.0) -> None:
        self.config = params
        self.weight = weight
        self._trends: dict[str, _Trend] = {}

    def on_tick(self, ctx: MarketContext) -> Signal | None:
        cfg = self.config
        book = ctx.book
        if not tradeable(book):
            return None
        trend = self._trends.get(ctx.asset_id)
        if trend is None:
            trend = self._trends[ctx.asset_id] = _Trend(cfg.lookback)
        if ctx.now - trend.last_sample < cfg.sample_interval_s:
            return None
        mid = book.mid()
        bid, ask = book.best_bid, book.best_ask
        if mid is None or bid is None or ask is None:
            return None
        trend.last_sample = ctx.now
        trend.mids.append(mid)
        move = trend.move_bps()
        bid_depth = book.depth(True, cfg.depth_levels)
        ask_depth = book.depth(False, cfg.depth_levels)
        total = bid_depth + ask_depth
        imbalance = (bid_depth - ask_depth) / total if total else 0.0
        lots = ctx.lots.get(self.name, ())
        if lots:
            return self._exit(ctx, lots, bid, book.tick, move, imbalance)
        if move is None or move < cfg.min_move_bps or imbalance < cfg.min_imbalance:
            return None
        spread = ask - bid
        if spread > cfg.max_spread_ticks * book.tick:
            return None
        fees = ctx.market.fees
        take_profit = cfg.take_profit_ticks * book.tick
        # Expected gain per share (price units): part of the recent move, at most the TP.
        expected = min(cfg.continuation_share * move / 10_000 * mid * PRICE_SCALE, take_profit)
        fee_in, fee_out = fee_per_share(fees, ask), fee_per_share(fees, bid)
        take_edge = bps_of(expected - spread - fee_in - fee_out, ask)
        rest_edge = bps_of(expected - fee_out, bid)
        if take_edge > cfg.min_edge_bps:
            execution, edge = Execution.TAKE, take_edge
        elif rest_edge > cfg.min_edge_bps:
            execution, edge = Execution.REST, rest_edge
        else:
            return None  # fees eat the edge
        trend_score = min(1.0, move / (2 * cfg.min_move_bps))
        book_score = min(1.0, imbalance / (2 * cfg.min_imbalance)) if cfg.min_imbalance else 1.0
        strength = min(1.0, max(0.05, 0.5 * (trend_score + book_score)))
        return Signal(
            self.name,
            ctx.asset_id,
            Side.BUY,
            strength,
            f"momentum {move:+.0f} bps, book imbalance {imbalance:+.2f}",
            execution=execution,
            edge_bps=edge,
            exits=ExitLevels(
                take_profit=take_profit,
                stop_loss=cfg.stop_loss_ticks * book.tick,
                max_holding_s=cfg.max_holding_s,
            ),
            inputs={
                "move_bps": move,
                "imbalance": imbalance,
                "mid": mid,
                "spread": float(spread),
                "expected_bps": bps_of(expected, ask),
                "take_edge_bps": take_edge,
                "rest_edge_bps": rest_edge,
            },
        )

    def _exit(
        self,
        ctx: MarketContext,
        lots: tuple[OwnLot, ...],
        bid: int,
        tick: int,
        move: float | None,
        imbalance: float,
    ) -> Signal | None:
        """Close the strategy's lots on this token when a level is hit or the trend or
        the book turns; None while the position should be held."""
        cfg = self.config
        held = sum(lot.size for lot in lots)
        if held <= 0:
            return None
        entry = sum(lot.entry_price * lot.size for lot in lots) / held
        oldest = min(lot.opened_at for lot in lots)
        gain_ticks = (bid - entry) / tick
        # Reasons are stable names (exit analytics group by them); the numbers behind
        # them ride in the inputs of the signal's audit row.
        held_s = ctx.wall - oldest
        if gain_ticks >= cfg.take_profit_ticks:
            reason = "momentum take-profit"
        elif gain_ticks <= -cfg.stop_loss_ticks:
            reason = "momentum stop-loss"
        elif held_s >= cfg.max_holding_s:
            reason = "momentum max holding"
        elif move is not None and move <= -cfg.min_move_bps / 2:
            reason = "momentum reversed"
        elif imbalance <= -cfg.min_imbalance:
            reason = "momentum book turned"
        else:
            return None
        return Signal(
            self.name,
            ctx.asset_id,
            Side.SELL,
            1.0,
            reason,
            is_exit=True,
            size_hint=held,
            inputs={
                "imbalance": imbalance,
                "entry": entry,
                "bid": float(bid),
                "gain_ticks": gain_ticks,
                "held_s": held_s,
            }
            | ({} if move is None else {"move_bps": move}),
        )


# -- event_driven ------------------------------------------------------------------------
REVERSED = "event sentiment reversed"
DECAYED = "event sentiment decayed"


def risk_level(spread: float, volume_24h: float, params: EventDrivenParams) -> str:
    """ "low", "medium" or "high", from the spread (bps of mid) and 24h volume (USDC)."""
    if spread >= params.high_risk_min_spread_bps or volume_24h <= params.high_risk_max_volume_24h:
        return "high"
    if spread <= params.low_risk_max_spread_bps and volume_24h >= params.low_risk_min_volume_24h:
        return "low"
    return "medium"


class ScratchEventDriven:
    name = "event_driven"

    def __init__(self, params: EventDrivenParams, weight: float = 1.0) -> None:
        self.config = params
        self.weight = weight
        self._allowed = frozenset(params.allowed_risk_levels)
        # token -> updated_at of the reading last acted on: one entry per headline.
        self._acted: dict[str, float] = {}

    def on_tick(self, ctx: MarketContext) -> Signal | None:
        book = ctx.book
        if not tradeable(book):
            return None
        tokens = ctx.market.token_ids
        if len(tokens) != 2 or ctx.asset_id not in tokens:
            return None
        # The score is for YES: the NO token is favoured by its opposite.
        direction = 1.0 if ctx.asset_id == tokens[0] else -1.0
        lots = ctx.lots.get(self.name, ())
        if lots:
            return self._exit(ctx, direction, sum(lot.size for lot in lots))
        return self._entry(ctx, direction)

    def _exit(self, ctx: MarketContext, direction: float, held: int) -> Signal | None:
        cfg = self.config
        reading = ctx.sentiment
        # Reasons are stable names (exit analytics group by them); the score, the floor
        # and the reading's age ride in the inputs of the signal's audit row.
        age = None if reading is None else reading.age(ctx.wall)
        if reading is None or age is None or age > cfg.max_age_seconds:
            reason, score = DECAYED, 0.0
        else:
            score = direction * reading.decayed(ctx.wall, cfg.decay_half_life_seconds)
            if score <= -cfg.sentiment_floor:
                reason = REVERSED
            elif score < cfg.sentiment_floor:
                reason = DECAYED
            else:
                return None
        return Signal(
            self.name,
            ctx.asset_id,
            Side.SELL,
            1.0,
            reason,
            is_exit=True,
            size_hint=held,
            inputs={"sentiment": score, "floor": cfg.sentiment_floor}
            | ({} if age is None else {"age_s": age}),
            sentiment_source="" if reading is None else reading.source,
        )

    def _entry(self, ctx: MarketContext, direction: float) -> Signal | None:
        cfg = self.config
        reading = ctx.sentiment
        if reading is None or reading.age(ctx.wall) > cfg.max_age_seconds:
            return None  # no news, or stale news
        if self._acted.get(ctx.asset_id) == reading.updated_at:
            return None
        if cfg.require_true_source and not reading.is_news:
            return None
        score = direction * reading.decayed(ctx.wall, cfg.decay_half_life_seconds)
        if score < cfg.sentiment_floor:
            return None  # too weak, or it favours the other token
        confidence = reading.confidence
        required = cfg.volume_threshold
        if not reading.is_news:
            confidence *= cfg.non_news_conf_scale
            required *= cfg.volume_spike_multiplier_non_news
        spike = ctx.flow.spike(ctx.now) if ctx.flow is not None else 0.0
        if spike < required:
            return None
        width = spread_bps(ctx.book)
        bid, ask = ctx.book.best_bid, ctx.book.best_ask
        if width is None or bid is None or ask is None:
            return None
        level = risk_level(width, ctx.volume_24h, cfg)
        if level not in self._allowed:
            return None
        spike_share = min(1.0, spike / (2 * required)) if required > 0 else 1.0
        strength = min(
            1.0,
            confidence * (cfg.sentiment_weight * score + (1 - cfg.sentiment_weight) * spike_share),
        )
        if strength <= 0:
            return None
        fees = ctx.market.fees
        expected = cfg.expected_move_bps * score * confidence
        cost = bps_of(ask - bid + fee_per_share(fees, ask) + fee_per_share(fees, bid), ask)
        edge = expected - cost
        if edge <= 0:
            return None  # the spread and fees eat the expected move
        self._acted[ctx.asset_id] = reading.updated_at
        kind = "news" if reading.is_news else "non-news"
        return Signal(
            self.name,
            ctx.asset_id,
            Side.BUY,
            strength,
            f"{kind} sentiment {score:+.2f} ({reading.source}), volume spike {spike:.1f}x",
            execution=Execution.TAKE,
            edge_bps=edge,
            exits=ExitLevels(max_holding_s=cfg.max_holding_s),
            inputs={
                "sentiment": score,
                "raw_score": reading.score,
                "confidence": confidence,
                "age_s": reading.age(ctx.wall),
                "spike": spike,
                "required_spike": required,
                "spread_bps": width,
                "volume_24h": ctx.volume_24h,
                "risk_level": {"low": 0.0, "medium": 1.0, "high": 2.0}[level],
                "expected_bps": expected,
                "cost_bps": cost,
            },
            sentiment_source=reading.source,
        )


# -- micro_arbitrage ---------------------------------------------------------------------
EXIT_REASON = "micro_arbitrage_external_edge_cost"


def shares(value: Decimal) -> int:
    """A config share count in 1e-6 units, on the 0.01-share order step."""
    return int(value * SIZE_SCALE) // SHARE_STEP * SHARE_STEP


class ScratchMicroArbitrage:
    name = "micro_arbitrage"

    def __init__(self, params: MicroArbitrageParams, weight: float = 1.0) -> None:
        self.config = params
        self.weight = weight
        self._max_size = shares(params.max_shares)
        self._margin = params.margin_bps * PRICE_SCALE / 10_000  # price units
        # condition id -> (leg prices, when sent): the last basket, not re-sent too soon.
        self._sent: dict[str, tuple[tuple[int, int], float]] = {}

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


# -- cross_market_arbitrage --------------------------------------------------------------
def payout_of(outcomes: int, side_index: int) -> int:
    """What buying one token of every outcome pays: exactly 1 for the YESes (one of them
    wins), exactly N - 1 for the NOs (all but one win)."""
    return PRICE_SCALE * (outcomes - 1 if side_index else 1)


class ScratchCrossMarketArbitrage:
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

"""Event-driven: trade a market's news when the crowd is trading it too.

A market's sentiment reading (score -1..+1 for YES, confidence, source, age) is decayed
by ``decay_half_life_seconds`` and ignored past ``max_age_seconds``. A reading strong
enough (|decayed score| >= ``sentiment_floor``) buys the token it favours: YES on good
news, NO on bad. It must come with a volume spike (short over long printed-volume rate of
the token, TradeFlow.spike) of at least ``volume_threshold``. Chatter is trusted less than
news: with ``require_true_source`` only news outlets count; otherwise a non-news reading's
confidence is scaled by ``non_news_conf_scale`` and it needs a spike
``volume_spike_multiplier_non_news`` times larger.

Risk level of a market (``allowed_risk_levels``), from its spread and 24h volume:
- high: spread >= ``high_risk_min_spread_bps`` or volume <= ``high_risk_max_volume_24h``;
- low: spread <= ``low_risk_max_spread_bps`` and volume >= ``low_risk_min_volume_24h``;
- medium: anything else.

Confidence = reading confidence (scaled) x (sentiment_weight x |score| + (1 -
sentiment_weight) x spike share), the spike share being spike / (2 x required), at most 1.
The stated edge is ``expected_move_bps`` x |score| x confidence less the spread and two
taker fees; news does not wait in a queue (a resting bid fills only if the move goes the
other way), so an entry whose edge does not pay for taking is not made. One entry per
reading and token: a headline is acted on once.

A held position exits when the reading reverses (``event sentiment reversed``) or decays
below the floor or past its age (``event sentiment decayed``).

Incremental: a pass asks it only about tradeable changed books of markets that have a
sentiment reading, and (``lots_matter``) about books where lots are held.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from engine.config.strategy import EventDrivenParams
from engine.market.event_groups import EventGroup
from engine.market.markets import MarketInfo
from engine.orders import Side
from engine.strategies.base import Execution, ExitLevels, Inputs, MarketContext, Signal
from engine.strategies.edge import bps_of, fee_per_share, spread_bps, tradeable

REVERSED = "event sentiment reversed"
DECAYED = "event sentiment decayed"


def risk_level(spread: float, volume_24h: float, params: EventDrivenParams) -> str:
    """ "low", "medium" or "high", from the spread (bps of mid) and 24h volume (USDC)."""
    if spread >= params.high_risk_min_spread_bps or volume_24h <= params.high_risk_max_volume_24h:
        return "high"
    if spread <= params.low_risk_max_spread_bps and volume_24h >= params.low_risk_min_volume_24h:
        return "low"
    return "medium"


class EventDriven:
    name = "event_driven"
    lots_matter = True  # a held position's exit is read on every change of its book

    def __init__(self, params: EventDrivenParams, weight: float = 1.0) -> None:
        self.config = params
        self.weight = weight
        self._allowed = frozenset(params.allowed_risk_levels)
        # token -> updated_at of the reading last acted on: one entry per headline.
        self._acted: dict[str, float] = {}

    def on_markets(self, markets: Sequence[MarketInfo], events: Mapping[str, EventGroup]) -> None:
        return None

    def on_quotes(self, moved: Sequence[str], asks: Mapping[str, int]) -> None:
        return None

    def select(self, pending: Mapping[str, None], now: float, inputs: Inputs) -> Collection[str]:
        """Tradeable changed books whose market has a reading: without one there is no
        entry (and exits come through ``lots_matter``)."""
        readings = inputs.readings
        if not readings:
            return ()
        asks = inputs.asks
        market_of = inputs.market_of
        chosen: list[str] = []
        for asset in pending:
            if asset in asks:
                market = market_of(asset)
                if market is not None and market.condition_id in readings:
                    chosen.append(asset)
        return chosen

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

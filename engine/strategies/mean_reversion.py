"""Mean reversion: buy a token whose mid has fallen well below its recent mean, sell the
position once the mid has come back.

Mids are sampled at most once per ``sample_interval_s`` of clock time, when the book
changes, so the window is a span of time (window x interval) whatever the message rate,
and a backtest samples exactly what a live run would. The mean and variance are kept as
running sums (recomputed exactly every window to stop float drift): this runs on every
book update. Floats are fine here: this is an indicator, not money.

Honest about edge: the expected gain is a share (``reversion_share``) of the gap between
the mid and the exit level. Taking pays the spread (in at the ask, out at the bid) and two
taker fees; resting at the bid pays only the exit's fee. When the expected gain does not
cover the spread and fees, the entry rests (post-only, queued) instead of taking; when
even resting does not pay, there is no entry. Busy markets must also be tight: the spread
gate by 24h volume (``[strategy] spread_volume_tiers``) refuses entries wider than their
tier allows.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Collection, Mapping, Sequence

from engine.config.strategy import (
    DEFAULT_SPREAD_TIERS,
    MeanReversionConfig,
    MeanReversionParams,
    SpreadVolumeTier,
)
from engine.fixed import PRICE_SCALE
from engine.market.event_groups import EventGroup
from engine.market.markets import MarketInfo
from engine.orders import Side
from engine.strategies.base import Execution, Inputs, MarketContext, Signal
from engine.strategies.edge import bps_of, fee_per_share, spread_bps


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


class MeanReversion:
    name = "mean_reversion"
    lots_matter = False  # its exit is read at sample times only

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

    def on_markets(self, markets: Sequence[MarketInfo], events: Mapping[str, EventGroup]) -> None:
        return None

    def on_quotes(self, moved: Sequence[str], asks: Mapping[str, int]) -> None:
        return None

    def select(self, pending: Mapping[str, None], now: float, inputs: Inputs) -> Collection[str]:
        """The tradeable changed books whose sample is due (on_tick's own test, kept as
        it is written there so the float arithmetic agrees)."""
        windows = self._windows
        interval = self.config.sample_interval_s
        asks = inputs.asks
        due: list[str] = []
        for asset in pending:
            if asset in asks:
                window = windows.get(asset)
                if window is None or not now - window.last_sample < interval:
                    due.append(asset)
        return due

    def on_tick(self, ctx: MarketContext) -> Signal | None:
        cfg = self.config
        book = ctx.book
        top = book.top()  # None: not a book to price off
        if top is None:
            return None
        window = self._windows.get(ctx.asset_id)
        if window is None:
            window = self._windows[ctx.asset_id] = _Window(cfg.window)
        if ctx.now - window.last_sample < cfg.sample_interval_s:
            return None
        bid, ask = top
        mid = (ask + bid) / (2 * PRICE_SCALE)  # as OrderBook.mid() computes it
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

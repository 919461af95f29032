"""Momentum scalping: ride a short-horizon trend that the book's depth agrees with, with a
tight take-profit, a tight stop-loss and a short holding time.

The trend is the move of the mid over ``lookback`` samples taken at most once per
``sample_interval_s`` of clock time (a span of time, whatever the message rate); the
imbalance is (bid depth - ask depth) / total over the top ``depth_levels`` of each side.
A token rising with more size bid than offered is bought; a token falling is not sold
short: its complement (the other token of the market) rises and is bought from its own
book. The position's exits travel with the signal (ExitLevels: take-profit, stop-loss,
max holding); the strategy also exits on its own, with the reason, when the trend or the
imbalance turns against the position or a level is reached before execution saw it.

The stated edge assumes ``continuation_share`` of the lookback's move continues while
held (capped at the take-profit), less the spread and taker fees; an entry whose edge
does not pay the spread rests instead of taking. Floats: indicators, not money.

Incremental: a pass asks it only about changed books that are tradeable and whose next
sample is due; the depth imbalance is read only when a position or a move needs it.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Collection, Mapping, Sequence

from engine.config.strategy import MomentumScalpingParams
from engine.fixed import PRICE_SCALE
from engine.market.event_groups import EventGroup
from engine.market.markets import MarketInfo
from engine.orders import Side
from engine.strategies.base import Execution, ExitLevels, Inputs, MarketContext, OwnLot, Signal
from engine.strategies.edge import bps_of, fee_per_share


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


class MomentumScalping:
    name = "momentum_scalping"
    lots_matter = False  # its exits are read at sample times only

    def __init__(self, params: MomentumScalpingParams, weight: float = 1.0) -> None:
        self.config = params
        self.weight = weight
        self._trends: dict[str, _Trend] = {}

    def on_markets(self, markets: Sequence[MarketInfo], events: Mapping[str, EventGroup]) -> None:
        return None

    def on_quotes(self, moved: Sequence[str], asks: Mapping[str, int]) -> None:
        return None

    def select(self, pending: Mapping[str, None], now: float, inputs: Inputs) -> Collection[str]:
        """The tradeable changed books whose sample is due (on_tick's own test)."""
        trends = self._trends
        interval = self.config.sample_interval_s
        asks = inputs.asks
        due: list[str] = []
        for asset in pending:
            if asset in asks:
                trend = trends.get(asset)
                if trend is None or not now - trend.last_sample < interval:
                    due.append(asset)
        return due

    def on_tick(self, ctx: MarketContext) -> Signal | None:
        cfg = self.config
        book = ctx.book
        top = book.top()  # None: not a book to price off
        if top is None:
            return None
        trend = self._trends.get(ctx.asset_id)
        if trend is None:
            trend = self._trends[ctx.asset_id] = _Trend(cfg.lookback)
        if ctx.now - trend.last_sample < cfg.sample_interval_s:
            return None
        bid, ask = top
        mid = (ask + bid) / (2 * PRICE_SCALE)  # as OrderBook.mid() computes it
        trend.last_sample = ctx.now
        trend.mids.append(mid)
        move = trend.move_bps()
        lots = ctx.lots.get(self.name, ())
        if not lots and (move is None or move < cfg.min_move_bps):
            return None  # no position and no trend: the book's depth cannot change that
        bid_depth = book.depth(True, cfg.depth_levels)
        ask_depth = book.depth(False, cfg.depth_levels)
        total = bid_depth + ask_depth
        imbalance = (bid_depth - ask_depth) / total if total else 0.0
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

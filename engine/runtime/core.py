"""The engine: one pipeline, whichever face runs it.

MarketFeed -> Books -> Strategies -> Aggregator -> Risk -> OrderGateway -> Ledger, with
an immutable snapshot published at a fixed cadence. The feed pushes frames in (the
engine is its sink); decisions run on a clock-driven tick, so bursts of messages cost
one book update each and never a decision each.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections import Counter, deque
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum

from engine.adapters.polymarket.books import BookStore
from engine.clock import Clock
from engine.config import EngineConfig
from engine.execution.paper import PaperGateway
from engine.execution.portfolio import Portfolio
from engine.fixed import (
    CASH_DIGITS,
    PRICE_SCALE,
    SHARE_STEP,
    SIZE_DIGITS,
    cash_decimal,
    decimal_to_fixed,
    price_decimal,
    size_decimal,
)
from engine.market.book import OrderBook
from engine.market.markets import MarketInfo
from engine.orders import Fill, OrderRequest, OrderStatus, OrderType, Side
from engine.ports import Ledger, MarketFeed, OrderGateway
from engine.risk.gate import RiskGate
from engine.runtime.snapshot import (
    Counters,
    EngineSnapshot,
    FillRow,
    MarketRow,
    PositionRow,
    SnapshotHub,
)
from engine.strategies.aggregator import Aggregator, Intent
from engine.strategies.base import MarketContext, Strategy
from engine.strategies.mean_reversion import MeanReversion

log = logging.getLogger("engine")


class EngineState(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


class _StopRequested(Exception):
    """Raised inside the task group to wind every task down together."""


class Engine:
    def __init__(
        self,
        config: EngineConfig,
        feed: MarketFeed,
        ledger: Ledger,
        clock: Clock,
        *,
        gateway: OrderGateway | None = None,
        strategies: Sequence[Strategy] | None = None,
        mode: str = "paper",
        venue: str = "polymarket",
    ) -> None:
        self.config = config
        self.feed = feed
        self.ledger = ledger
        self.clock = clock
        self.mode = mode
        self.venue = venue
        self.state = EngineState.STARTING
        self.books = BookStore(on_problem=self._on_problem)
        self.markets: list[MarketInfo] = []
        self._by_token: dict[str, MarketInfo] = {}
        self.gateway: OrderGateway = gateway or PaperGateway(
            self.books, self.market_of, clock, config.paper.latency_ms / 1000
        )
        self.strategies: list[Strategy] = (
            list(strategies)
            if strategies is not None
            else [MeanReversion(config.strategy.mean_reversion)]
        )
        self.aggregator = Aggregator(
            {s.name: s.weight for s in self.strategies}, config.strategy.threshold
        )
        self.risk = RiskGate(
            decimal_to_fixed(config.risk.max_order_shares, SIZE_DIGITS),
            decimal_to_fixed(config.risk.max_position_shares, SIZE_DIGITS),
        )
        self.portfolio = Portfolio(decimal_to_fixed(config.paper.starting_cash, CASH_DIGITS))
        self.hub = SnapshotHub()
        self.run_id = 0
        self.error: str | None = None
        self._order_size = decimal_to_fixed(config.strategy.order_size, SIZE_DIGITS)
        self._ids = itertools.count(1)
        self._stop = asyncio.Event()
        self._started = clock.monotonic()
        self._seq = 0
        self._cooldown_until: dict[str, float] = {}
        self._order_strategy: dict[str, str] = {}
        self._recent_fills: deque[FillRow] = deque(maxlen=20)
        self._rejects: Counter[str] = Counter()
        self._problem_log: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()

    # -- lookups ----------------------------------------------------------------
    def market_of(self, asset_id: str) -> MarketInfo | None:
        return self._by_token.get(asset_id)

    # -- the sink the feed delivers to --------------------------------------------
    def on_markets(self, markets: Sequence[MarketInfo]) -> None:
        self.markets = list(markets)
        self._by_token = {t: m for m in markets for t in m.token_ids}
        for m in markets:
            for token in m.token_ids:
                book = self.books.book(token, m.condition_id)
                book.tick = m.tick
                book.tick_known = True
                book.min_order_size = m.min_order_size
        self.ledger.record_markets(markets)

    def on_frame(self, raw: bytes | str, recv_ts: float, source: str) -> None:
        self.counts["messages"] += self.books.apply_frame(raw)

    def _on_problem(self, message: str) -> None:
        kind = message.split(":", 1)[0]
        self._problem_log[kind] += 1
        n = self._problem_log[kind]
        # The first few of each kind in full, then a reminder every 100: a flood of bad
        # frames must not drown the log.
        if n <= 5 or n % 100 == 0:
            log.warning("market data %s (#%d of this kind)", message, n)

    # -- commands -----------------------------------------------------------------
    def pause(self) -> None:
        if self.state is EngineState.RUNNING:
            self.state = EngineState.PAUSED

    def resume(self) -> None:
        if self.state is EngineState.PAUSED:
            self.state = EngineState.RUNNING

    def stop(self) -> None:
        self._stop.set()

    # -- the run ------------------------------------------------------------------
    async def run(self, duration: float | None = None) -> EngineSnapshot:
        """Run until `duration` seconds pass, stop() is called or the feed ends."""
        self.run_id = await self.ledger.start_run(
            self.mode, self.venue, self.config.model_dump_json(exclude={"feed": {"news_url"}})
        )
        self._started = self.clock.monotonic()
        self.state = EngineState.RUNNING
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._run_feed(), name="engine-feed")
                tg.create_task(self._decision_loop(), name="engine-decisions")
                tg.create_task(self._snapshot_loop(), name="engine-snapshots")
                tg.create_task(self._stopper(duration), name="engine-stopper")
        except* _StopRequested:
            pass
        except* Exception as group:
            self.state = EngineState.FAILED
            first = group.exceptions[0]
            self.error = str(first) or type(first).__name__
            raise
        finally:
            if self.state is not EngineState.FAILED:
                self.state = EngineState.STOPPED
            for fill in self.gateway.take_fills():
                self._apply_fill(fill)
            final = self.snapshot()
            self.hub.publish(final)
            self.hub.close()
            await self.ledger.end_run(self.run_id, json.dumps(summary_dict(final), default=str))
        return final

    async def _stopper(self, duration: float | None) -> None:
        if duration is None:
            await self._stop.wait()
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), duration)
        self.state = EngineState.STOPPING
        raise _StopRequested

    async def _run_feed(self) -> None:
        await self.feed.run(self)
        # A tape ran out: one last decision on the final books, then stop.
        await self._decide()
        self.stop()

    async def _decision_loop(self) -> None:
        interval = self.config.decision_interval_s
        while True:
            await self.clock.sleep(interval)
            await self._decide()

    async def _snapshot_loop(self) -> None:
        interval = self.config.snapshot_interval_s
        while True:
            self.hub.publish(self.snapshot())
            await self.clock.sleep(interval)

    # -- decisions ----------------------------------------------------------------
    async def _decide(self) -> None:
        wanted = self.books.take_needs_snapshot()
        if wanted:
            self.counts["resnapshots"] += len(wanted)
            self.feed.want_snapshot(wanted)
        for fill in self.gateway.take_fills():
            self._apply_fill(fill)
        now = self.clock.monotonic()
        trading = self.state is EngineState.RUNNING
        books = self.books.books
        for market in self.markets:
            for asset_id in market.token_ids:
                book = books.get(asset_id)
                if book is None or not book.has_snapshot or book.needs_snapshot:
                    continue
                if market.condition_id in self.books.resolved:
                    continue
                ctx = MarketContext(asset_id, market, book, self.portfolio.position(asset_id), now)
                signals = [s for strat in self.strategies if (s := strat.on_tick(ctx))]
                if not signals:
                    continue
                self.counts["signals"] += len(signals)
                intent = self.aggregator.combine(asset_id, signals)
                if intent is None or not trading:
                    continue
                if not intent.is_exit and now < self._cooldown_until.get(asset_id, 0.0):
                    continue
                self.counts["intents"] += 1
                await self._act(intent, market, book, ctx.position, now)

    async def _act(
        self, intent: Intent, market: MarketInfo, book: OrderBook, position: int, now: float
    ) -> None:
        slip = self.config.strategy.max_slippage_ticks * book.tick
        source = self.feed.health.source
        if intent.side is Side.BUY:
            best = book.best_ask
            if best is None:
                return
            price = min(best + slip, PRICE_SCALE - book.tick)
            wanted = int(self._order_size * min(1.0, abs(intent.score)))
            decision = self.risk.check_buy(
                wanted, price, position, self.portfolio.cash, market.min_order_size, source
            )
        else:
            best = book.best_bid
            if best is None:
                return
            price = max(best - slip, book.tick)
            wanted = position if intent.is_exit else int(self._order_size * abs(intent.score))
            decision = self.risk.check_sell(wanted, position, market.min_order_size)
        size = (
            decision.size - decision.size % SHARE_STEP if intent.side is Side.BUY else decision.size
        )
        if size <= 0:
            self._reject(decision.reason or "sized to zero")
            return
        strategy = "+".join(intent.strategies)
        order = OrderRequest(
            client_id=f"{self.run_id}-{next(self._ids)}",
            asset_id=intent.asset_id,
            market=market.condition_id,
            side=intent.side,
            price=price,
            size=size,
            order_type=OrderType.FAK,
            strategy=strategy,
            reason=intent.reason,
            created_at=self.clock.time(),
        )
        self.feed.hit(intent.asset_id)
        if not intent.is_exit:
            self._cooldown_until[intent.asset_id] = now + self.config.strategy.entry_cooldown_s
        result = await self.gateway.submit(order)
        self.counts["orders"] += 1
        self._order_strategy[result.order_id] = strategy
        self.ledger.record_order(order, result, self.run_id)
        if result.status is OrderStatus.REJECTED:
            self._reject(result.reason or "rejected by the gateway")
        for fill in result.fills:
            self._apply_fill(fill)

    def _reject(self, reason: str) -> None:
        self.counts["rejects"] += 1
        self._rejects[reason] += 1

    def _apply_fill(self, fill: Fill) -> None:
        self.portfolio.apply(fill)
        self.ledger.record_fill(fill, self.run_id)
        self.counts["fills"] += 1
        market = self._by_token.get(fill.asset_id)
        self._recent_fills.appendleft(
            FillRow(
                at=fill.at,
                asset_id=fill.asset_id,
                question=market.question if market else "",
                outcome=market.outcome_of(fill.asset_id) if market else "?",
                side=fill.side.value,
                price=price_decimal(fill.price),
                size=size_decimal(fill.size),
                fee=cash_decimal(fill.fee),
                liquidity=fill.liquidity,
                strategy=self._order_strategy.get(fill.order_id, ""),
            )
        )

    # -- snapshots ----------------------------------------------------------------
    def marks(self) -> dict[str, int]:
        """Mark each holding where it could be sold now: best bid, else last trade."""
        marks: dict[str, int] = {}
        for asset, pos in self.portfolio.positions.items():
            if not pos.shares:
                continue
            book = self.books.books.get(asset)
            if book is None:
                continue
            mark = book.best_bid if book.best_bid is not None else book.last_trade_price
            if mark is not None:
                marks[asset] = mark
        return marks

    def snapshot(self) -> EngineSnapshot:
        self._seq += 1
        books = self.books.books
        rows = []
        for market in self.markets:
            for outcome in market.outcomes:
                book = books.get(outcome.token_id)
                if book is None:
                    continue
                bb, ba, spread = book.best_bid, book.best_ask, book.spread()
                rows.append(
                    MarketRow(
                        asset_id=outcome.token_id,
                        market=market.condition_id,
                        question=market.question,
                        outcome=outcome.name,
                        best_bid=price_decimal(bb) if bb is not None else None,
                        best_ask=price_decimal(ba) if ba is not None else None,
                        bid_size=size_decimal(book.best_bid_size()),
                        ask_size=size_decimal(book.best_ask_size()),
                        spread=price_decimal(spread) if spread is not None else None,
                        last_trade=(
                            price_decimal(book.last_trade_price)
                            if book.last_trade_price is not None
                            else None
                        ),
                        tick=price_decimal(book.tick),
                        updates=book.updates,
                        needs_snapshot=book.needs_snapshot,
                    )
                )
        marks = self.marks()
        positions = []
        for asset, pos in self.portfolio.positions.items():
            held_in = self._by_token.get(asset)
            mark = marks.get(asset)
            avg = pos.avg_price()
            positions.append(
                PositionRow(
                    asset_id=asset,
                    question=held_in.question if held_in else "",
                    outcome=held_in.outcome_of(asset) if held_in else "?",
                    shares=size_decimal(pos.shares),
                    avg_price=price_decimal(avg) if avg is not None else None,
                    mark=price_decimal(mark) if mark is not None else None,
                    unrealized=cash_decimal(pos.shares * mark - pos.cost)
                    if mark is not None and pos.shares
                    else Decimal(0),
                    realized=cash_decimal(pos.realized),
                    fees=cash_decimal(pos.fees),
                )
            )
        c = self.counts
        problems = self.books.problems
        now = self.clock.monotonic()
        return EngineSnapshot(
            seq=self._seq,
            at=self.clock.time(),
            uptime_s=round(now - self._started, 3),
            state=self.state.value,
            mode=self.mode,
            venue=self.venue,
            markets=tuple(rows),
            positions=tuple(positions),
            recent_fills=tuple(self._recent_fills),
            reject_reasons=tuple(self._rejects.most_common(8)),
            cash=cash_decimal(self.portfolio.cash),
            equity=cash_decimal(self.portfolio.equity(marks)),
            realized_pnl=cash_decimal(self.portfolio.realized),
            unrealized_pnl=cash_decimal(self.portfolio.unrealized(marks)),
            fees=cash_decimal(self.portfolio.fees),
            counters=Counters(
                frames=self.books.counts["frames"],
                messages=c["messages"],
                bad_frames=problems["bad_frame"] + problems["bad_event"],
                gaps=problems["gap"]
                + problems["crossed"]
                + problems["no_snapshot"]
                + problems["regrid"],
                resnapshots=c["resnapshots"],
                signals=c["signals"],
                intents=c["intents"],
                orders=c["orders"],
                fills=c["fills"],
                rejects=c["rejects"],
            ),
            feed=self.feed.health.snapshot(now),
            error=self.error,
        )


def summary_dict(snap: EngineSnapshot) -> dict[str, object]:
    """The run summary: what the headless face prints and the ledger keeps."""
    c = snap.counters
    return {
        "state": snap.state,
        "mode": snap.mode,
        "venue": snap.venue,
        "uptime_s": snap.uptime_s,
        "markets": len({row.market for row in snap.markets}),
        "books": len(snap.markets),
        "frames": c.frames,
        "messages": c.messages,
        "bad_frames": c.bad_frames,
        "gaps": c.gaps,
        "resnapshots": c.resnapshots,
        "signals": c.signals,
        "orders": c.orders,
        "fills": c.fills,
        "rejects": c.rejects,
        "reject_reasons": dict(snap.reject_reasons),
        "cash": str(snap.cash),
        "equity": str(snap.equity),
        "realized_pnl": str(snap.realized_pnl),
        "unrealized_pnl": str(snap.unrealized_pnl),
        "pnl": str(snap.pnl),
        "fees": str(snap.fees),
        "open_positions": sum(1 for p in snap.positions if p.shares),
        "feed_source": snap.feed.current_source,
        "feed": {
            "ws_reconnects": snap.feed.ws_reconnects,
            "rest_requests": snap.feed.rest_requests,
            "rest_429": snap.feed.rest_429,
            "rest_5xx": snap.feed.rest_5xx,
            "fallback_reason": snap.feed.fallback_reason,
        },
        "error": snap.error,
    }

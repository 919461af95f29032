"""Builds :class:`EngineSnapshot` from the core, section by section, only where changed.

Market rows are rebuilt only for books whose version moved since the last snapshot;
positions only when the portfolio changed or a held book moved (marks); orders only when
the order tracker's version moved; fills and exits only when the router released new
ones. Unchanged sections are the previous objects, reused as they are.
"""

from __future__ import annotations

from decimal import Decimal

from engine.fixed import cash_decimal, price_decimal, size_decimal
from engine.runtime.core import EngineCore
from engine.runtime.router import EventRouter
from engine.runtime.snapshot import (
    NO_SENTIMENT,
    ArbitrageRow,
    Counters,
    EngineSnapshot,
    ExitRow,
    FillRow,
    HeadlineRow,
    KillSwitchRow,
    MarketRow,
    MarketSentimentRow,
    OrderRow,
    PositionRow,
    RateWindowRow,
    SentimentView,
    SignalRow,
    StrategyRow,
    Telemetry,
)

RECENT_HEADLINES = 30  # headlines the sentiment section shows


class SnapshotBuilder:
    def __init__(self, core: EngineCore, router: EventRouter) -> None:
        self.core = core
        self.router = router
        self._seq = 0
        self._rows: dict[str, MarketRow] = {}
        self._order: list[str] = []  # asset ids in display order
        self._markets: tuple[MarketRow, ...] = ()
        self._positions: tuple[PositionRow, ...] = ()
        self._positions_key: tuple[int, int] = (-1, -1)
        self._orders: tuple[OrderRow, ...] = ()
        self._orders_version = -1
        self._fills_version = -1
        self._fills: tuple[FillRow, ...] = ()
        self._exits: tuple[ExitRow, ...] = ()
        self._marks_epoch = 0
        self._arbitrage: tuple[ArbitrageRow, ...] = ()
        self._arbitrage_version = -1
        self._sentiment_markets: tuple[MarketSentimentRow, ...] = ()
        self._headlines: tuple[HeadlineRow, ...] = ()
        self._sentiment_version = -1
        self._signals: tuple[SignalRow, ...] = ()
        self._signals_version = -1

    def describe(self, asset_id: str) -> tuple[str, str]:
        market = self.core.by_token.get(asset_id)
        if market is None:
            return "", "?"
        return market.question, market.outcome_of(asset_id)

    def build(self) -> EngineSnapshot:
        core = self.core
        self._seq += 1
        changed = core.changed
        if changed:
            core.changed = {}
            held = core.portfolio.positions
            if any(a in held for a in changed):
                self._marks_epoch += 1
            self._update_markets(changed)
        marks = core.marks()
        key = (core.portfolio_version, self._marks_epoch)
        if key != self._positions_key:
            self._positions_key = key
            self._positions = self._build_positions(marks)
        if core.tracker.version != self._orders_version:
            self._orders_version = core.tracker.version
            self._orders = self._build_orders()
        if self.router.version != self._fills_version:
            self._fills_version = self.router.version
            self._fills = tuple(self.router.recent_fills)
            self._exits = tuple(self.router.recent_exits)
        if core.baskets.arbitrage_version != self._arbitrage_version:
            self._arbitrage_version = core.baskets.arbitrage_version
            self._arbitrage = tuple(reversed(core.baskets.arbitrage.values()))
        if core.signals_version != self._signals_version:
            self._signals_version = core.signals_version
            self._signals = tuple(
                SignalRow(
                    asset, s.at, s.strategies, s.side, s.is_exit, s.decision, s.order_id is not None
                )
                for asset, s in core.last_signals.items()
            )
        portfolio = core.portfolio
        counts = core.counts
        problems = core.books.problems
        now = core.clock.monotonic()
        return EngineSnapshot(
            seq=self._seq,
            at=core.clock.time(),
            uptime_s=round(max(0.0, now - core.started_at), 3),
            state=core.state.value,
            mode=core.mode,
            venue=core.venue,
            run_id=core.run_id,
            markets=self._markets,
            positions=self._positions,
            orders=self._orders,
            fills=self._fills,
            exits=self._exits,
            reject_reasons=tuple(core.rejects.most_common(8)),
            starting_cash=cash_decimal(portfolio.starting_cash),
            cash=cash_decimal(portfolio.cash),
            equity=cash_decimal(core.values.equity()),
            realized_pnl=cash_decimal(portfolio.realized),
            unrealized_pnl=cash_decimal(core.values.unrealized()),
            fees=cash_decimal(portfolio.fees),
            counters=Counters(
                frames=core.books.counts["frames"],
                messages=counts["messages"],
                bad_frames=problems["bad_frame"] + problems["bad_event"],
                gaps=problems["gap"]
                + problems["crossed"]
                + problems["no_snapshot"]
                + problems["regrid"],
                resnapshots=counts["resnapshots"],
                signals=counts["signals"],
                intents=counts["intents"],
                orders=counts["orders"],
                fills=counts["fills"],
                rejects=counts["rejects"],
                settlements=counts["settlements"],
                baskets=counts["baskets"],
                baskets_traded=counts["baskets_traded"],
                headlines=counts["headlines"],
            ),
            feed=core.health.snapshot(now),
            kill_switch=self._kill_switch(),
            rate_windows=tuple(
                RateWindowRow(
                    w.scope, w.key, w.used, w.limit, w.interval_s, round(w.resets_in_s, 3)
                )
                for w in core.risk.limiter.levels(core.clock.time(), near=0.5)
            ),
            telemetry=self._telemetry(),
            exit_reasons=tuple(core.exit_reasons.most_common()),
            last_sizing=core.last_sizing,
            error=core.error,
            arbitrage=self._arbitrage,
            strategies=self._strategies(),
            sentiment=self._sentiment(),
            signals=self._signals,
        )

    def _strategies(self) -> tuple[StrategyRow, ...]:
        """Per strategy: activity, and PnL split into spread paid, fees and price moves."""
        core = self.core
        unrealized: dict[str, int] = {}
        positions = core.portfolio.positions
        values = core.values
        for lot in core.exits.all():
            asset = lot.asset_id
            pos = positions.get(asset)
            value = values.value(asset)
            if pos is None or not pos.shares or value is None or asset in values.unmarked:
                continue
            # The lot's share of the holding's worth (a set's credit included), less its cost.
            worth = value * lot.shares // pos.shares
            unrealized[lot.strategy] = unrealized.get(lot.strategy, 0) + worth - lot.cost
        weights = {s.name: s.weight for s in core.strategies}
        stats = core.attribution.stats
        names = list(weights) + [n for n in stats if n not in weights and n]
        rows = []
        for name in names:
            st = stats.get(name)
            if st is None:
                st = core.attribution.of(name)
            open_pnl = unrealized.get(name, 0)
            pnl = st.realized + open_pnl
            rows.append(
                StrategyRow(
                    name=name,
                    weight=weights.get(name),
                    signals=st.signals,
                    detected=st.detected,
                    orders=st.orders,
                    fills=st.fills,
                    realized=cash_decimal(st.realized),
                    unrealized=cash_decimal(open_pnl),
                    pnl=cash_decimal(pnl),
                    spread_paid=cash_decimal(st.spread_paid),
                    fees=cash_decimal(st.fees),
                    price_moves=cash_decimal(pnl + st.spread_paid + st.fees),
                )
            )
        return tuple(rows)

    def _sentiment(self) -> SentimentView:
        core = self.core
        book = core.sentiment
        status = core.sentiment_status
        if book is None and status is None:
            return NO_SENTIMENT
        if book is not None and core.sentiment_version != self._sentiment_version:
            self._sentiment_version = core.sentiment_version
            questions = {m.condition_id: m.question for m in core.markets}
            readings = sorted(book.readings().values(), key=lambda r: -r.updated_at)
            self._sentiment_markets = tuple(
                MarketSentimentRow(
                    market=r.market,
                    question=questions.get(r.market, ""),
                    sentiment=round(r.score, 4),
                    sentiment_confidence=round(r.confidence, 4),
                    sentiment_source=r.source,
                    sentiment_updated_at=r.updated_at,
                    headline=r.headline,
                )
                for r in readings
            )
            self._headlines = tuple(
                HeadlineRow(
                    at=item.headline.published_at,
                    provider=item.headline.provider,
                    source=item.headline.source,
                    title=item.headline.title,
                    url=item.headline.url,
                    score=round(item.score, 4),
                    confidence=round(item.confidence, 4),
                    markets=tuple(questions.get(m, m) for m in item.markets),
                )
                for item in book.recent(RECENT_HEADLINES)
            )
        if status is None:
            return SentimentView("", "", None, "", None, self._sentiment_markets, self._headlines)
        view = status.snapshot()
        fresh = view.freshness(core.clock.time())
        return SentimentView(
            source=view.provider,
            state=view.state,
            freshness_s=None if fresh is None else round(fresh, 3),
            fallback=view.fallback,
            last_error=view.last_error or None,
            markets=self._sentiment_markets,
            headlines=self._headlines,
        )

    def _kill_switch(self) -> KillSwitchRow:
        view = self.core.risk.kill_switch.view(self.core.clock.time())
        return KillSwitchRow(
            state=str(view.state),
            baseline=cash_decimal(view.baseline),
            loss=cash_decimal(view.loss),
            limit=cash_decimal(view.limit),
            tripped_at=view.tripped_at,
            cooldown_until=view.cooldown_until,
            recovery_scale=round(view.recovery_scale, 4),
            next_reset=view.next_reset,
            killed_by=view.killed_by,
        )

    def _telemetry(self) -> Telemetry:
        t = self.core.telemetry
        fills = t["entries"] + t["exits"]
        slipped = t["slippage_fills"]
        return Telemetry(
            entries=t["entries"],
            exits=t["exits"],
            taker=t["taker"],
            maker=t["maker"],
            fees=cash_decimal(t["fees"]),
            avg_notional=cash_decimal(t["notional"] // fills) if fills else None,
            avg_slippage_bps=round(t["slippage_bps_x100"] / slipped / 100, 2) if slipped else None,
            resized=self.core.counts["resized"],
            approved=self.core.counts["entry_orders"],
            refused=self.core.counts["entry_refused"],
        )

    def _update_markets(self, changed: dict[str, None]) -> None:
        core = self.core
        books = core.books.books
        rows = self._rows
        reorder = False
        for asset in changed:
            market = core.by_token.get(asset)
            book = books.get(asset)
            if market is None or book is None:
                continue
            old = rows.get(asset)
            if (
                old is not None
                and old.version == book.updates
                and old.needs_snapshot == (book.needs_snapshot)
            ):
                continue
            bb, ba = book.best_bid, book.best_ask
            last = book.last_trade_price
            rows[asset] = MarketRow(
                asset_id=asset,
                market=market.condition_id,
                question=market.question,
                outcome=market.outcome_of(asset),
                best_bid=_price(bb) if bb is not None else None,
                best_ask=_price(ba) if ba is not None else None,
                bid_size=_size(book.best_bid_size()),
                ask_size=_size(book.best_ask_size()),
                spread=_price(ba - bb) if bb is not None and ba is not None else None,
                last_trade=_price(last) if last is not None else None,
                tick=_price(book.tick),
                version=book.updates,
                needs_snapshot=book.needs_snapshot,
                volume_24h=market.volume_24h,
            )
            if old is None:
                reorder = True
        if reorder:
            self._order = [t for m in core.markets for t in m.token_ids if t in rows]
        self._markets = tuple(rows[a] for a in self._order)

    def _build_positions(self, marks: dict[str, int]) -> tuple[PositionRow, ...]:
        out = []
        for asset, pos in self.core.portfolio.positions.items():
            question, outcome = self.describe(asset)
            mark = marks.get(asset)
            value = self.core.values.value(asset)
            avg = pos.avg_price()
            out.append(
                PositionRow(
                    asset_id=asset,
                    question=question,
                    outcome=outcome,
                    shares=size_decimal(pos.shares),
                    avg_price=price_decimal(avg) if avg is not None else None,
                    mark=price_decimal(mark) if mark is not None else None,
                    # Its worth now less its cost: a complete YES/NO set counts at no
                    # less than the 1 it pays (engine.execution.valuation).
                    unrealized=cash_decimal(value - pos.cost)
                    if mark is not None and value is not None
                    else Decimal(0),
                    realized=cash_decimal(pos.realized),
                    fees=cash_decimal(pos.fees),
                )
            )
        return tuple(out)

    def _build_orders(self) -> tuple[OrderRow, ...]:
        out = []
        for order_id, tracked in self.core.tracker.open.items():
            req = tracked.request
            question, outcome = self.describe(req.asset_id)
            out.append(
                OrderRow(
                    order_id=order_id,
                    asset_id=req.asset_id,
                    question=question,
                    outcome=outcome,
                    side=req.side.value,
                    order_type=req.order_type.value,
                    price=price_decimal(req.price),
                    size=size_decimal(req.size),
                    filled=size_decimal(tracked.filled),
                    status=tracked.status.value,
                    strategy=req.strategy,
                    created_at=req.created_at,
                )
            )
        return tuple(out)


# A snapshot of 2,000 books converts up to 12,000 numbers to Decimal ten times a second;
# prices come from 10,001 values and the sizes at the touch repeat, so memoise both.
_MEMO_MAX = 1 << 15
_prices: dict[int, Decimal] = {}
_sizes: dict[int, Decimal] = {}


def _price(value: int) -> Decimal:
    try:
        return _prices[value]
    except KeyError:
        if len(_prices) >= _MEMO_MAX:
            _prices.clear()
        out = _prices[value] = price_decimal(value)
        return out


def _size(value: int) -> Decimal:
    try:
        return _sizes[value]
    except KeyError:
        if len(_sizes) >= _MEMO_MAX:
            _sizes.clear()
        out = _sizes[value] = size_decimal(value)
        return out

"""Builds :class:`EngineSnapshot` from the engine's components, section by section, only
where changed.

Market rows are rebuilt only for books whose version moved since the last snapshot (read
from the books themselves: there is no second dirty set); positions only when the account
or a holding's mark changed; orders only when the order tracker's version moved; fills
and exits only when the router released new ones. Unchanged sections are the previous
objects, reused as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

from engine.fixed import cash_decimal, price_decimal, size_decimal
from engine.runtime.components import LastSignal
from engine.runtime.core import EngineCore
from engine.runtime.router import EventRouter
from engine.runtime.snapshot import (
    NO_SENTIMENT,
    ArbitrageRow,
    Counters,
    DepthRow,
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
    TradePrintRow,
    TradingBlockRow,
)

RECENT_HEADLINES = 30  # headlines the sentiment section shows
DEPTH_LEVELS = 12  # levels per side of the watched book


class SnapshotBuilder:
    def __init__(self, core: EngineCore, router: EventRouter) -> None:
        self.core = core
        self.router = router
        parts = core.parts
        self._intake = parts.intake
        self._registry = parts.registry
        self._oms = parts.oms
        self._accounting = parts.accounting
        self._screen = parts.screen
        self._refusals = parts.refusals
        self._baskets = parts.baskets
        self._restart = parts.restart
        self._attribution = parts.attribution
        self._prints = parts.prints
        self._seq = 0
        self._rows: dict[str, MarketRow] = {}
        # Per token, the raw figures its row was made from (see _update_markets).
        self._tops: dict[str, tuple[object, ...]] = {}
        self._order: list[str] = []  # asset ids in display order
        self._markets: tuple[MarketRow, ...] = ()
        self._markets_key: tuple[int, int] = (-1, -1)
        self._rows_moved = False  # rows rebuilt since the section was last assembled
        self._rows_new = False  # and one of them new (the display order changes)
        self._assembled = False  # update_rows made the section since the last build
        self._listed_version = -1  # the registry's version when rows were last pruned
        # Per position and open order: what its row was made from, and the row.
        self._position_rows: dict[str, tuple[tuple[object, ...], PositionRow]] = {}
        self._order_rows: dict[str, tuple[tuple[object, ...], OrderRow]] = {}
        self._positions: tuple[PositionRow, ...] = ()
        self._positions_key: tuple[int, dict[str, int]] = (-1, {})
        self._orders: tuple[OrderRow, ...] = ()
        self._orders_version = -1
        self._fills_version = -1
        self._fills: tuple[FillRow, ...] = ()
        self._exits: tuple[ExitRow, ...] = ()
        self._arbitrage: tuple[ArbitrageRow, ...] = ()
        self._arbitrage_version = -1
        self._sentiment_markets: tuple[MarketSentimentRow, ...] = ()
        self._headlines: tuple[HeadlineRow, ...] = ()
        self._sentiment_version = -1
        self._signals: tuple[SignalRow, ...] = ()
        self._signals_version = -1
        self._signal_rows: dict[str, tuple[LastSignal, SignalRow]] = {}
        self._depth: DepthRow | None = None
        self._depth_key: tuple[str | None, int, int] = (None, -1, -1)

    def describe(self, asset_id: str) -> tuple[str, str]:
        return self._registry.describe(asset_id)

    def build(self, prepared: bool = False) -> EngineSnapshot:
        """The snapshot as of now. `prepared`: :meth:`prepare` has just run to its end,
        and the market section its chunked pass made is taken as it is (a book that
        moved since shows in the next snapshot). Every other section is read now, so
        fills, orders, positions and the account agree; what prepare made of them is
        kept unless something moved in the few turns since."""
        core = self.core
        intake = self._intake
        accounting = self._accounting
        oms = self._oms
        refusals = self._refusals
        baskets = self._baskets
        self._seq += 1
        books = intake.books
        markets_key = (books.counts["frames"], self._registry.version)
        assembled, self._assembled = self._assembled, False
        if prepared and assembled:
            pass  # made a chunk a loop turn: not walked again in one go here
        elif markets_key != self._markets_key or self._rows_moved or self._rows_new:
            self._markets_key = markets_key
            self._update_markets()
        self._refresh_positions()
        self._refresh_orders()
        self._refresh_signals()
        if self.router.version != self._fills_version:
            self._fills_version = self.router.version
            self._fills = tuple(self.router.recent_fills)
            self._exits = tuple(self.router.recent_exits)
        if baskets.arbitrage_version != self._arbitrage_version:
            self._arbitrage_version = baskets.arbitrage_version
            self._arbitrage = tuple(reversed(baskets.arbitrage.values()))
        portfolio = accounting.portfolio
        problems = books.problems
        now = core.clock.monotonic()
        counts = core.counts
        return EngineSnapshot(
            seq=self._seq,
            at=core.clock.time(),
            uptime_s=round(max(0.0, now - core.started_at), 3),
            state=core.state,
            mode=core.mode,
            venue=core.venue,
            run_id=core.run_id,
            markets=self._markets,
            positions=self._positions,
            orders=self._orders,
            fills=self._fills,
            exits=self._exits,
            reject_reasons=tuple(refusals.rejects.most_common(8)),
            starting_cash=cash_decimal(portfolio.starting_cash),
            cash=cash_decimal(portfolio.cash),
            equity=cash_decimal(accounting.values.equity()),
            realized_pnl=cash_decimal(portfolio.realized),
            unrealized_pnl=cash_decimal(accounting.values.unrealized()),
            fees=cash_decimal(portfolio.fees),
            counters=Counters(
                frames=books.counts["frames"],
                messages=intake.counts["messages"],
                bad_frames=problems["bad_frame"] + problems["bad_event"],
                gaps=problems["gap"]
                + problems["crossed"]
                + problems["no_snapshot"]
                + problems["regrid"],
                resnapshots=intake.counts["resnapshots"],
                signals=counts["signals"] + baskets.counts["signals"],
                intents=counts["intents"],
                orders=oms.counts["orders"],
                fills=accounting.counts["fills"],
                rejects=refusals.counts["rejects"],
                settlements=accounting.counts["settlements"],
                baskets=baskets.counts["baskets"],
                baskets_traded=baskets.counts["baskets_traded"],
                headlines=counts["headlines"],
                unknown_fills=oms.counts["unknown_fills"],
                duplicate_fills=oms.counts["duplicate_fills"],
            ),
            feed=intake.health.snapshot(now),
            kill_switch=self._kill_switch(),
            rate_windows=tuple(
                RateWindowRow(
                    w.scope, w.key, w.used, w.limit, w.interval_s, round(w.resets_in_s, 3)
                )
                for w in self._screen.gate.limiter.levels(core.clock.time(), near=0.5)
            ),
            telemetry=self._telemetry(),
            exit_reasons=tuple(accounting.exit_reasons.most_common()),
            last_sizing=self._screen.last_sizing,
            error=core.error,
            frame_to_order=core.latency.view(),
            arbitrage=self._arbitrage,
            strategies=self._strategies(),
            sentiment=self._sentiment(),
            signals=self._signals,
            trading_blocks=tuple(
                TradingBlockRow(b.reason, b.detail, b.since) for b in oms.blocks.values()
            ),
            exit_kinds=tuple(accounting.exit_kinds.most_common()),
            depth=self._watched_depth(),
        )

    def _watched_depth(self) -> DepthRow | None:
        asset = self.core.watched
        if asset is None:
            return None
        book = self._intake.books.books.get(asset)
        key = (asset, -1 if book is None else book.updates, self._prints.version)
        if key == self._depth_key:
            return self._depth
        self._depth_key = key
        if book is None:
            self._depth = None
            return None
        self._depth = DepthRow(
            asset_id=asset,
            bids=tuple((_price(p), _size(s)) for p, s in book.top_bids(DEPTH_LEVELS)),
            asks=tuple((_price(p), _size(s)) for p, s in book.top_asks(DEPTH_LEVELS)),
            tick=_price(book.tick),
            trades=tuple(
                TradePrintRow(at, _price(p), _size(n), side)
                for at, p, n, side in self._prints.of(asset)
            ),
        )
        return self._depth

    def _strategies(self) -> tuple[StrategyRow, ...]:
        """Per strategy: activity, and PnL split into spread paid, fees and price moves."""
        core = self.core
        unrealized: dict[str, int] = {}
        positions = self._accounting.portfolio.positions
        values = self._accounting.values
        for lot in self._accounting.lots.all():
            asset = lot.asset_id
            pos = positions.get(asset)
            value = values.value(asset)
            if pos is None or not pos.shares or value is None or asset in values.unmarked:
                continue
            # The lot's share of the holding's worth (a set's credit included), less its cost.
            worth = value * lot.shares // pos.shares
            unrealized[lot.strategy] = unrealized.get(lot.strategy, 0) + worth - lot.cost
        weights = {s.name: s.weight for s in core.strategies}
        stats = self._attribution.stats
        names = list(weights) + [n for n in stats if n not in weights and n]
        rows = []
        for name in names:
            st = stats.get(name)
            if st is None:
                st = self._attribution.of(name)
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
            questions = {m.condition_id: m.question for m in self._registry.markets}
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
        view = self._screen.gate.kill_switch.view(self.core.clock.time())
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
        t = self._accounting.telemetry
        fills = t["entries"] + t["exits"]
        slipped = t["slippage_fills"]
        approved = (
            self.core.counts["entry_orders"]
            + self._baskets.counts["entry_orders"]
            + self._restart.counts["entry_orders"]
        )
        return Telemetry(
            entries=t["entries"],
            exits=t["exits"],
            taker=t["taker"],
            maker=t["maker"],
            fees=cash_decimal(t["fees"]),
            avg_notional=cash_decimal(t["notional"] // fills) if fills else None,
            avg_slippage_bps=round(t["slippage_bps_x100"] / slipped / 100, 2) if slipped else None,
            resized=self._screen.resized,
            approved=approved,
            refused=self._refusals.counts["entry_refused"],
        )

    def prepare(self, chunk: int, budget_s: float = 0.0) -> Iterator[None]:
        """What :meth:`build` would remake, a part a loop turn: the market rows
        (:meth:`update_rows`), then the signals, positions and orders sections, a turn
        each. ``build(prepared=True)`` then finds them current unless something moved
        meanwhile (made in one go they held the loop ~0.6 ms at 250 markets, ~4 ms with
        hundreds of orders)."""
        yield from self.update_rows(chunk, budget_s)
        self._refresh_signals()
        yield
        self._refresh_positions()
        yield
        self._refresh_orders()
        yield

    def _refresh_signals(self) -> None:
        version = self.core.signals_version
        if version != self._signals_version:
            self._signals_version = version
            self._signals = self._build_signals()

    def _refresh_positions(self) -> None:
        accounting = self._accounting
        marks = accounting.marks()
        key = (accounting.version, marks)
        if key != self._positions_key:
            self._positions_key = key
            self._positions = self._build_positions(marks)

    def _refresh_orders(self) -> None:
        version = self._oms.tracker.version
        if version != self._orders_version:
            self._orders_version = version
            self._orders = self._build_orders()

    def update_rows(self, chunk: int, budget_s: float = 0.0) -> Iterator[None]:
        """Bring the market rows up to date `chunk` tokens at a time, yielding once a
        turn has spent `budget_s` (0: after every chunk): the live runner reads frames in
        between, so a snapshot at 1,000 markets never holds the loop for the whole pass.
        The section is assembled at the end, for ``build(prepared=True)`` to take."""
        # Token ids only: 2,000 (id, market) pairs a pass, alive across loop turns, were
        # young objects for every collector pass meanwhile.
        self._assembled = False
        registry = self._registry
        key = (self._intake.books.counts["frames"], registry.version)
        tokens = list(registry.by_token)
        monotonic = self.core.clock.monotonic
        since = monotonic()
        for i in range(0, len(tokens), chunk):
            self._update_rows(tokens[i : i + chunk])
            if monotonic() - since >= budget_s:
                yield
                since = monotonic()
        self._markets_key = key
        self._assemble()
        self._assembled = True

    def _update_markets(self) -> None:
        """Rows of books whose shown figures (best prices and sizes, last trade, tick,
        re-snapshot state, winner) moved since they were made; the section object stays
        when none did."""
        self._update_rows(self._registry.by_token)
        self._assemble()

    def _assemble(self) -> None:
        """The section from the rows as they are: the same object when none moved."""
        registry = self._registry
        rows = self._rows
        reorder, self._rows_new = self._rows_new, False
        moved, self._rows_moved = self._rows_moved, False
        if registry.version != self._listed_version:
            self._listed_version = registry.version
            gone = [a for a in rows if a not in registry.by_token]
            if gone:
                # A market no longer listed (taken off the watch list): its rows go.
                tops = self._tops
                for asset in gone:
                    del rows[asset]
                    tops.pop(asset, None)
                reorder = True
        if reorder:
            self._order = [t for m in registry.markets for t in m.token_ids if t in rows]
        if moved or reorder:  # else the section as it was (the same object)
            self._markets = tuple(map(rows.__getitem__, self._order))

    def _update_rows(self, tokens: Iterable[str]) -> None:
        """Rebuild the rows of these tokens whose books moved; notes that some did (and
        whether a row is new) for the section's next assembly."""
        registry = self._registry
        books = self._intake.books.books
        rows = self._rows
        reorder = False
        tops = self._tops
        moved = False
        by_token = registry.by_token
        for asset in tokens:
            book = books.get(asset)
            market = by_token.get(asset)
            if book is None or market is None:
                continue  # no book yet, or the market was taken off since the pass began
            old = rows.get(asset)
            winner = registry.resolved.get(market.condition_id)
            if (
                old is not None
                and old.version == book.updates
                and old.needs_snapshot == book.needs_snapshot
                and old.winner == winner
            ):
                continue
            bids, asks = book.bid_prices, book.ask_prices
            bb = bids[-1] if bids else None
            ba = asks[0] if asks else None
            last = book.last_trade_price
            # What the row shows, as the book holds it: most updates move a level below
            # the top, and the row (Decimals and all, ~500 a pass at 250 markets) stays.
            top = (
                bb,
                ba,
                book.bid_sizes[bb] if bb is not None else 0,
                book.ask_sizes[ba] if ba is not None else 0,
                last,
                book.tick,
                book.needs_snapshot,
                winner,
            )
            if old is not None and tops.get(asset) == top:
                continue
            tops[asset] = top
            moved = True
            rows[asset] = MarketRow(
                asset_id=asset,
                market=market.condition_id,
                question=market.question,
                outcome=market.outcome_of(asset),
                best_bid=_price(bb) if bb is not None else None,
                best_ask=_price(ba) if ba is not None else None,
                bid_size=_size(top[2]),
                ask_size=_size(top[3]),
                spread=_price(ba - bb) if bb is not None and ba is not None else None,
                last_trade=_price(last) if last is not None else None,
                tick=_price(book.tick),
                version=book.updates,
                needs_snapshot=book.needs_snapshot,
                volume_24h=market.volume_24h,
                complement=market.complement_of(asset),
                end_date=market.end_date,
                slug=market.slug,
                accepting_orders=market.accepting_orders and not market.closed,
                winner=winner,
            )
            if old is None:
                reorder = True
        if moved:
            self._rows_moved = True
        if reorder:
            self._rows_new = True

    def _build_signals(self) -> tuple[SignalRow, ...]:
        """A row per token's last signal; a row whose signal is the same object as before is
        the row made then (a new signal on one token rebuilt every token's row: ~1,000
        objects a snapshot at 1,000 markets, for the collector to chase)."""
        made = self._signal_rows
        rows = []
        for asset, s in self.core.last_signals.items():
            cached = made.get(asset)
            if cached is None or cached[0] is not s:
                row = SignalRow(
                    asset,
                    s.at,
                    s.strategies,
                    s.side.value,
                    s.is_exit,
                    s.decision.text,
                    s.order_id is not None,
                    s.decision.kind,
                )
                made[asset] = (s, row)
            else:
                row = cached[1]
            rows.append(row)
        return tuple(rows)

    def _build_positions(self, marks: dict[str, int]) -> tuple[PositionRow, ...]:
        """A row per position; one whose figures did not move is the row made before (a
        busy run holds hundreds, closed ones included, and marks move at every snapshot:
        remaking them all took ~2.6 ms a snapshot)."""
        made = self._position_rows
        kept: dict[str, tuple[tuple[object, ...], PositionRow]] = {}
        out = []
        values = self._accounting.values
        market_of = self._registry.market_of
        listed = self._registry.version
        for asset, pos in self._accounting.portfolio.positions.items():
            mark = marks.get(asset)
            value = values.value(asset)
            key = (pos.shares, pos.cost, pos.realized, pos.fees, mark, value, listed)
            cached = made.get(asset)
            if cached is not None and cached[0] == key:
                row = cached[1]
            else:
                question, outcome = self.describe(asset)
                market = market_of(asset)
                avg = pos.avg_price()
                row = PositionRow(
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
                    dust=market is not None and 0 < pos.shares < market.min_order_size,
                )
            kept[asset] = (key, row)
            out.append(row)
        self._position_rows = kept
        return tuple(out)

    def _build_orders(self) -> tuple[OrderRow, ...]:
        """A row per open order; one whose state did not move is the row made before."""
        made = self._order_rows
        kept: dict[str, tuple[tuple[object, ...], OrderRow]] = {}
        out = []
        listed = self._registry.version
        for order_id, tracked in self._oms.tracker.open.items():
            req = tracked.request
            key = (
                req,
                tracked.filled,
                tracked.status,
                tracked.venue_id,
                tracked.venue_status,
                listed,
            )
            cached = made.get(order_id)
            if cached is not None and cached[0] == key:
                row = cached[1]
            else:
                question, outcome = self.describe(req.asset_id)
                row = OrderRow(
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
                    venue_id=tracked.venue_id,
                    venue_status=tracked.venue_status,
                )
            kept[order_id] = (key, row)
            out.append(row)
        self._order_rows = kept
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

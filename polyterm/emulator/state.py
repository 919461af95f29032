"""The emulator's exchange: markets with mirrored YES/NO books and their wire events.

Every book change goes through :meth:`EmuMarket.set_level`, which keeps the NO book the
exact mirror of the YES book (a YES bid at p is a NO ask at 1 - p, as on the real CLOB)
and records the wire ``price_change`` entries for both tokens. User orders are matched
with the engine's matching core, so paper fills and emulator fills share one truth.

Every timestamp (wire ``timestamp`` fields, ``created_at``, trade times, price history)
comes from the exchange's :class:`~engine.clock.Clock`: on a ``SimClock`` the same seed
and the same steps give byte-identical messages.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import deque
from collections.abc import Callable
from typing import Any

from engine.clock import Clock, SystemClock
from engine.fixed import ONE, format_price, format_size
from engine.market.book import OrderBook
from engine.market.fees import FeeSchedule
from engine.market.markets import MarketInfo
from engine.orders import Side

Event = dict[str, Any]


def _ms(clock: Clock) -> int:
    """Wire timestamps: integer unix milliseconds."""
    return int(clock.time() * 1000)


class EmuMarket:
    def __init__(self, info: MarketInfo, fair: float, clock: Clock | None = None) -> None:
        self.info = info
        # The Exchange that holds this market rebinds it to its own clock.
        self.clock: Clock = clock if clock is not None else SystemClock()
        yes_id, no_id = info.token_ids
        self.yes = OrderBook(yes_id, info.condition_id, info.tick)
        self.no = OrderBook(no_id, info.condition_id, info.tick)
        self.yes.tick_known = self.no.tick_known = True
        self.fair = fair
        self.seq = 0
        self.resting: list[Any] = []  # user orders resting here (trading.EmuOrder)
        self.history: deque[tuple[int, str]] = deque(maxlen=2000)
        self.headline_bias = 0.0
        # A YES/NO mispricing: the NO book shows an ask here that the YES book does not
        # mirror (a stale quote the venue has not matched yet). None: books mirror exactly.
        self.detached_no_ask: int | None = None
        self.resolved = False
        self.winner = ""  # the winning token id once resolved

    @property
    def fees(self) -> FeeSchedule:
        return self.info.fees

    def book_of(self, token_id: str) -> OrderBook | None:
        if token_id == self.yes.asset_id:
            return self.yes
        if token_id == self.no.asset_id:
            return self.no
        return None

    def _hash(self) -> str:
        self.seq += 1
        return hashlib.sha1(f"{self.info.condition_id}:{self.seq}".encode()).hexdigest()

    def _entry(self, book: OrderBook, is_bid: bool, price: int, size: int, h: str) -> Event:
        bb, ba = book.best_bid, book.best_ask
        return {
            "asset_id": book.asset_id,
            "price": format_price(price),
            "size": format_size(size),
            "side": "BUY" if is_bid else "SELL",
            "hash": h,
            "best_bid": format_price(bb) if bb is not None else "0",
            "best_ask": format_price(ba) if ba is not None else "1",
        }

    def set_level(
        self, book: OrderBook, is_bid: bool, price: int, size: int, changes: list[Event]
    ) -> None:
        other = self.no if book is self.yes else self.yes
        detached = self.detached_no_ask
        if detached is not None:
            no_is_bid, no_price = (is_bid, price) if book is self.no else (not is_bid, ONE - price)
            # While detached, the NO book keeps its stale ask and never shows a bid that
            # would cross it; both come back in line when the mispricing closes.
            if no_price == detached or (no_is_bid and no_price >= detached):
                h = self._hash()
                book.set_level(is_bid, price, size)
                book.hash = h
                changes.append(self._entry(book, is_bid, price, size, h))
                return
        book.set_level(is_bid, price, size)
        other.set_level(not is_bid, ONE - price, size)
        h = self._hash()
        book.hash = other.hash = h
        changes.append(self._entry(book, is_bid, price, size, h))
        changes.append(self._entry(other, not is_bid, ONE - price, size, h))

    def set_no_only(self, is_bid: bool, price: int, size: int, changes: list[Event]) -> None:
        """Change the NO book alone (a mispricing opening or closing)."""
        self.no.set_level(is_bid, price, size)
        h = self._hash()
        self.no.hash = h
        changes.append(self._entry(self.no, is_bid, price, size, h))

    def resync_no(self, changes: list[Event]) -> None:
        """Bring the NO book back to the exact mirror of the YES book."""
        self.detached_no_ask = None
        yes, no = self.yes, self.no
        for no_is_bid, want in (
            (True, {ONE - p: s for p, s in yes.ask_sizes.items()}),
            (False, {ONE - p: s for p, s in yes.bid_sizes.items()}),
        ):
            have = no.bid_sizes if no_is_bid else no.ask_sizes
            for price in sorted(set(have) | set(want)):
                if have.get(price, 0) != want.get(price, 0):
                    self.set_no_only(no_is_bid, price, want.get(price, 0), changes)

    def user_size_at(self, yes_is_bid: bool, yes_price: int) -> int:
        return sum(
            o.resting.remaining
            for o in self.resting
            if o.resting is not None and o.yes_is_bid == yes_is_bid and o.yes_price == yes_price
        )

    def book_message(self, book: OrderBook) -> Event:
        return {
            "event_type": "book",
            "market": self.info.condition_id,
            "asset_id": book.asset_id,
            "timestamp": str(_ms(self.clock)),
            "hash": book.hash or self._hash(),
            "bids": [
                {"price": format_price(p), "size": format_size(s)}
                for p, s in reversed(book.levels(True))
            ],
            "asks": [
                {"price": format_price(p), "size": format_size(s)}
                for p, s in reversed(book.levels(False))
            ],
            "tick_size": format_price(book.tick),
            "min_order_size": format_size(self.info.min_order_size),
            "neg_risk": self.info.neg_risk,
            "last_trade_price": (
                format_price(book.last_trade_price) if book.last_trade_price is not None else ""
            ),
        }

    def mid(self) -> float | None:
        return self.yes.mid()


class Exchange:
    """Markets and their wire events. Book changes append to `market_outbox`.

    User orders live in :class:`polyterm.emulator.trading.Trading`, which registers
    itself as `resting_fills`: the flow's trades reach resting user orders through it.
    """

    def __init__(self, markets: list[EmuMarket], clock: Clock | None = None) -> None:
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.markets = markets
        self.by_token: dict[str, EmuMarket] = {}
        self.by_condition: dict[str, EmuMarket] = {}
        for m in markets:
            m.clock = self.clock  # one clock for the whole exchange
            self.by_condition[m.info.condition_id] = m
            for t in m.info.token_ids:
                self.by_token[t] = m
        self.market_outbox: list[Event] = []
        # Markets left out at start-up, by reason (e.g. a recording without token ids).
        self.skipped: dict[str, int] = {}
        # Neg-risk events: event id -> (slug, title, outcome markets in order).
        self.events: dict[str, tuple[str, str, list[EmuMarket]]] = {}
        self.headlines: deque[dict[str, Any]] = deque(maxlen=500)
        # Headline numbers (their URLs) only ever increase: numbering by the deque's length
        # repeated one URL once it was full, and readers dedupe by URL.
        self._headline_numbers = itertools.count(1)
        self.resting_fills: Callable[[EmuMarket, bool, int, int], object] | None = None

    def next_headline_number(self) -> int:
        return next(self._headline_numbers)

    def add_market(self, market: EmuMarket) -> None:
        """List one more market (seeded at start-up or by ``POST /_admin/markets/new``)."""
        market.clock = self.clock
        self.markets.append(market)
        self.by_condition[market.info.condition_id] = market
        for t in market.info.token_ids:
            self.by_token[t] = market

    def now_ms(self) -> int:
        """The exchange clock as a wire timestamp (unix milliseconds)."""
        return _ms(self.clock)

    # -- flow-side fills of resting user orders --------------------------------------
    def fill_resting(
        self, market: EmuMarket, yes_is_bid: bool, yes_price: int, traded: int
    ) -> None:
        """A flow trade of `traded` hit YES level (side, price): advance user queues."""
        if self.resting_fills is not None and market.resting:
            self.resting_fills(market, yes_is_bid, yes_price, traded)

    def shrink_queues(self, market: EmuMarket, yes_is_bid: bool, yes_price: int) -> None:
        """A level shrank by cancels: user orders there cannot be further back."""
        yes = market.yes
        visible = (yes.bid_sizes if yes_is_bid else yes.ask_sizes).get(yes_price, 0)
        user = market.user_size_at(yes_is_bid, yes_price)
        for order in market.resting:
            if order.resting and order.yes_is_bid == yes_is_bid and order.yes_price == yes_price:
                order.resting.on_level_size(max(visible - user, 0))

    # -- wire events --------------------------------------------------------------
    def _price_change(self, market: EmuMarket, changes: list[Event]) -> None:
        self.market_outbox.append(
            {
                "event_type": "price_change",
                "market": market.info.condition_id,
                "price_changes": changes,
                "timestamp": str(self.now_ms()),
            }
        )

    def _last_trade(
        self, market: EmuMarket, book: OrderBook, price: int, size: int, side: Side
    ) -> None:
        book.last_trade_price = price
        book.last_trade_size = size
        book.last_trade_side = side.value
        self.market_outbox.append(
            {
                "event_type": "last_trade_price",
                "asset_id": book.asset_id,
                "market": market.info.condition_id,
                "price": format_price(price),
                "size": format_size(size),
                "side": side.value,
                "fee_rate_bps": str(market.fees.rate_bps),
                "timestamp": str(self.now_ms()),
            }
        )
        market.history.append((int(self.clock.time()), format_price(price)))

"""The book builder: applies decoded market events to one OrderBook per token.

It is shared by the live feed, tape replay, ``polyterm book`` and the benchmarks, so
reconstruction has one implementation. Problems never raise out of here: each is
counted under a short reason, reported once through ``on_problem`` and, when a book can
no longer be trusted, the token is queued for a REST re-snapshot.

Input is hostile until checked. An event is applied whole or not at all: every price is
checked to lie in (0, 1), every size to be a non-negative decimal within ``MAX_SIZE``,
every tick to be one of the venue's, every side to be BUY or SELL, before any book is
touched; a frame that is not JSON, not a market message, of the wrong JSON types or
nested deeper than any real message is a bad frame. Either way it is counted, reported
and skipped, and the books stay as they were.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

import msgspec

from engine.adapters.polymarket.wire.market import (
    FRAME_DECODER,
    BestBidAskEvent,
    BookEvent,
    LastTradePriceEvent,
    MarketEvent,
    MarketResolvedEvent,
    NewMarketEvent,
    PriceChangeEvent,
    TickSizeChangeEvent,
    decode_market_frame,
    is_malformed,
)
from engine.fixed import PRICE_SCALE, SIZE_DIGITS, parse_price, parse_size
from engine.market.book import VENUE_TICKS, OrderBook

ProblemSink = Callable[[str], None]
TradeListener = Callable[[str, int, int, str], None]  # asset, price, size, taker side


def _ts(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


# The largest level size taken: a billion shares (1e15 size units), past any real book
# and far inside what the ledger's 64-bit INTEGER holds for sizes and their notional.
MAX_SIZE = 10**15


@lru_cache(maxsize=1 << 14)
def _reported_best(text: str | None) -> int | None:
    """A best price reported by the venue; '0' and '1' are how it says 'no level'."""
    if text is None:
        return None
    value = parse_price(text)
    if value == 0 or value == PRICE_SCALE:
        return -1
    if value > PRICE_SCALE:
        raise ValueError(f"best price {text!r} is outside (0, 1)")
    return value


# Wire prices and sizes repeat endlessly; on the per-message path a plain dict lookup
# (~20 ns) beats even lru_cache's C wrapper (~60 ns). Only values that passed their
# checks are memoised (a price in (0, 1), a size within MAX_SIZE): a hit needs no check,
# a miss parses and checks, and a bad value raises every time. A memo that grows past
# MEMO_MAX starts over, so odd input cannot grow it without bound.
MEMO_MAX = 1 << 16
_prices: dict[str, int] = {}
_sizes: dict[str, int] = {}
_bests: dict[str, int] = {}


def _price_miss(text: str) -> int:
    value = parse_price(text)
    if not 0 < value < PRICE_SCALE:
        raise ValueError(f"price {text!r} is outside (0, 1)")
    if len(_prices) >= MEMO_MAX:
        _prices.clear()
    _prices[text] = value
    return value


# 10**(6 - n): scales a size with n decimals (the wire's usual 0-6) to 1e-6 units.
_SIZE_SCALES: tuple[int, ...] = tuple(10 ** (SIZE_DIGITS - n) for n in range(SIZE_DIGITS + 1))


def _size_miss(text: str) -> int:
    # Sizes repeat far less than prices (a quarter of them miss the memo on a busy
    # tape): the common shape, ASCII digits with at most six decimals, is read with one
    # int() of the digits; anything else (signs, exponents, more decimals, stray bytes)
    # takes parse_size, which accepts and refuses exactly as before.
    whole, _, frac = text.partition(".")
    n = len(frac)
    if (
        n <= SIZE_DIGITS
        and whole.isascii()
        and whole.isdigit()
        and (not n or (frac.isascii() and frac.isdigit()))
    ):
        value = int(whole + frac) * _SIZE_SCALES[n]
    else:
        value = parse_size(text)
    if value > MAX_SIZE:
        raise ValueError(f"size {text!r} is beyond any book")
    if len(_sizes) >= MEMO_MAX:
        _sizes.clear()
    _sizes[text] = value
    return value


def _best_miss(text: str) -> int:
    value = _reported_best(text)
    assert value is not None
    if len(_bests) >= MEMO_MAX:
        _bests.clear()
    _bests[text] = value
    return value


def _price(text: str) -> int:
    try:
        return _prices[text]
    except KeyError:
        return _price_miss(text)


def _size(text: str) -> int:
    try:
        return _sizes[text]
    except KeyError:
        return _size_miss(text)


def _tick(text: str) -> int:
    value = parse_price(text)
    if value not in VENUE_TICKS:
        raise ValueError(f"tick size {text!r} is not one of the venue's (0.1 ... 0.0001)")
    return value


def _last_price(text: str | None) -> int | None:
    """A book's optional last trade price: absent, "" or "0" mean none yet."""
    if not text or text == "0":
        return None
    return _price(text)


# One checked price_change entry: asset, is a bid, price, size, the venue's best bid and
# best ask after it (None: not reported), the book hash.
_Staged = tuple[str, bool, int, int, int | None, int | None, str]


class BookStore:
    def __init__(self, on_problem: ProblemSink | None = None) -> None:
        self.books: dict[str, OrderBook] = {}
        self.counts: Counter[str] = Counter()
        self.problems: Counter[str] = Counter()
        # Insertion-ordered (a dict, not a set) so decisions visit books in a fixed order:
        # a replay must not depend on string hashing.
        self.dirty: dict[str, None] = {}
        self.needs_snapshot: set[str] = set()
        # Books marked untrusted since the owner last took them (a venue message can flag
        # a book it does not change: its tradeable quote is gone all the same).
        self.flagged: dict[str, None] = {}
        self.resolved: dict[str, str] = {}  # market -> winning asset id
        self.new_markets: list[NewMarketEvent] = []  # one per market, in arrival order
        self.trade_listeners: list[TradeListener] = []
        self._on_problem = on_problem
        self._ts_text, self._ts = "0", 0  # the last price_change timestamp read
        # Dispatch on the exact event type: one dict lookup, not an isinstance chain.
        self._handlers: dict[type, Callable[[Any], None]] = {
            PriceChangeEvent: self._price_change,
            BookEvent: self._book,
            LastTradePriceEvent: self._last_trade,
            TickSizeChangeEvent: self._tick_size,
            BestBidAskEvent: self._best_bid_ask,
            MarketResolvedEvent: self._market_resolved,
            NewMarketEvent: self._new_market,
        }

    # -- entry points -------------------------------------------------------------
    def apply_frame(self, raw: bytes | str) -> int:
        """Decode and apply one frame; returns how many events were applied.

        The socket path: one msgspec decode straight into typed events; only a frame
        that fails it (untagged, unknown type, a bad field) takes the slow path that
        keeps the good objects (:func:`decode_market_frame`), with the same counts.
        """
        try:
            decoded = FRAME_DECODER.decode(raw)
        except (msgspec.DecodeError, RecursionError):
            return self.apply_decoded(*decode_market_frame(raw))
        self.counts["frames"] += 1
        events = decoded if isinstance(decoded, list) else (decoded,)
        self._apply_events(events)
        return len(events)

    def apply_decoded(self, events: list[MarketEvent], errors: list[str]) -> int:
        """Apply what :func:`decode_market_frame` made of one frame."""
        self.counts["frames"] += 1
        for reason in errors:
            self.problem("bad_frame", reason)
        self._apply_events(events)
        return len(events)

    def _apply_events(self, events: Iterable[MarketEvent]) -> None:
        """Each event of one frame to its handler. Price changes and trades (nearly every
        event) go straight to their uncounted handlers, counted once for the frame: a
        Counter update per event costs as much as a small handler's work."""
        handlers = self._handlers
        apply_price_change = self._apply_price_change
        apply_last_trade = self._apply_last_trade
        changes = trades = 0
        try:
            for event in events:
                kind = type(event)
                try:
                    if kind is PriceChangeEvent:
                        changes += 1
                        apply_price_change(event)  # type: ignore[arg-type]
                    elif kind is LastTradePriceEvent:
                        trades += 1
                        apply_last_trade(event)  # type: ignore[arg-type]
                    else:
                        handlers[kind](event)
                except (ValueError, KeyError) as exc:
                    self.problem("bad_event", f"{kind.__name__}: {exc}")
        finally:  # counted even if something unexpected escapes mid-frame
            counts = self.counts
            if changes:
                counts["price_change"] += changes
            if trades:
                counts["last_trade_price"] += trades

    def apply_frames(
        self,
        frames: Iterable[bytes | str],
        on_malformed: Callable[[str, bytes | str], Exception] | None = None,
    ) -> None:
        """:meth:`apply_frame` for each frame in turn, with the per-frame calls hoisted
        out of the loop (the replay path). A frame that is not JSON is counted like any
        bad frame, under the reason ``on_malformed(reason, frame)`` gives when given (a
        file reader names its line); an exception it returns that is ``fatal`` (a file
        cut short mid-line) is raised instead."""
        decode = FRAME_DECODER.decode
        counts = self.counts
        apply_events = self._apply_events
        for raw in frames:
            try:
                decoded = decode(raw)
            except (msgspec.DecodeError, RecursionError):
                events, errors = decode_market_frame(raw)
                if on_malformed and errors and not events and is_malformed(errors[0]):
                    exc = on_malformed(errors[0].partition(": ")[2], raw)
                    if getattr(exc, "fatal", False):
                        raise exc from None
                    errors = [str(exc)]
                self.apply_decoded(events, errors)
                continue
            counts["frames"] += 1
            apply_events(decoded if isinstance(decoded, list) else (decoded,))

    def apply(self, event: MarketEvent) -> None:
        try:
            self._handlers[type(event)](event)
        except (ValueError, KeyError) as exc:
            self.problem("bad_event", f"{type(event).__name__}: {exc}")

    def _market_resolved(self, event: MarketResolvedEvent) -> None:
        self.counts["market_resolved"] += 1
        self.resolved[event.market] = event.winning_asset_id

    def _new_market(self, event: NewMarketEvent) -> None:
        # Every market connection with custom features gets it: keep the first.
        self.counts["new_market"] += 1
        if all(e.market != event.market for e in self.new_markets):
            self.new_markets.append(event)

    def problem(self, kind: str, reason: str) -> None:
        self.problems[kind] += 1
        if self._on_problem is not None:
            self._on_problem(f"{kind}: {reason}")

    def book(self, asset_id: str, market: str = "") -> OrderBook:
        book = self.books.get(asset_id)
        if book is None:
            book = self.books[asset_id] = OrderBook(asset_id, market)
        elif market and not book.market:
            book.market = market
        return book

    def list_book(self, asset_id: str, market: str, tick: int, min_order_size: int) -> OrderBook:
        """The book of a token a market listing names, with the listing's tick and minimum
        order size (the venue's own figures: the tick is then never inferred from prices)."""
        book = self.book(asset_id, market)
        book.tick = tick
        book.tick_known = True
        book.min_order_size = min_order_size
        return book

    def mark_needs_snapshot(self, book: OrderBook, why: str) -> None:
        if not book.needs_snapshot:
            book.needs_snapshot = True
            self.needs_snapshot.add(book.asset_id)
            self.flagged[book.asset_id] = None
            self.problem(why, f"{book.asset_id[:12]}… queued for re-snapshot")

    # -- handlers -----------------------------------------------------------------
    def _book(self, ev: BookEvent) -> None:
        self.counts["book"] += 1
        # Every field checked before the book is touched (raising leaves it as it was).
        tick = _tick(ev.tick_size) if ev.tick_size else None
        min_size = _size(ev.min_order_size) if ev.min_order_size else None
        bids = [(_price(lv.price), _size(lv.size)) for lv in ev.bids]
        asks = [(_price(lv.price), _size(lv.size)) for lv in ev.asks]
        last = _last_price(ev.last_trade_price)
        book = self.book(ev.asset_id, ev.market)
        ts = _ts(ev.timestamp)
        if ts and ts < book.timestamp_ms:
            self.problem("stale", f"book for {ev.asset_id[:12]}… older than the one held")
            if book.needs_snapshot:
                # Still untrusted: ask again (the engine spaces retries out), never give up.
                self.needs_snapshot.add(book.asset_id)
            return
        if tick is not None:
            book.tick = tick
            book.tick_known = True
        if min_size is not None:
            book.min_order_size = min_size
        book.replace(bids, asks, ts, ev.hash)
        if last is not None:
            book.last_trade_price = last
        self.needs_snapshot.discard(book.asset_id)
        self.dirty[book.asset_id] = None
        if book.is_crossed():
            self.mark_needs_snapshot(book, "crossed")

    def _price_change(self, ev: PriceChangeEvent) -> None:
        self.counts["price_change"] += 1
        self._apply_price_change(ev)

    def _apply_price_change(self, ev: PriceChangeEvent) -> None:
        # The hot path (uncounted: the frame loops count these in bulk): kept flat and
        # local-variable heavy on purpose; OrderBook.set_level and is_crossed are inlined
        # (same logic) because a call costs as much as the work.
        text = ev.timestamp
        if text == self._ts_text:  # a frame's events share their timestamp: parsed once
            ts = self._ts
        else:
            try:
                ts = int(text)
            except ValueError:
                ts = 0
            self._ts_text, self._ts = text, ts
        prices_memo, sizes_memo, bests_memo = _prices, _sizes, _bests
        changes = ev.price_changes
        if changes is None:
            changes = ev.entries()
        # Checked whole before any book moves: a bad entry raises here and leaves every
        # book as it was. Each text is looked up once and its number staged for the
        # passes below (the checks run in the order they always did: side, price, size,
        # bests, so a bad event is reported with the same reason).
        staged: list[_Staged] = []
        for entry in changes:
            side = entry.side
            if side == "BUY":
                is_bid = True
            elif side == "SELL":
                is_bid = False
            else:
                raise ValueError(f"price_change side {side!r} is neither BUY nor SELL")
            text = entry.price
            try:
                price = prices_memo[text]
            except KeyError:
                price = _price_miss(text)
            text = entry.size
            try:
                size = sizes_memo[text]
            except KeyError:
                size = _size_miss(text)
            # The venue's own best bid/ask, compared after the change: checked now.
            reported = entry.best_bid
            best_bid = None
            if reported is not None:
                try:
                    best_bid = bests_memo[reported]
                except KeyError:
                    best_bid = _best_miss(reported)
            reported = entry.best_ask
            best_ask = None
            if reported is not None:
                try:
                    best_ask = bests_memo[reported]
                except KeyError:
                    best_ask = _best_miss(reported)
            staged.append((entry.asset_id, is_bid, price, size, best_bid, best_ask, entry.hash))
        books = self.books
        # Each changed book's last entry, in the order the books first appear (the
        # venue's bests describe the book after the event's last change to it).
        last: dict[str, _Staged] = {}
        for change in staged:
            asset, is_bid, price, size = change[0], change[1], change[2], change[3]
            book = books.get(asset)
            if book is None:
                book = self.book(asset, ev.market)
            if ts:
                if ts < book.timestamp_ms:
                    self.problems["stale"] += 1
                    continue
                book.timestamp_ms = ts
            if is_bid:
                sizes, prices = book.bid_sizes, book.bid_prices
            else:
                sizes, prices = book.ask_sizes, book.ask_prices
            if size > 0:
                if price not in sizes:
                    insort(prices, price)
                sizes[price] = size
            elif price in sizes:
                del sizes[price]
                del prices[bisect_left(prices, price)]
            book.updates += 1
            last[asset] = change
        dirty = self.dirty
        for asset, (_, _, _, _, best_bid, best_ask, book_hash) in last.items():
            book = books[asset]
            # Keyed by the book's own id (the books dict's key), not the frame's copy of
            # it: every later lookup of a changed book then matches by identity instead
            # of comparing 77 characters.
            dirty[book.asset_id] = None
            if book_hash:
                book.hash = book_hash
            if not book.has_snapshot:
                self.mark_needs_snapshot(book, "no_snapshot")
                continue
            bids, asks = book.bid_prices, book.ask_prices
            if bids and asks and bids[-1] >= asks[0]:
                self.mark_needs_snapshot(book, "crossed")
            elif best_bid is not None and best_bid != (bids[-1] if bids else -1):
                # The venue's own best bid/ask: disagreeing means we missed a message.
                self.mark_needs_snapshot(book, "gap")
            elif best_ask is not None and best_ask != (asks[0] if asks else -1):
                self.mark_needs_snapshot(book, "gap")

    def _check_bests(self, book: OrderBook, best_bid: str | None, best_ask: str | None) -> None:
        """The venue tells us its best bid/ask; disagreeing means we missed a message."""
        bid = _reported_best(best_bid)
        ask = _reported_best(best_ask)
        bids, asks = book.bid_prices, book.ask_prices
        ours_bid = bids[-1] if bids else -1
        ours_ask = asks[0] if asks else -1
        if (bid is not None and bid != ours_bid) or (ask is not None and ask != ours_ask):
            self.mark_needs_snapshot(book, "gap")

    def _last_trade(self, ev: LastTradePriceEvent) -> None:
        self.counts["last_trade_price"] += 1
        self._apply_last_trade(ev)

    def _apply_last_trade(self, ev: LastTradePriceEvent) -> None:
        # Uncounted (the frame loops count trades in bulk); the memo lookups inlined.
        text = ev.price
        try:
            price = _prices[text]
        except KeyError:
            price = _price_miss(text)
        text = ev.size
        if not text:
            size = 0
        else:
            try:
                size = _sizes[text]
            except KeyError:
                size = _size_miss(text)
        side = ev.side
        if side != "BUY" and side != "SELL" and side != "":
            raise ValueError(f"last_trade_price side {side!r} is neither BUY nor SELL")
        asset = ev.asset_id
        book = self.books.get(asset)
        if book is None or (ev.market and not book.market):
            book = self.book(asset, ev.market)
        book.last_trade_price = price
        book.last_trade_size = size
        book.last_trade_side = side
        asset = book.asset_id  # the books dict's own key (see _apply_price_change)
        self.dirty[asset] = None
        for listener in self.trade_listeners:
            listener(asset, price, size, side)

    def _tick_size(self, ev: TickSizeChangeEvent) -> None:
        self.counts["tick_size_change"] += 1
        tick = _tick(ev.new_tick_size)
        book = self.book(ev.asset_id, ev.market)
        if book.set_tick(tick):
            self.mark_needs_snapshot(book, "regrid")
        self.dirty[ev.asset_id] = None

    def _best_bid_ask(self, ev: BestBidAskEvent) -> None:
        self.counts["best_bid_ask"] += 1
        book = self.books.get(ev.asset_id)
        if book is not None and book.has_snapshot and not book.needs_snapshot:
            self._check_bests(book, ev.best_bid, ev.best_ask)

    # -- views --------------------------------------------------------------------
    def take_dirty(self) -> dict[str, None]:
        """The books the frames applied since the last call changed, in change order."""
        dirty, self.dirty = self.dirty, {}
        return dirty

    def take_flagged(self) -> dict[str, None]:
        """The books marked untrusted since the last call, changed or not."""
        flagged, self.flagged = self.flagged, {}
        return flagged

    def take_needs_snapshot(self) -> list[str]:
        wanted = sorted(self.needs_snapshot)
        self.needs_snapshot.clear()
        return wanted

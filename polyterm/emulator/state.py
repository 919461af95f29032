"""The emulator's exchange: markets with mirrored YES/NO books, accounts and orders.

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
from dataclasses import dataclass, field
from typing import Any

from engine.clock import Clock, SystemClock
from engine.execution.matching import RestingOrder, check_order, match_taker
from engine.fixed import (
    ONE,
    SIZE_DIGITS,
    format_fixed,
    format_price,
    format_size,
)
from engine.market.book import OrderBook
from engine.market.fees import FeeSchedule
from engine.market.markets import MarketInfo
from engine.orders import OrderType, Side

Event = dict[str, Any]


def _ms(clock: Clock) -> int:
    """Wire timestamps: integer unix milliseconds."""
    return int(clock.time() * 1000)


@dataclass(slots=True)
class EmuOrder:
    id: str
    owner: str  # api key
    maker_address: str
    market: EmuMarket
    token_id: str
    side: Side
    price: int
    original_size: int
    order_type: OrderType
    created_at: int
    size_matched: int = 0
    status: str = "LIVE"
    associate_trades: list[str] = field(default_factory=list)
    # Where the order rests in YES coordinates (the flow only moves the YES book).
    resting: RestingOrder | None = None
    yes_is_bid: bool = True
    yes_price: int = 0

    def wire(self) -> dict[str, Any]:
        return {
            "associate_trades": list(self.associate_trades),
            "id": self.id,
            "status": self.status,
            "market": self.market.info.condition_id,
            "original_size": format_size(self.original_size),
            "outcome": self.market.info.outcome_of(self.token_id),
            "maker_address": self.maker_address,
            "owner": self.owner,
            "price": format_price(self.price),
            "side": self.side.value,
            "size_matched": format_size(self.size_matched),
            "asset_id": self.token_id,
            "expiration": None,
            "order_type": self.order_type.value,
            "created_at": self.created_at,
        }


@dataclass(slots=True)
class Account:
    api_key: str
    secret: str
    passphrase: str
    address: str
    collateral: int  # cash units (1e-10)
    tokens: dict[str, int] = field(default_factory=dict)  # token -> shares (1e-6)


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
        self.resting: list[EmuOrder] = []
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


class OrderError(ValueError):
    """The venue refuses an order; the message is what goes in ``errorMsg``."""


class Exchange:
    """Markets, accounts and orders. Mutations append wire events to `outbox`."""

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
        self.accounts: dict[str, Account] = {}
        self.orders: dict[str, EmuOrder] = {}
        self.trades: list[dict[str, Any]] = []
        self.market_outbox: list[Event] = []
        # Markets left out at start-up, by reason (e.g. a recording without token ids).
        self.skipped: dict[str, int] = {}
        # Neg-risk events: event id -> (slug, title, outcome markets in order).
        self.events: dict[str, tuple[str, str, list[EmuMarket]]] = {}
        self.user_outbox: list[tuple[str, Event]] = []  # (api key, event)
        self.headlines: deque[dict[str, Any]] = deque(maxlen=500)
        # Headline numbers (their URLs) only ever increase: numbering by the deque's length
        # repeated one URL once it was full, and readers dedupe by URL.
        self._headline_numbers = itertools.count(1)
        self._ids = itertools.count(1)

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

    # -- accounts -----------------------------------------------------------------
    def account_for(self, api_key: str) -> Account | None:
        return self.accounts.get(api_key)

    def add_account(self, account: Account) -> None:
        self.accounts[account.api_key] = account

    # -- orders -------------------------------------------------------------------
    def _new_id(self) -> str:
        return "0x" + hashlib.sha256(f"order:{next(self._ids)}".encode()).hexdigest()

    def place(
        self,
        account: Account,
        token_id: str,
        side: Side,
        price: int,
        size: int,
        order_type: OrderType,
        post_only: bool = False,
    ) -> EmuOrder:
        market = self.by_token.get(token_id)
        book = market.book_of(token_id) if market else None
        if market is None or book is None:
            raise OrderError(f"unknown token id {token_id[:16]}")
        if market.resolved:
            raise OrderError("market is resolved; it no longer accepts orders")
        reason = check_order(price, size, book.tick, market.info.min_order_size)
        if reason:
            raise OrderError(f"invalid order: {reason}")
        opposite_best = book.best_ask if side is Side.BUY else book.best_bid
        crosses = opposite_best is not None and (
            opposite_best <= price if side is Side.BUY else opposite_best >= price
        )
        if post_only and crosses:
            raise OrderError("invalid post-only order: order crosses book")
        self._check_funds(account, token_id, side, price, size)
        order = EmuOrder(
            id=self._new_id(),
            owner=account.api_key,
            maker_address=account.address,
            market=market,
            token_id=token_id,
            side=side,
            price=price,
            original_size=size,
            order_type=order_type,
            created_at=int(self.clock.time()),
        )
        changes: list[Event] = []
        result = match_taker(
            book,
            side,
            price,
            size,
            market.fees,
            fill_or_kill=order_type is OrderType.FOK,
        )
        if result.reject:
            order.status = "CANCELED"
            self._order_event(order, "CANCELLATION", status=f"CANCELED_{result.reject}")
            return order
        for level_price, take in result.fills:
            is_bid_level = side is Side.SELL
            left = book.bid_sizes[level_price] if is_bid_level else book.ask_sizes[level_price]
            market.set_level(book, is_bid_level, level_price, left - take, changes)
            if book is market.yes:
                self.fill_resting(market, is_bid_level, level_price, take)
            else:
                self.fill_resting(market, not is_bid_level, ONE - level_price, take)
            fee = market.fees.taker_fee(level_price, take)
            self._settle(account, token_id, side, level_price, take, fee)
            order.size_matched += take
            self._trade(order, level_price, take, fee, "TAKER")
            self._last_trade(market, book, level_price, take, side)
        if changes:
            self._price_change(market, changes)
        remaining = size - order.size_matched
        if remaining and order_type in (OrderType.GTC, OrderType.GTD):
            self._rest(order, book, remaining)
            self._order_event(order, "PLACEMENT")
        elif remaining:
            order.status = "CANCELED"
            self._order_event(order, "CANCELLATION")
        else:
            order.status = "MATCHED"
            self._order_event(order, "UPDATE")
        self.orders[order.id] = order
        return order

    def _check_funds(self, account: Account, token: str, side: Side, price: int, size: int) -> None:
        if side is Side.BUY:
            if account.collateral < price * size:
                raise OrderError("not enough balance / allowance")
        elif account.tokens.get(token, 0) < size:
            raise OrderError("not enough balance / allowance")

    def _settle(
        self, acct: Account, token: str, side: Side, price: int, size: int, fee: int
    ) -> None:
        if side is Side.BUY:
            acct.collateral -= price * size + fee
            acct.tokens[token] = acct.tokens.get(token, 0) + size
        else:
            acct.collateral += price * size - fee
            acct.tokens[token] = acct.tokens.get(token, 0) - size

    def _rest(self, order: EmuOrder, book: OrderBook, remaining: int) -> None:
        market = order.market
        is_bid = order.side is Side.BUY
        if book is market.yes:
            order.yes_is_bid, order.yes_price = is_bid, order.price
        else:
            order.yes_is_bid, order.yes_price = not is_bid, ONE - order.price
        yes = market.yes
        sizes = yes.bid_sizes if order.yes_is_bid else yes.ask_sizes
        ahead = sizes.get(order.yes_price, 0)
        order.resting = RestingOrder(order.id, order.side, order.price, remaining, ahead)
        market.resting.append(order)
        changes: list[Event] = []
        market.set_level(yes, order.yes_is_bid, order.yes_price, ahead + remaining, changes)
        self._price_change(market, changes)

    def cancel(self, account: Account, order_id: str) -> str | None:
        """Cancel one order; returns a reason when it cannot be cancelled."""
        order = self.orders.get(order_id)
        if order is None or order.owner != account.api_key:
            return "order not found"
        if order.resting is None or order.status != "LIVE":
            return "already canceled or matched"
        market = order.market
        market.resting.remove(order)
        yes = market.yes
        sizes = yes.bid_sizes if order.yes_is_bid else yes.ask_sizes
        left = sizes.get(order.yes_price, 0) - order.resting.remaining
        order.resting = None
        order.status = "CANCELED"
        changes: list[Event] = []
        market.set_level(yes, order.yes_is_bid, order.yes_price, max(left, 0), changes)
        self._price_change(market, changes)
        self._order_event(order, "CANCELLATION")
        return None

    def open_orders(self, account: Account) -> list[EmuOrder]:
        return [
            o for o in self.orders.values() if o.owner == account.api_key and o.status == "LIVE"
        ]

    # -- flow-side fills of resting user orders --------------------------------------
    def fill_resting(
        self, market: EmuMarket, yes_is_bid: bool, yes_price: int, traded: int
    ) -> None:
        """A flow trade of `traded` hit YES level (side, price): advance user queues."""
        for order in list(market.resting):
            resting = order.resting
            if resting is None or order.yes_is_bid != yes_is_bid or order.yes_price != yes_price:
                continue
            took = resting.on_trade(order.price, traded)
            if not took:
                continue
            account = self.accounts[order.owner]
            self._settle(account, order.token_id, order.side, order.price, took, 0)
            order.size_matched += took
            self._trade(order, order.price, took, 0, "MAKER")
            if resting.remaining == 0:
                order.status = "MATCHED"
                order.resting = None
                market.resting.remove(order)
            self._order_event(order, "UPDATE")

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

    def _order_event(self, order: EmuOrder, kind: str, status: str | None = None) -> None:
        event = order.wire()
        event.update({"event_type": "order", "type": kind, "timestamp": str(self.now_ms())})
        if status:
            event["status"] = status
        self.user_outbox.append((order.owner, event))

    def _trade(self, order: EmuOrder, price: int, size: int, fee: int, role: str) -> None:
        trade_id = f"trade-{next(self._ids)}"
        order.associate_trades.append(trade_id)
        now = str(int(self.clock.time()))
        trade: dict[str, Any] = {
            "id": trade_id,
            "taker_order_id": order.id if role == "TAKER" else "",
            "market": order.market.info.condition_id,
            "asset_id": order.token_id,
            "side": order.side.value,
            "size": format_size(size),
            "fee_rate_bps": str(order.market.fees.rate_bps),
            "fee": format_fixed(fee, SIZE_DIGITS + 4),
            "price": format_price(price),
            "status": "MATCHED",
            "match_time": now,
            "last_update": now,
            "outcome": order.market.info.outcome_of(order.token_id),
            "bucket_index": 0,
            "owner": order.owner,
            "maker_address": order.maker_address,
            "transaction_hash": "",
            "maker_orders": [],
            "trader_side": role,
        }
        self.trades.append(trade)
        self.user_outbox.append((order.owner, {"event_type": "trade", **trade}))

    def confirm_trades(self) -> None:
        """Move MATCHED trades on to CONFIRMED (the chain is instant here)."""
        now = str(int(self.clock.time()))
        for trade in self.trades:
            if trade["status"] == "MATCHED":
                trade["status"] = "CONFIRMED"
                trade["last_update"] = now
                self.user_outbox.append((trade["owner"], {"event_type": "trade", **trade}))

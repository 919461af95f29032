"""The venue's order handling: checks, funds, matching, trades and their settlement.

An accepted order is matched at once against the book (the flow's anonymous liquidity
and other users' resting orders, in queue order) with the engine's matching core; what
is left of a GTC/GTD order rests. Funds are reserved while an order rests: a resting
BUY holds price x size plus the taker fee it could pay, a resting SELL holds its shares,
so a wallet can never promise the same dollar twice (three $9.60 bids on a $10 wallet:
the second is refused). Self-trade prevention cancels the taker's own resting orders
that it would cross before it matches.

Every fill is a trade: the taker at the top level, each maker's part in ``maker_orders``.
Trades are MATCHED at once (balances move then), MINED a second later with a transaction
hash, CONFIRMED a second after that; a trade doomed by the ``fail_trades`` fault goes
RETRYING and then FAILED, and its balance changes are reversed. Each owner hears of its
orders and trades on the user channel (``outbox``: (api key, event) pairs).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.clock import Clock
from engine.execution.matching import RestingOrder, match_taker
from engine.fixed import (
    ONE,
    PRICE_SCALE,
    SIZE_SCALE,
    format_price,
    format_size,
)
from engine.market.book import OrderBook
from engine.orders import OrderType, Side
from polyterm.emulator.contracts import exchange_for
from polyterm.emulator.state import EmuMarket, Event, Exchange
from polyterm.emulator.wallets import Wallet, Wallets

FOK_NOT_FILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."
FAK_NOT_FILLED = (
    "no orders found to match with FAK order. "
    "FAK orders are partially filled or killed if no match is found."
)
POST_ONLY_CROSSES = "invalid post-only order: order crosses book"
NOT_READY = "the market is not yet ready to process new orders"
MIN_TAKER_NOTIONAL = ONE * SIZE_SCALE  # $1 in cash units
MINE_AFTER_S = 1.0
CONFIRM_AFTER_S = 2.0
_FLOW_OWNER = "00000000-0000-4000-8000-00000000f10e"  # the anonymous flow's api key
_FLOW_ADDRESS = "0x000000000000000000000000000000000000f10e"


class OrderError(ValueError):
    """The venue refuses an order; the message is what the venue answers."""


@dataclass(slots=True)
class EmuOrder:
    id: str
    owner: str  # api key
    maker_address: str  # the funder wallet
    market: EmuMarket
    token_id: str
    side: Side
    price: int
    original_size: int
    order_type: OrderType
    created_at: int
    expiration: int = 0  # unix seconds; GTD orders only
    size_matched: int = 0
    status: str = "LIVE"
    associate_trades: list[str] = field(default_factory=list)
    # Where the order rests in YES coordinates (the flow only moves the YES book).
    resting: RestingOrder | None = None
    yes_is_bid: bool = True
    yes_price: int = 0

    @property
    def remaining(self) -> int:
        return self.resting.remaining if self.resting is not None else 0

    def reserve(self) -> tuple[int, int]:
        """(collateral in cash units, shares) this order holds while it rests."""
        left = self.remaining
        if not left:
            return 0, 0
        if self.side is Side.BUY:
            return self.price * left + self.market.fees.taker_fee(self.price, left), 0
        return 0, left

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
            "expiration": str(self.expiration),
            "order_type": self.order_type.value,
            "created_at": self.created_at,
        }


@dataclass(slots=True)
class Leg:
    """One side of a trade: who gave and got what, so a failed trade can be undone."""

    owner: str
    wallet: str
    token: str
    shares: int  # + received, - delivered
    cash: int  # + received, - paid (fees included)


@dataclass(slots=True)
class Trade:
    id: str
    market: EmuMarket
    taker_order_id: str
    taker_owner: str
    taker_address: str
    asset_id: str
    side: Side  # the taker's
    price: int
    size: int
    match_time: int
    maker_orders: list[dict[str, Any]]
    legs: list[Leg]
    views: dict[str, str]  # api key -> TAKER | MAKER
    status: str = "MATCHED"
    last_update: int = 0
    matched_at: float = 0.0  # clock.monotonic() at match
    transaction_hash: str = ""
    doomed: bool = False  # the fail_trades fault: RETRYING, then FAILED

    def wire(self, viewer: str) -> dict[str, Any]:
        fees = self.market.fees
        return {
            "id": self.id,
            "taker_order_id": self.taker_order_id,
            "market": self.market.info.condition_id,
            "asset_id": self.asset_id,
            "side": self.side.value,
            "size": format_size(self.size),
            "fee_rate_bps": str(fees.rate_bps),
            "price": format_price(self.price),
            "status": self.status,
            "match_time": str(self.match_time),
            "last_update": str(self.last_update or self.match_time),
            "outcome": self.market.info.outcome_of(self.asset_id),
            "bucket_index": 0,
            "owner": self.taker_owner,
            "trade_owner": viewer,
            "maker_address": self.taker_address,
            "transaction_hash": self.transaction_hash,
            "maker_orders": [dict(m) for m in self.maker_orders],
            "trader_side": self.views.get(viewer, "TAKER"),
        }


@dataclass(frozen=True, slots=True)
class Placed:
    order: EmuOrder
    trade_ids: tuple[str, ...]
    making: int  # what the order gave: cash units (BUY) or shares (SELL)
    taking: int  # what it got: shares (BUY) or cash units (SELL)
    reject: str | None = None  # FOK/FAK killed: the venue's error


class Trading:
    """Orders, funds and trades of one emulated venue."""

    def __init__(self, exchange: Exchange, wallets: Wallets) -> None:
        self.ex = exchange
        self.clock: Clock = exchange.clock
        self.wallets = wallets
        self.orders: dict[str, EmuOrder] = {}
        self.trades: dict[str, Trade] = {}
        self.outbox: list[tuple[str, Event]] = []  # (api key, user-channel event)
        self.fail_next_trades = 0
        self._trade_ids = itertools.count(1)

    # -- funds ----------------------------------------------------------------------
    def reserved(self, wallet: str) -> tuple[int, dict[str, int]]:
        """What `wallet`'s resting orders hold: collateral (cash units), shares by token."""
        cash = 0
        shares: dict[str, int] = {}
        for order in self.orders.values():
            if order.status != "LIVE" or order.maker_address.lower() != wallet.lower():
                continue
            c, s = order.reserve()
            cash += c
            if s:
                shares[order.token_id] = shares.get(order.token_id, 0) + s
        return cash, shares

    def _check_funds(
        self, wallet: Wallet, market: EmuMarket, token: str, side: Side, price: int, size: int
    ) -> None:
        spender = exchange_for(market.info.neg_risk)
        cash, shares = self.reserved(wallet.address)
        if side is Side.BUY:
            need = price * size + market.fees.taker_fee(price, size)
            need_units = -(-need // 10**4)
            if wallet.allowance(spender) < need_units:
                raise OrderError(
                    "not enough balance / allowance: the allowance is not enough -> "
                    f"allowance: {wallet.allowance(spender)}, order amount: {need_units}"
                )
            if wallet.collateral - cash < need:
                raise OrderError(
                    "not enough balance / allowance: the balance is not enough -> "
                    f"balance: {(wallet.collateral - cash) // 10**4}, order amount: {need_units}"
                )
            return
        if not wallet.approved(spender):
            raise OrderError(
                "not enough balance / allowance: the allowance is not enough -> "
                f"allowance: 0, order amount: {size}"
            )
        free = wallet.tokens.get(token, 0) - shares.get(token, 0)
        if free < size:
            raise OrderError(
                "not enough balance / allowance: the balance is not enough -> "
                f"balance: {free}, order amount: {size}"
            )

    # -- placing --------------------------------------------------------------------
    def place(
        self,
        owner: str,
        wallet: Wallet,
        order_id: str,
        token_id: str,
        side: Side,
        price: int,
        size: int,
        order_type: OrderType,
        *,
        expiration: int = 0,
        post_only: bool = False,
        budget: int | None = None,
    ) -> Placed:
        """Check, match and rest one order; OrderError says why the venue refuses it.

        `budget` (cash units) makes a taking BUY spend up to that much at prices up to
        `price`, as a market BUY's signed makerAmount does; `size` is then the least it
        gets (its takerAmount).
        """
        market = self.ex.by_token.get(token_id)
        book = market.book_of(token_id) if market else None
        if market is None or book is None:
            raise OrderError(f"the orderbook {token_id[:16]}… does not exist")
        if market.resolved or not market.info.accepting_orders:
            raise OrderError(NOT_READY)
        if order_id in self.orders:
            raise OrderError(f"order {order_id} is invalid. Duplicated.")
        resting_type = order_type in (OrderType.GTC, OrderType.GTD)
        notional = budget if budget is not None and not resting_type else price * size
        self._check_shape(market, book, side, price, size, order_type, expiration, notional)
        if post_only:
            if not resting_type:
                raise OrderError("invalid post-only order: only GTC and GTD orders can be")
            best = book.best_ask if side is Side.BUY else book.best_bid
            if best is not None and (best <= price if side is Side.BUY else best >= price):
                raise OrderError(POST_ONLY_CROSSES)
        self._check_funds(wallet, market, token_id, side, price, size)
        order = EmuOrder(
            id=order_id,
            owner=owner,
            maker_address=wallet.address,
            market=market,
            token_id=token_id,
            side=side,
            price=price,
            original_size=size,
            order_type=order_type,
            created_at=int(self.clock.time()),
            expiration=expiration,
        )
        self._prevent_self_trade(order, book)
        fills: Sequence[tuple[int, int]]
        if budget is not None and side is Side.BUY and not resting_type:
            fills, short = _spend(book, price, budget)
            killed = order_type is OrderType.FOK and short
            filled = sum(s for _, s in fills)
            order.original_size = max(filled, size)
        else:
            result = match_taker(
                book, side, price, size, market.fees, fill_or_kill=order_type is OrderType.FOK
            )
            fills, killed, filled = result.fills, result.reject is not None, result.filled
        if killed or (order_type is OrderType.FAK and not filled):
            reason = FOK_NOT_FILLED if killed else FAK_NOT_FILLED
            order.status = "CANCELED"
            self.orders[order.id] = order
            self._order_event(order, "CANCELLATION", status=f"CANCELED_{reason}")
            return Placed(order, (), 0, 0, reject=reason)
        trade_ids = self._take(order, book, tuple(fills))
        remaining = max(0, size - order.size_matched)
        self.orders[order.id] = order
        if remaining and resting_type:
            self._rest(order, book, remaining)
            self._order_event(order, "PLACEMENT")
        elif remaining:
            order.status = "CANCELED"
            self._order_event(order, "CANCELLATION")
        else:
            order.status = "MATCHED"
            self._order_event(order, "UPDATE")
        spent = sum(p * s for p, s in fills)
        if side is Side.BUY:
            return Placed(order, trade_ids, spent, order.size_matched)
        return Placed(order, trade_ids, order.size_matched, spent)

    def _check_shape(
        self,
        market: EmuMarket,
        book: OrderBook,
        side: Side,
        price: int,
        size: int,
        order_type: OrderType,
        expiration: int,
        notional: int,
    ) -> None:
        tick = book.tick
        if not 0 < price < PRICE_SCALE:
            raise OrderError(f"invalid price ({format_price(price)}), min: 0 - max: 1")
        if order_type in (OrderType.GTC, OrderType.GTD) and price % tick:
            raise OrderError(
                f"order {format_price(price)} breaks minimum tick size rule: {format_price(tick)}"
            )
        if not tick <= price <= ONE - tick:
            raise OrderError(
                f"invalid price ({format_price(price)}), min: {format_price(tick)} - "
                f"max: {format_price(ONE - tick)}"
            )
        if size <= 0:
            raise OrderError("invalid order size: it must be positive")
        if order_type in (OrderType.GTC, OrderType.GTD):
            minimum = market.info.min_order_size
            if size < minimum:
                raise OrderError(
                    f"Size ({format_size(size)}) lower than the minimum: {format_size(minimum)}"
                )
        elif notional < MIN_TAKER_NOTIONAL:
            raise OrderError(
                f"invalid amount for a marketable {side.value} order "
                f"(${format_size(notional // ONE)}), min size: $1"
            )
        now = self.clock.time()
        if order_type is OrderType.GTD:
            if expiration <= now + 60:
                raise OrderError("invalid expiration")
        elif expiration:
            raise OrderError("invalid expiration")

    def _prevent_self_trade(self, taker: EmuOrder, book: OrderBook) -> None:
        """Cancel the taker's own resting orders on the other side that it would cross."""
        market = taker.market
        for order in list(market.resting):
            if order.maker_address.lower() != taker.maker_address.lower():
                continue
            mine = order.token_id == taker.token_id
            # Same token, other side; or the other token, same side (its mirror).
            opposite = (order.side is not taker.side) if mine else (order.side is taker.side)
            if not opposite:
                continue
            level = order.price if mine else ONE - order.price
            crosses = level <= taker.price if taker.side is Side.BUY else level >= taker.price
            if crosses:
                self._cancel(order, "CANCELED")

    def _take(
        self, order: EmuOrder, book: OrderBook, fills: tuple[tuple[int, int], ...]
    ) -> tuple[str, ...]:
        market = order.market
        side = order.side
        changes: list[Event] = []
        trade_ids: list[str] = []
        for level_price, take in fills:
            is_bid_level = side is Side.SELL
            left = book.bid_sizes[level_price] if is_bid_level else book.ask_sizes[level_price]
            market.set_level(book, is_bid_level, level_price, left - take, changes)
            if book is market.yes:
                makers = self.fill_resting(market, is_bid_level, level_price, take, taker=order)
            else:
                makers = self.fill_resting(
                    market, not is_bid_level, ONE - level_price, take, taker=order
                )
            fee = market.fees.taker_fee(level_price, take)
            legs = [
                self._settle(
                    order.owner, order.maker_address, order.token_id, side, level_price, take, fee
                )
            ]
            maker_orders = [self._maker_entry(m, took) for m, took in makers]
            anonymous = take - sum(took for _, took in makers)
            if anonymous:
                maker_orders.insert(0, self._flow_maker(market, order, level_price, anonymous))
            trade = self._trade(
                market,
                order.id,
                order.owner,
                order.maker_address,
                order.token_id,
                side,
                level_price,
                take,
                maker_orders,
                legs,
            )
            trade.views[order.owner] = "TAKER"
            for maker, took in makers:
                trade.legs.append(
                    self._settle(
                        maker.owner,
                        maker.maker_address,
                        maker.token_id,
                        maker.side,
                        maker.price,
                        took,
                        0,
                    )
                )
                trade.views.setdefault(maker.owner, "MAKER")
                maker.associate_trades.append(trade.id)
                self._order_event(maker, "UPDATE")
            order.size_matched += take
            order.associate_trades.append(trade.id)
            trade_ids.append(trade.id)
            self._publish(trade)
            self.ex._last_trade(market, book, level_price, take, side)
        if changes:
            self.ex._price_change(market, changes)
        return tuple(trade_ids)

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
        self.ex._price_change(market, changes)

    # -- cancelling -----------------------------------------------------------------
    def cancel(self, owner: str, order_id: str) -> str | None:
        """Cancel one order of `owner`; returns why it cannot be cancelled, or None."""
        order = self.orders.get(order_id)
        if order is None or order.owner != owner:
            return "order not found"
        if order.resting is None or order.status != "LIVE":
            return "already canceled or matched"
        self._cancel(order, "CANCELED")
        return None

    def _cancel(self, order: EmuOrder, status: str) -> None:
        market = order.market
        resting = order.resting
        if resting is None:
            return
        if order in market.resting:
            market.resting.remove(order)
        yes = market.yes
        sizes = yes.bid_sizes if order.yes_is_bid else yes.ask_sizes
        left = sizes.get(order.yes_price, 0) - resting.remaining
        order.resting = None
        order.status = "CANCELED"
        changes: list[Event] = []
        market.set_level(yes, order.yes_is_bid, order.yes_price, max(left, 0), changes)
        self.ex._price_change(market, changes)
        self._order_event(order, "CANCELLATION", status=status)

    def cancel_where(self, owner: str, status: str = "CANCELED", **match: str) -> list[str]:
        """Cancel `owner`'s open orders matching ``market=`` / ``asset_id=``."""
        done = []
        for order in self.open_orders(owner):
            if match.get("market") and order.market.info.condition_id != match["market"]:
                continue
            if match.get("asset_id") and order.token_id != match["asset_id"]:
                continue
            self._cancel(order, status)
            done.append(order.id)
        return done

    def open_orders(self, owner: str) -> list[EmuOrder]:
        return [o for o in self.orders.values() if o.owner == owner and o.status == "LIVE"]

    def expire(self) -> None:
        """GTD orders past their expiration leave the book."""
        now = self.clock.time()
        for order in list(self.orders.values()):
            if order.status == "LIVE" and order.expiration and order.expiration <= now:
                self._cancel(order, "CANCELED_EXPIRED_ORDER")

    def close_market(self, market: EmuMarket) -> None:
        """A resolved market cancels every order resting on it."""
        for order in list(market.resting):
            self._cancel(order, "CANCELED_MARKET_RESOLVED")

    # -- fills of resting orders ----------------------------------------------------
    def fill_resting(
        self,
        market: EmuMarket,
        yes_is_bid: bool,
        yes_price: int,
        traded: int,
        taker: EmuOrder | None = None,
    ) -> list[tuple[EmuOrder, int]]:
        """A trade of `traded` hit YES level (side, price): advance the user queues there.

        With no `taker` the taker is the anonymous flow, and each user fill is a trade
        of its own; with one, the caller records the fills in the taker's trade.
        """
        filled: list[tuple[EmuOrder, int]] = []
        for order in list(market.resting):
            resting = order.resting
            if resting is None or order.yes_is_bid != yes_is_bid or order.yes_price != yes_price:
                continue
            took = resting.on_trade(order.price, traded)
            if not took:
                continue
            order.size_matched += took
            if resting.remaining == 0:
                order.status = "MATCHED"
                order.resting = None
                market.resting.remove(order)
            filled.append((order, took))
            if taker is None:
                self._flow_fill(order, took)
        return filled

    def _flow_fill(self, order: EmuOrder, took: int) -> None:
        market = order.market
        leg = self._settle(
            order.owner, order.maker_address, order.token_id, order.side, order.price, took, 0
        )
        taker_side = order.side.opposite
        trade = self._trade(
            market,
            _flow_order_id(order.id, took),
            _FLOW_OWNER,
            _FLOW_ADDRESS,
            order.token_id,
            taker_side,
            order.price,
            took,
            [self._maker_entry(order, took)],
            [leg],
        )
        trade.views[order.owner] = "MAKER"
        order.associate_trades.append(trade.id)
        self._order_event(order, "UPDATE")
        self._publish(trade)

    # -- trades ---------------------------------------------------------------------
    def _settle(
        self, owner: str, address: str, token: str, side: Side, price: int, size: int, fee: int
    ) -> Leg:
        wallet = self.wallets.get(address)
        if side is Side.BUY:
            leg = Leg(owner, address, token, size, -(price * size + fee))
        else:
            leg = Leg(owner, address, token, -size, price * size - fee)
        self._apply(wallet, leg, 1)
        return leg

    @staticmethod
    def _apply(wallet: Wallet, leg: Leg, sign: int) -> None:
        wallet.collateral += sign * leg.cash
        wallet.tokens[leg.token] = wallet.tokens.get(leg.token, 0) + sign * leg.shares

    def _maker_entry(self, order: EmuOrder, took: int) -> dict[str, Any]:
        return {
            "order_id": order.id,
            "owner": order.owner,
            "maker_address": order.maker_address,
            "matched_amount": format_size(took),
            "price": format_price(order.price),
            "fee_rate_bps": "0",
            "asset_id": order.token_id,
            "outcome": order.market.info.outcome_of(order.token_id),
            "side": order.side.value,
        }

    def _flow_maker(
        self, market: EmuMarket, taker: EmuOrder, price: int, size: int
    ) -> dict[str, Any]:
        return {
            "order_id": _flow_order_id(taker.id, price),
            "owner": _FLOW_OWNER,
            "maker_address": _FLOW_ADDRESS,
            "matched_amount": format_size(size),
            "price": format_price(price),
            "fee_rate_bps": "0",
            "asset_id": taker.token_id,
            "outcome": market.info.outcome_of(taker.token_id),
            "side": taker.side.opposite.value,
        }

    def _trade(
        self,
        market: EmuMarket,
        taker_order_id: str,
        taker_owner: str,
        taker_address: str,
        asset_id: str,
        side: Side,
        price: int,
        size: int,
        maker_orders: list[dict[str, Any]],
        legs: list[Leg],
    ) -> Trade:
        n = next(self._trade_ids)
        trade = Trade(
            id=str(_uuid(f"trade:{n}")),
            market=market,
            taker_order_id=taker_order_id,
            taker_owner=taker_owner,
            taker_address=taker_address,
            asset_id=asset_id,
            side=side,
            price=price,
            size=size,
            match_time=int(self.clock.time()),
            maker_orders=maker_orders,
            legs=legs,
            views={},
            matched_at=self.clock.monotonic(),
        )
        if self.fail_next_trades > 0:
            self.fail_next_trades -= 1
            trade.doomed = True
        self.trades[trade.id] = trade
        return trade

    def _publish(self, trade: Trade) -> None:
        for viewer in trade.views:
            self.outbox.append(
                (viewer, {"event_type": "trade", "type": "TRADE", **trade.wire(viewer)})
            )

    def trades_of(self, owner: str) -> list[Trade]:
        return [t for t in self.trades.values() if owner in t.views]

    def advance(self) -> None:
        """Move trades along MATCHED -> MINED -> CONFIRMED (or RETRYING -> FAILED)."""
        now = self.clock.monotonic()
        for trade in self.trades.values():
            if trade.status in ("CONFIRMED", "FAILED"):
                continue
            age = now - trade.matched_at
            status = trade.status
            if trade.doomed:
                if status == "MATCHED" and age >= MINE_AFTER_S:
                    self._move(trade, "RETRYING")
                elif status == "RETRYING" and age >= CONFIRM_AFTER_S:
                    for leg in trade.legs:
                        self._apply(self.wallets.get(leg.wallet), leg, -1)
                    self._move(trade, "FAILED")
            elif status == "MATCHED" and age >= MINE_AFTER_S:
                trade.transaction_hash = "0x" + hashlib.sha256(trade.id.encode()).hexdigest()
                self._move(trade, "MINED")
            elif status == "MINED" and age >= CONFIRM_AFTER_S:
                self._move(trade, "CONFIRMED")

    def _move(self, trade: Trade, status: str) -> None:
        trade.status = status
        trade.last_update = int(self.clock.time())
        self._publish(trade)

    def _order_event(self, order: EmuOrder, kind: str, status: str | None = None) -> None:
        event = order.wire()
        event.update(
            {
                "event_type": "order",
                "type": kind,
                "order_owner": order.owner,
                "timestamp": str(self.ex.now_ms()),
            }
        )
        if status:
            event["status"] = status
        self.outbox.append((order.owner, event))


def _spend(book: OrderBook, limit: int, budget: int) -> tuple[list[tuple[int, int]], bool]:
    """A market BUY's walk: shares bought with `budget` (cash units) at asks up to
    `limit`; returns the fills and whether liquidity ran out before the budget did."""
    fills: list[tuple[int, int]] = []
    left = budget
    for price in book.ask_prices:
        if price > limit:
            break
        take = min(book.ask_sizes[price], left // price)
        if take <= 0:
            return fills, False
        fills.append((price, take))
        left -= price * take
        if left < price:
            return fills, False
    return fills, True


def _uuid(text: str) -> str:
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"


def _flow_order_id(order_id: str, salt: int) -> str:
    return "0x" + hashlib.sha256(f"flow:{order_id}:{salt}".encode()).hexdigest()

"""The live gateway: orders to Polymarket (or anything that speaks its CLOB, such as
``polyterm exchange``) through the official SDK, behind the engine's ``OrderGateway``.

What it does, and why it fails closed:

- **Orders** are limit orders with explicit prices, signed with the SDK and posted as
  GTC/GTD to rest (post-only where asked) or FAK/FOK to take (the signed price is the
  worst the order may reach). Orders waiting together go as one batch (at most 15).
  Before an order leaves, its venue id (the signed order's hash) is on disk in the
  ledger. An answer that never comes is never followed by a resend: the order is looked
  up by that id until the venue says what became of it, or that it never landed.
- A refusal's code (``not_enough_balance``, ``post_only_would_cross``, ...) is the order's
  recorded reason. A refusal for want of an allowance stops new orders with one line
  naming ``polyterm auth approve`` (the SDK's own ``place_*`` would approve on chain by
  itself; those are never called).
- **Heartbeats** feed the venue's dead-man switch; one failed or late stops new orders.
- **The user channel** reports fills and order changes through the order manager's one
  entry point; when it drops, new orders stop until it is back and reconciled.
- **Reconciliation** at start and after every reconnect or heartbeat loss (see
  :mod:`.reconcile`); new orders wait for the first one.
- **Balances** are read at start and refreshed; sizing uses the venue's pUSD.
- **The paper shadow** prices every live order with the paper model (:mod:`.shadow`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from engine.adapters.polymarket.live import sdk
from engine.adapters.polymarket.live.balances import Balances
from engine.adapters.polymarket.live.heartbeat import Heartbeats
from engine.adapters.polymarket.live.orders import VenueOrders, Working
from engine.adapters.polymarket.live.reconcile import LedgerOrder, Reconciler
from engine.adapters.polymarket.live.shadow import PaperShadow
from engine.adapters.polymarket.live.user_channel import UserChannel
from engine.adapters.polymarket.live.wire import VenueOrder, VenueTrade
from engine.adapters.polymarket.wire.user import OrderEvent, TradeEvent, UserEvent
from engine.clock import Clock
from engine.fixed import format_cash
from engine.market.markets import MarketInfo
from engine.orders import TAKING_TYPES, OrderRequest, OrderStatus, Side
from engine.ports import AccountLookup, MarketLookup
from engine.venue import (
    BlockReason,
    LiveVenueSink,
    OrderUpdate,
    TradingMode,
    VenueReport,
    VenueSink,
)

log = logging.getLogger("engine.live")

MAX_BATCH = 15  # the venue's batch limit for posting orders
MAX_CANCEL_BATCH = 3000  # and for cancelling them (DELETE /orders)
MIN_TAKING_NOTIONAL = 10**10  # $1 in cash units: the venue's least taking order
APPROVE_FIX = (
    "run `polyterm auth approve` (it lists what is missing and approves only after you "
    "type approve)"
)


@dataclass(frozen=True, slots=True)
class LiveOptions:
    """How the gateway talks to the venue, and what the ledger left it."""

    user_ws_url: str
    on_restart: str = "cancel"  # execution.on_restart
    heartbeat_interval_s: float = 5.0
    heartbeat_timeout_s: float = 3.0
    order_timeout_s: float = 10.0
    # After a lost answer, the venue is asked about the order after each of these delays;
    # not found after the last, it never landed.
    lookup_delays_s: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0)
    # After a matched answer, the trades are read over REST if the channel has not
    # brought them by then.
    settle_after_s: float = 3.0
    balance_refresh_s: float = 30.0
    reconcile_every_s: float = 60.0
    reconcile_retry_s: float = 2.0
    ping_s: float = 10.0
    stale_after_s: float = 25.0
    shadow: bool = True
    auto_redeem: bool = False  # execution.auto_redeem
    redeem_after_s: float = 2.0  # a resolution reaches the chain a little after the feed
    ledger_open: Sequence[LedgerOrder] = ()  # orders the ledger shows open
    known_venue_ids: Mapping[str, str] = field(default_factory=dict)  # venue id -> ours
    since: float = 0.0  # read trades from this time on at start (0: all)


class LiveGateway:
    name = "polymarket"
    mode = TradingMode.LIVE
    keeps_orders = True

    def __init__(
        self,
        client: Any,
        clock: Clock,
        options: LiveOptions,
        *,
        redact: Callable[[str], str] = lambda text: text,
    ) -> None:
        self._client = client
        self._clock = clock
        self.options = options
        self._redact = redact
        creds = client.credentials
        self._orders = VenueOrders(str(creds.key), str(client.wallet), self._market_of)
        self._orders.known_venue_ids.update(options.known_venue_ids)
        self.balances = Balances(client)
        self._sink: LiveVenueSink | None = None
        self._markets: MarketLookup | None = None
        self._account: AccountLookup | None = None
        self._reconciler: Reconciler | None = None
        self._shadow: PaperShadow | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._reconcile_wanted: list[str] = []
        self._reconcile_signal = asyncio.Event()
        self._allowance_missing: dict[str, str] = {}  # what an allowance refusal named
        self._balance_soon = False
        self.reconciled = asyncio.Event()  # the first reconciliation is done
        self.heartbeats = Heartbeats(
            client,
            clock,
            interval_s=options.heartbeat_interval_s,
            timeout_s=options.heartbeat_timeout_s,
            on_lost=self._heartbeat_lost,
            on_back=self._heartbeat_back,
        )
        self.channel = UserChannel(
            options.user_ws_url,
            self._triplet,
            clock,
            on_events=self._on_events,
            on_connected=self._on_connected,
            on_lost=self._channel_lost,
            ping_s=options.ping_s,
            stale_after_s=options.stale_after_s,
        )
        self._pending: list[tuple[Working, OrderRequest, Any, asyncio.Future[list[VenueReport]]]]
        self._pending = []
        self._flush_scheduled = False

    # -- the port ----------------------------------------------------------------------------
    def bind(self, sink: VenueSink, markets: MarketLookup) -> None:
        if not isinstance(markets, AccountLookup):
            raise TypeError("the live gateway reads the engine's holdings: bind it in the kernel")
        self._sink = cast(LiveVenueSink, sink)
        self._markets = markets
        self._account = markets
        self._reconciler = Reconciler(
            self._client,
            self._clock,
            self._orders,
            self.balances,
            sink=self._live_sink,
            holdings=markets.holdings,
            cash=markets.cash,
            on_restart=self.options.on_restart,
            ledger_open=self.options.ledger_open,
            since=self.options.since,
        )
        if self.options.shadow:
            self._shadow = PaperShadow(
                self._clock, markets.book, markets.market_of, sink_shadow(sink)
            )
        # Nothing goes out before the venue was heard from and the ledger reconciled.
        sink.block(BlockReason.RECONCILIATION, "not reconciled with the venue yet")
        sink.block(BlockReason.HEARTBEAT, "waiting for the first accepted order heartbeat")

    def _live_sink(self) -> LiveVenueSink:
        if self._sink is None:
            raise RuntimeError("the live gateway is not bound")
        return self._sink

    async def run(self) -> None:
        sink = self._live_sink()
        await self._check_closed_only(sink)
        if not await self.balances.refresh(update=True):
            sink.block(BlockReason.CONNECTION, "the venue's balances could not be read")
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self.heartbeats.run(), name="live-heartbeats")
                tg.create_task(self.channel.run(), name="live-user-channel")
                tg.create_task(self._reconcile_loop(), name="live-reconcile")
                tg.create_task(self._refresh_loop(), name="live-balances")
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _check_closed_only(self, sink: LiveVenueSink) -> None:
        from polymarket.errors import PolymarketError

        try:
            closed_only = await self._client.get_closed_only_mode()
        except (PolymarketError, OSError) as exc:
            log.warning("closed-only mode not read: %s", type(exc).__name__)
            return
        if closed_only:
            sink.block(
                BlockReason.CLOSED_ONLY,
                "the venue allows this account closing orders only (closed-only mode)",
            )

    # -- orders -----------------------------------------------------------------------------
    async def submit(self, order: OrderRequest) -> Sequence[VenueReport]:
        from polymarket.errors import PolymarketError

        sink = self._live_sink()
        markets = self._markets
        assert markets is not None
        book = markets.book(order.asset_id)
        market = markets.market_of(order.asset_id)
        tick = book.tick if book is not None else market.tick if market is not None else None
        if order.order_type in TAKING_TYPES and order.price * order.size < MIN_TAKING_NOTIONAL:
            # The venue refuses a taking order worth less than $1: never sent.
            raise ValueError(
                f"a taking order must be worth at least $1 at the venue "
                f"(this one: ${format_cash(order.price * order.size)})"
            )
        try:
            # Signing reads the market's metadata (cached after the first order): bounded.
            async with asyncio.timeout(self.options.order_timeout_s):
                signed = await sdk.sign(self._client, order, tick=tick, now=self._clock.time())
        except (PolymarketError, ValueError, OSError, TimeoutError) as exc:
            # Never left: the runner records it refused.
            raise ValueError(f"not signed: {self._words(exc)}") from None
        working = self._orders.add(order.order_id, signed.venue_id, signed.size, order.asset_id)
        sink.on_reports(
            [
                OrderUpdate(
                    order.order_id, OrderStatus.NEW, self._clock.time(), "signed", signed.venue_id
                )
            ]
        )
        # The ledger must hold the venue id before the order exists anywhere else: a crash
        # after this line leaves an order the next run can find by it.
        await sink.recorded()
        if self._shadow is not None:
            self._shadow.place(order)
        future: asyncio.Future[list[VenueReport]] = asyncio.get_running_loop().create_future()
        self._pending.append((working, order, signed, future))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        """Post what is waiting: one order alone, more as batches of up to 15."""
        self._flush_scheduled = False
        waiting, self._pending = self._pending, []
        for start in range(0, len(waiting), MAX_BATCH):
            self._spawn(self._post(waiting[start : start + MAX_BATCH]))

    async def _post(
        self, batch: list[tuple[Working, OrderRequest, Any, asyncio.Future[list[VenueReport]]]]
    ) -> None:
        from polymarket.errors import PolymarketError, RateLimitError, RequestRejectedError
        from polymarket.errors import TransportError as SdkTransportError

        answers: list[list[VenueReport]]
        try:
            async with asyncio.timeout(self.options.order_timeout_s):
                if len(batch) == 1:
                    answered = [await self._client.post_order(batch[0][2].order)]
                else:
                    answered = list(await self._client.post_orders([b[2].order for b in batch]))
        except RateLimitError:
            answers = [self._refused(w, o, "rate limited by the venue") for w, o, _, _ in batch]
        except RequestRejectedError as exc:
            if exc.status >= 500:
                answers = [self._unknown(w, o, f"HTTP {exc.status}") for w, o, _, _ in batch]
            else:
                answers = [self._refused(w, o, str(exc)) for w, o, _, _ in batch]
        except TimeoutError:
            answers = [self._unknown(w, o, "no answer in time") for w, o, _, _ in batch]
        except SdkTransportError as exc:
            if sdk.reached_the_venue(exc):
                answers = [self._unknown(w, o, "connection lost") for w, o, _, _ in batch]
            else:
                answers = [
                    self._refused(w, o, "the venue could not be reached") for w, o, _, _ in batch
                ]
        except PolymarketError as exc:
            answers = [self._unknown(w, o, type(exc).__name__) for w, o, _, _ in batch]
        else:
            answers = [
                self._answered(w, o, answer)
                for (w, o, _, _), answer in zip(batch, answered, strict=False)
            ]
            # A batch answered with fewer entries than orders: look the rest up.
            answers += [
                self._unknown(w, o, "missing from the batch's answer")
                for w, o, _, _ in batch[len(answered) :]
            ]
        for (_, _, _, future), reports in zip(batch, answers, strict=True):
            if not future.done():
                future.set_result(reports)

    def _answered(self, working: Working, order: OrderRequest, answer: Any) -> list[VenueReport]:
        now = self._clock.time()
        if not getattr(answer, "ok", False):
            return self._refused(working, order, str(getattr(answer, "message", "refused")))
        working.posted = True
        if answer.order_id and answer.order_id != working.venue_id:
            log.error(
                "the venue named order %s %s, not its hash %s",
                order.order_id,
                answer.order_id,
                working.venue_id,
            )
            self._orders.by_venue[str(answer.order_id)] = working
        if answer.status == "live":
            return [OrderUpdate(order.order_id, OrderStatus.LIVE, now, None, working.venue_id)]
        # Matched (in part) at once, or delayed: its trades come on the user channel; if
        # they do not soon, REST is asked.
        working.pending_trades.update(answer.trade_ids)
        self._spawn(self._settle(working, order.order_id))
        return []

    def _refused(self, working: Working, order: OrderRequest, message: str) -> list[VenueReport]:
        working.done = True
        text = self._redact(" ".join(message.split()))
        code = sdk.refusal_code(text)
        if sdk.is_allowance_refusal(text):
            self._allowance_refused(order)
        reason = text if code == "unknown" else f"{code}: {text}"
        return [OrderUpdate(order.order_id, OrderStatus.REJECTED, self._clock.time(), reason[:300])]

    def _unknown(self, working: Working, order: OrderRequest, why: str) -> list[VenueReport]:
        """The order may or may not have landed: never sent again, looked up instead."""
        log.warning(
            "order %s (%s): %s; looking it up by its hash", order.order_id, working.venue_id, why
        )
        self._spawn(self._look_up(working, order.order_id, why))
        return []

    async def _look_up(self, working: Working, order_id: str, why: str) -> None:
        reconciler = self._reconciler
        assert reconciler is not None
        from polymarket.errors import PolymarketError

        for delay in self.options.lookup_delays_s:
            await self._clock.sleep(delay)
            if working.done:
                return
            try:
                found = await reconciler.order(working.venue_id)
            except (PolymarketError, OSError):
                continue
            if found is not None:
                working.posted = True
                await self._report_order(found, reconciler)
                return
        if working.done:
            return
        working.done = True
        self._live_sink().on_reports(
            [
                OrderUpdate(
                    order_id,
                    OrderStatus.REJECTED,
                    self._clock.time(),
                    f"{why}, and the venue does not have it (looked up by its signed hash): "
                    "not sent again",
                    working.venue_id,
                )
            ]
        )

    async def _settle(self, working: Working, order_id: str) -> None:
        """A matched answer's trades, read over REST when the channel is slow."""
        await self._clock.sleep(self.options.settle_after_s)
        if working.done and not working.pending_trades:
            return
        reconciler = self._reconciler
        assert reconciler is not None
        from polymarket.errors import PolymarketError

        try:
            found = await reconciler.order(working.venue_id)
        except (PolymarketError, OSError) as exc:
            log.warning("order %s not read back: %s", order_id, type(exc).__name__)
            return
        if found is not None:
            await self._report_order(found, reconciler)

    async def _report_order(self, found: VenueOrder, reconciler: Reconciler) -> None:
        sink = self._live_sink()
        reports: list[VenueReport] = []
        for trade in await reconciler.trades_of(found):
            reports.extend(self._orders.trade_reports(trade, sink.knows_fill))
        reports.extend(self._orders.order_reports(found, self._clock.time()))
        if reports:
            sink.on_reports(reports)

    async def cancel(self, order_id: str, reason: str = "cancelled") -> Sequence[VenueReport]:
        return await self.cancel_many((order_id,), reason)

    async def cancel_many(
        self, order_ids: Sequence[str], reason: str = "cancelled"
    ) -> Sequence[VenueReport]:
        """One order by the venue's single cancel, more by its batch cancel (one request
        for up to ``MAX_CANCEL_BATCH``): each order's CANCELLED update, or what became of
        one the venue did not cancel."""
        from polymarket.errors import PolymarketError

        asked: dict[str, tuple[str, Working]] = {}  # venue id -> our id, its order
        for order_id in order_ids:
            working = self._orders.by_order.get(order_id)
            if working is not None and not working.done:  # else never signed, or finished
                asked[working.venue_id] = (order_id, working)
        if not asked:
            return ()
        if self._shadow is not None:
            for order_id, _ in asked.values():
                self._shadow.cancel(order_id, reason)
        venue_ids = list(asked)
        canceled: set[str] = set()
        try:
            for start in range(0, len(venue_ids), MAX_CANCEL_BATCH):
                chunk = venue_ids[start : start + MAX_CANCEL_BATCH]
                if len(chunk) == 1:
                    answer = await self._client.cancel_order(order_id=chunk[0])
                else:
                    answer = await self._client.cancel_orders(order_ids=chunk)
                canceled.update(str(v) for v in answer.canceled or ())
        except (PolymarketError, OSError) as exc:
            raise RuntimeError(f"cancel not confirmed: {self._words(exc)}") from None
        now = self._clock.time()
        reports: list[VenueReport] = []
        for venue_id, (order_id, working) in asked.items():
            if venue_id in canceled:
                working.done = True
                reports.append(OrderUpdate(order_id, OrderStatus.CANCELLED, now, reason, venue_id))
            elif working.posted:
                reports.extend(await self._not_cancelled(working, now))
            # Not posted: cancelled by its hash while its answer is on the way, so not
            # there (yet). Its answer (or look-up) says where it is, and the order manager
            # cancels again.
        return reports

    async def _not_cancelled(self, working: Working, now: float) -> list[VenueReport]:
        """The venue did not cancel a posted order: it filled (or finished) first. Say how."""
        from polymarket.errors import PolymarketError

        reconciler = self._reconciler
        assert reconciler is not None
        reports: list[VenueReport] = []
        try:
            found = await reconciler.order(working.venue_id)
            if found is None:
                return []
            for trade in await reconciler.trades_of(found):
                reports.extend(self._orders.trade_reports(trade, self._live_sink().knows_fill))
        except (PolymarketError, OSError) as exc:
            # The others' answers still count; this one's state comes with the next
            # reconciliation (or its user-channel message).
            log.warning(
                "cancel of %s refused, the order not read back: %s",
                working.venue_id,
                self._words(exc),
            )
            return []
        reports.extend(self._orders.order_reports(found, now))
        return reports

    # -- what the venue says unasked -------------------------------------------------------------
    def _on_events(self, events: Sequence[UserEvent]) -> None:
        sink = self._live_sink()
        now = self._clock.time()
        reports: list[VenueReport] = []
        strangers = self._orders.stranger_fills
        for event in events:
            if isinstance(event, TradeEvent):
                trade = VenueTrade.from_ws(event, now)
                reports.extend(self._orders.trade_reports(trade, sink.knows_fill))
            elif isinstance(event, OrderEvent):
                reports.extend(self._orders.order_reports(VenueOrder.from_ws(event, now), now))
        if reports:
            sink.on_reports(reports)
            if any(_is_fill(r) for r in reports):
                self._refresh_soon()
        if self._orders.stranger_fills > strangers:
            self._want_reconcile("a fill for an order the engine does not know")

    async def _on_connected(self, again: bool) -> None:
        sink = self._live_sink()
        if again:
            self._want_reconcile("the user channel reconnected")
        else:
            self._want_reconcile("start")
        del sink

    def _channel_lost(self, why: str) -> None:
        self._live_sink().block(
            BlockReason.CONNECTION,
            f"{why}: fills would go unheard; new orders wait for it and a reconciliation",
        )

    def _heartbeat_lost(self, detail: str) -> None:
        self._live_sink().block(BlockReason.HEARTBEAT, detail)

    def _heartbeat_back(self) -> None:
        sink = self._live_sink()
        sink.unblock(BlockReason.HEARTBEAT)
        if self.heartbeats.accepted > 1:
            # The switch may have fired while heartbeats were lost: see what it cancelled.
            self._want_reconcile("order heartbeats resumed")

    def _triplet(self) -> dict[str, str]:
        creds = self._client.credentials
        return {"apiKey": creds.key, "secret": creds.secret, "passphrase": creds.passphrase}

    # -- reconciliation ---------------------------------------------------------------------
    def _want_reconcile(self, why: str) -> None:
        if why not in self._reconcile_wanted:
            self._reconcile_wanted.append(why)
        self._reconcile_signal.set()

    async def reconcile_now(self, why: str) -> None:
        """Reconcile once more (tests, the ``reconcile`` command); returns when done."""
        self._want_reconcile(why)
        while self._reconcile_wanted:
            await self._clock.sleep(0.05)

    async def _reconcile_loop(self) -> None:
        from polymarket.errors import PolymarketError

        reconciler = self._reconciler
        assert reconciler is not None
        sink = self._live_sink()
        while True:
            await self._reconcile_signal.wait()
            self._reconcile_signal.clear()
            if not self._reconcile_wanted:
                continue
            why = ", ".join(self._reconcile_wanted)
            try:
                await reconciler.run(why)
            except (PolymarketError, OSError, ConnectionError, TimeoutError) as exc:
                sink.block(
                    BlockReason.RECONCILIATION,
                    f"could not reconcile with the venue ({self._words(exc)}); retrying",
                )
                await self._clock.sleep(self.options.reconcile_retry_s)
                self._reconcile_signal.set()
                continue
            self._reconcile_wanted.clear()
            self.reconciled.set()
            if self.channel.connected.is_set():
                sink.unblock(BlockReason.CONNECTION)

    # -- balances ------------------------------------------------------------------------------
    def venue_cash(self) -> int | None:
        """The venue's pUSD in cash units (the engine sizes on the smaller of this and its
        own cash)."""
        return self.balances.cash()

    def _refresh_soon(self) -> None:
        if not self._balance_soon:
            self._balance_soon = True
            self._spawn(self._refresh_after_fill())

    async def _refresh_after_fill(self) -> None:
        await self._clock.sleep(0.5)
        self._balance_soon = False
        await self.balances.refresh(self._orders.assets(), update=True)

    async def _refresh_loop(self) -> None:
        last_reconcile = self._clock.monotonic()
        while True:
            await self._clock.sleep(self.options.balance_refresh_s)
            if self._clock.monotonic() - last_reconcile >= self.options.reconcile_every_s:
                # What a silent channel lost (the venue replays nothing) is found here.
                last_reconcile = self._clock.monotonic()
                self._want_reconcile("periodic check")
            tokens = set(self._orders.assets())
            if self._account is not None:
                tokens |= set(self._account.holdings())
            if await self.balances.refresh(tokens):
                self._check_allowance()

    def _allowance_refused(self, order: OrderRequest) -> None:
        market = self._market_of(order.asset_id)
        config = self._client._ctx.environment_config
        if order.side is Side.BUY:
            exchange = (
                config.neg_risk_exchange if market and market.neg_risk else config.standard_exchange
            )
            self._allowance_missing["collateral"] = str(exchange)
            what = "spend your pUSD"
        else:
            self._allowance_missing[order.asset_id] = "token"
            what = "move your shares"
        self._live_sink().block(
            BlockReason.ALLOWANCE,
            f"the exchange may not {what} (no allowance): {APPROVE_FIX}",
        )
        self._spawn(self._recheck_allowance())

    async def _recheck_allowance(self) -> None:
        await self.balances.refresh(
            [t for t, kind in self._allowance_missing.items() if kind == "token"]
        )
        self._check_allowance()

    def _check_allowance(self) -> None:
        if not self._allowance_missing:
            return
        for what, spender in list(self._allowance_missing.items()):
            granted = (
                self.balances.may_spend([spender])
                if what == "collateral"
                else bool(self.balances.token_allowances.get(what))
            )
            if granted:
                del self._allowance_missing[what]
        if not self._allowance_missing:
            self._live_sink().unblock(BlockReason.ALLOWANCE)

    # -- redemption ------------------------------------------------------------------------
    def on_resolved(self, market: MarketInfo, winner: str) -> None:
        """A market resolved (the engine settled its positions): with
        ``execution.auto_redeem`` its shares are redeemed on chain."""
        if self.options.auto_redeem:
            self._spawn(self._redeem(market, winner))

    async def _redeem(self, market: MarketInfo, winner: str) -> None:
        from polymarket.errors import PolymarketError

        from engine.adapters.polymarket.live.redeem import held_in_resolved, redeem

        await self._clock.sleep(self.options.redeem_after_s)
        try:
            for held in await held_in_resolved(
                self._client, [(market.condition_id, market.token_ids)]
            ):
                done = await redeem(self._client, held, winner)
                self._live_sink().redeemed(
                    done.condition_id, done.asset_id, done.shares, done.payout, done.transaction
                )
        except (PolymarketError, OSError, TimeoutError) as exc:
            self._live_sink().note(
                "redeem_failed",
                f"{market.condition_id}: {self._words(exc)}; run `polyterm redeem` to retry",
            )

    # -- the paper shadow's market data (the kernel's MarketWatcher wiring) ------------------
    def on_markets(self, markets: Sequence[MarketInfo]) -> None:
        if self._shadow is not None:
            self._shadow.on_markets(markets)

    def on_books(self, changed: dict[str, None], now: float) -> None:
        if self._shadow is not None:
            self._shadow.on_books(changed, now)

    def on_trade(self, asset_id: str, price: int, size: int, taker_side: str) -> None:
        if self._shadow is not None:
            self._shadow.on_trade(asset_id, price, size, taker_side)

    # -- helpers -------------------------------------------------------------------------------
    def _market_of(self, asset_id: str) -> MarketInfo | None:
        return self._markets.market_of(asset_id) if self._markets is not None else None

    def _words(self, exc: BaseException) -> str:
        text = " ".join(str(exc).split()) or type(exc).__name__
        return self._redact(text)[:300]

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("live gateway task failed: %s", self._words(exc))

    async def close(self) -> None:
        """Stop what it runs besides (the face closes the SDK client)."""
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _is_fill(report: VenueReport) -> bool:
    return hasattr(report, "fill")


def sink_shadow(sink: VenueSink) -> Callable[[Sequence[VenueReport]], None]:
    on_shadow = getattr(sink, "on_shadow", None)
    if on_shadow is None:
        return lambda reports: None
    return cast(Callable[[Sequence[VenueReport]], None], on_shadow)

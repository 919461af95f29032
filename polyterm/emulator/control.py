"""The venue's moving parts in one small object: what the REST routes, the user channel,
the chain stub and the admin API share.

The admin API talks to this and nothing else; the few things only the server can do
(its market sockets, listing and resolving markets, the load knobs) come in through the
:class:`Host` protocol. :meth:`Control.tick` runs once per flow step: GTD expiry, the
heartbeat dead-man switch, and trades moving MATCHED -> MINED -> CONFIRMED.
"""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from engine.clock import Clock
from engine.fixed import CASH_DIGITS, SIZE_DIGITS
from polyterm.emulator.auth import KeyStore
from polyterm.emulator.chain import Chain
from polyterm.emulator.contracts import MAX_UINT256, SPENDERS
from polyterm.emulator.faults import Faults
from polyterm.emulator.heartbeats import Heartbeats
from polyterm.emulator.pacing import Pacing
from polyterm.emulator.signer_limits import SignerLimits
from polyterm.emulator.state import EmuMarket, Event, Exchange
from polyterm.emulator.trading import Trading
from polyterm.emulator.user_ws import UserChannel
from polyterm.emulator.wallets import Wallets


class Host(Protocol):
    """What only the server can do, as the control object needs it."""

    def counters(self) -> dict[str, Any]: ...
    def market_connections(self) -> list[dict[str, object]]: ...
    def drop_market_connection(self, conn_id: str) -> bool: ...
    async def drop_websockets(self) -> int: ...
    def list_market(self) -> EmuMarket: ...
    def resolve_market(self, market: EmuMarket, winner: str) -> Event: ...
    def set_load(self, rate: float | None, frame_messages: int) -> None: ...


class Control:
    def __init__(
        self,
        exchange: Exchange,
        clock: Clock,
        pacing: Pacing,
        *,
        starting_balance: Decimal,
        default_approvals: bool = True,
        admin_token: str | None = None,
    ) -> None:
        self.exchange = exchange
        self.clock = clock
        self.pacing = pacing
        self.keys = KeyStore()
        self.wallets = Wallets(clock, starting_balance, default_approvals)
        self.trading = Trading(exchange, self.wallets)
        exchange.resting_fills = self.trading.fill_resting
        self.heartbeats = Heartbeats(clock)
        self.signer_limits = SignerLimits(clock)
        self.faults = Faults(clock=clock)
        self.users = UserChannel(self.keys, self.faults, clock)
        self.chain = Chain(self.wallets, clock, self._resolution)
        # A secret per run, printed at start: the admin API moves money and cuts sockets.
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        self.host: Host | None = None

    # -- the step -----------------------------------------------------------------
    def tick(self) -> None:
        trading = self.trading
        trading.expire()
        for key in self.heartbeats.lapsed():
            trading.cancel_where(key, status="CANCELED_ORDER_TIMED_OUT")
        trading.advance()

    async def publish_user_events(self) -> None:
        events, self.trading.outbox = self.trading.outbox, []
        await self.users.publish(events)

    # -- faults -------------------------------------------------------------------
    async def apply_faults(self, spec: dict[str, Any]) -> dict[str, Any]:
        actions = self.faults.apply(spec)
        dropped = user_dropped = 0
        if "ws_drop" in actions and self.host is not None:
            dropped = await self.host.drop_websockets()
        if "user_ws_drop" in actions:
            user_dropped = await self.users.drop_all()
        if "fail_trades" in actions:
            self.trading.fail_next_trades = self.faults.fail_trades
            self.faults.fail_trades = 0
        return {
            "faults": self.faults.describe(),
            "ws_dropped": dropped,
            "user_ws_dropped": user_dropped,
            "fail_trades_pending": self.trading.fail_next_trades,
        }

    # -- markets ------------------------------------------------------------------
    def market(self, key: str) -> EmuMarket | None:
        """A market by condition id or slug."""
        ex = self.exchange
        market = ex.by_condition.get(key)
        if market is None:
            market = next((m for m in ex.markets if m.info.slug == key), None)
        return market

    def resolve(self, market: EmuMarket, winner: str) -> Event:
        """Resolve `market`: its resting orders are cancelled (CANCELED_MARKET_RESOLVED)."""
        assert self.host is not None
        event = self.host.resolve_market(market, winner)
        self.trading.close_market(market)
        return event

    def set_tick(self, market: EmuMarket, tick: int) -> Event:
        """Re-grid `market` (a ``tick_size_change``); orders off the new tick are refused."""
        old = market.yes.tick
        events: list[Event] = []
        for book in (market.yes, market.no):
            book.set_tick(tick)
            event: Event = {
                "event_type": "tick_size_change",
                "asset_id": book.asset_id,
                "market": market.info.condition_id,
                "old_tick_size": _price(old),
                "new_tick_size": _price(tick),
                "timestamp": str(self.exchange.now_ms()),
            }
            self.exchange.market_outbox.append(event)
            events.append(event)
        return events[0]

    # -- wallets ------------------------------------------------------------------
    def fund(self, address: str, spec: dict[str, Any]) -> dict[str, Any]:
        """Set a wallet's collateral (dollars), token balances (shares) and approvals.

        ``{"collateral": "10", "tokens": {"<token id>": "5"}, "approve": true | false}``;
        ``approve: false`` revokes every approval (to test an allowance refusal).
        """
        if len(address) != 42 or not address.startswith("0x"):
            raise ValueError("address must be a 0x-prefixed wallet address")
        wallet = self.wallets.get(address)
        if "collateral" in spec:
            wallet.collateral = int(_amount("collateral", spec["collateral"]).scaleb(CASH_DIGITS))
        tokens = spec.get("tokens") or {}
        if not isinstance(tokens, dict):
            raise ValueError('tokens must be an object {"<token id>": "<shares>"}')
        for token, shares in tokens.items():
            if str(token) not in self.exchange.by_token:
                raise ValueError(f"token {str(token)[:16]}… is not listed here")
            wallet.tokens[str(token)] = int(_amount(f"tokens[{token}]", shares).scaleb(SIZE_DIGITS))
        if "approve" in spec:
            if not isinstance(spec["approve"], bool):
                raise ValueError("approve must be true or false")
            if spec["approve"]:
                for spender in SPENDERS:
                    self.wallets.approve_erc20(address, spender, MAX_UINT256, "admin")
                    self.wallets.approve_erc1155(address, spender, True, "admin")
            else:
                self.wallets.revoke_all(address)
        return next(w for w in self.wallets.describe() if w["address"].lower() == address.lower())

    def _resolution(self, condition_id: str) -> tuple[tuple[str, ...], str | None] | None:
        """A market's tokens and, once it resolved, its winner (the chain pays it out)."""
        wanted = condition_id.lower()
        for cid, market in self.exchange.by_condition.items():
            if cid.lower() == wanted:
                return market.info.token_ids, market.winner if market.resolved else None
        return None

    def orders(self) -> list[dict[str, Any]]:
        return [o.wire() for o in self.trading.orders.values()]

    def trades(self) -> list[dict[str, Any]]:
        return [t.wire(next(iter(t.views), "")) for t in self.trading.trades.values()]

    def state(self) -> dict[str, Any]:
        host = self.host.counters() if self.host is not None else {}
        trading = self.trading
        return {
            **host,
            "pacing": self.pacing.describe(),
            "faults": self.faults.describe(),
            "api_keys": len(self.keys.by_key),
            "wallets": len(self.wallets.by_address),
            "open_orders": sum(1 for o in trading.orders.values() if o.status == "LIVE"),
            "trades": len(trading.trades),
            "approvals": len(self.wallets.approvals),
            "heartbeats": self.heartbeats.describe(),
            "dead_man_cancels": self.heartbeats.fired,
            "user_subscribers": len(self.users.sockets),
            "signer_limits": self.signer_limits.describe(),
        }


def _amount(name: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise ValueError(f"{name} must be a decimal number, not {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"{name} must be a decimal number, not {value!r}") from exc
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")
    return amount


def _price(ticks: int) -> str:
    from engine.fixed import format_price

    return format_price(ticks)

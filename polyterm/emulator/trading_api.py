"""The CLOB's authenticated routes: API keys (L1), orders, cancels, account reads,
balances and heartbeats (L2), answered as the venue answers the official SDK.

Orders are V2 signed orders: the signature is verified for the market's exchange
(standard or neg-risk) and must come from the API key's owner, so an order changed after
signing is refused (``invalid signature``). A refused single order answers 400
``{"error": "<the venue's message>"}``; in a batch each refused order is an entry with
``success: false`` and its ``errorMsg``. Prices come from the signed amounts: a resting
(GTC/GTD) order's makerAmount/takerAmount must be on the market's current tick; a taking
order's is its worst price (a BUY's floored, a SELL's ceiled to the tick).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from engine.fixed import CASH_DIGITS, PRICE_SCALE, SIZE_DIGITS
from engine.orders import OrderType, Side
from polyterm.emulator.auth import AuthError, KeyStore, verify_l1, verify_l2
from polyterm.emulator.contracts import exchange_for
from polyterm.emulator.signing import (
    DEPOSIT_WALLET,
    EOA,
    SignatureError,
    WireOrder,
    order_hash,
    recover_order_signer,
)
from polyterm.emulator.trading import EmuOrder, OrderError, Placed, Trading

if TYPE_CHECKING:
    from polyterm.emulator.control import Control

END_CURSOR = "LTE="
PAGE = 100
MAX_BATCH = 15


def dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(data, status=status, dumps=dumps, headers=headers)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return _json({"error": message}, status, headers)


def cursor_page(items: list[Any], cursor: str | None) -> dict[str, Any]:
    """One page of `items` in the venue's cursor scheme (the last page's cursor: LTE=)."""
    import base64

    if cursor == END_CURSOR:
        return {"data": [], "next_cursor": END_CURSOR, "limit": PAGE, "count": 0}
    try:
        offset = int(base64.b64decode(cursor).decode()) if cursor else 0
    except ValueError:
        offset = 0
    page = items[offset : offset + PAGE]
    nxt = offset + PAGE
    next_cursor = base64.b64encode(str(nxt).encode()).decode() if nxt < len(items) else END_CURSOR
    return {"data": page, "next_cursor": next_cursor, "limit": PAGE, "count": len(page)}


def _decimal(units: int, digits: int) -> str:
    return format(Decimal(units).scaleb(-digits).normalize(), "f")


class TradingApi:
    def __init__(self, control: Control) -> None:
        self.control = control
        self.keys: KeyStore = control.keys
        self.trading: Trading = control.trading
        self.clock = control.clock

    def routes(self) -> list[web.RouteDef]:
        g, p, d = web.get, web.post, web.delete
        return [
            p("/auth/api-key", self.create_api_key),
            g("/auth/derive-api-key", self.derive_api_key),
            g("/auth/api-keys", self.api_keys),
            d("/auth/api-key", self.delete_api_key),
            g("/auth/ban-status/closed-only", self.closed_only),
            g("/v1/user/rate-limit-tier", self.rate_limit_tier),
            p("/order", self.post_order),
            p("/orders", self.post_orders),
            d("/order", self.cancel_order),
            d("/orders", self.cancel_orders),
            d("/cancel-all", self.cancel_all),
            d("/cancel-market-orders", self.cancel_market_orders),
            g("/data/orders", self.data_orders),
            g("/data/order/{order_id}", self.data_order),
            g("/data/trades", self.data_trades),
            g("/balance-allowance", self.balance_allowance),
            g("/balance-allowance/update", self.update_balance_allowance),
            p("/v1/heartbeats", self.heartbeat),
        ]

    # -- auth -------------------------------------------------------------------------
    async def _key(self, request: web.Request, body: str = "") -> str:
        try:
            return verify_l2(
                request.headers,
                request.method,
                request.path,
                body,
                self.keys.triplets(),
                self.clock.time(),
            )
        except AuthError as exc:
            raise web.HTTPUnauthorized(
                text=dumps({"error": f"Unauthorized/Invalid api key: {exc}"}),
                content_type="application/json",
            ) from exc

    async def create_api_key(self, request: web.Request) -> web.Response:
        try:
            address, nonce = verify_l1(request.headers, self.clock.time())
        except AuthError as exc:
            return _error(401, f"Unauthorized: {exc}")
        key = self.keys.create(address, nonce)
        if key is None:
            return _error(400, "Could not create api key")
        return _json({"apiKey": key.key, "secret": key.secret, "passphrase": key.passphrase})

    async def derive_api_key(self, request: web.Request) -> web.Response:
        try:
            address, nonce = verify_l1(request.headers, self.clock.time())
        except AuthError as exc:
            return _error(401, f"Unauthorized: {exc}")
        key = self.keys.derive(address, nonce)
        if key is None:
            return _error(400, "Could not derive api key!")
        return _json({"apiKey": key.key, "secret": key.secret, "passphrase": key.passphrase})

    async def api_keys(self, request: web.Request) -> web.Response:
        key = await self._key(request)
        return _json({"apiKeys": self.keys.of_address(self.keys.by_key[key].address)})

    async def delete_api_key(self, request: web.Request) -> web.Response:
        key = await self._key(request, await request.text())
        self.keys.delete(key)
        return _json("OK")

    async def closed_only(self, request: web.Request) -> web.Response:
        await self._key(request)
        return _json({"closed_only": False})

    async def rate_limit_tier(self, request: web.Request) -> web.Response:
        await self._key(request)
        return _json({"tier": "default"})

    # -- orders -----------------------------------------------------------------------
    def _place(self, key: str, payload: Any) -> Placed:
        """Check and place one posted order; OrderError carries the venue's message."""
        api_key = self.keys.by_key[key]
        if not isinstance(payload, dict):
            raise OrderError("invalid order payload: each order must be an object")
        if payload.get("owner") != key:
            raise OrderError("the order owner has to be the owner of the API KEY")
        try:
            wire = WireOrder.parse(payload.get("order"))
            order_type = OrderType(str(payload.get("orderType", "GTC")).upper())
        except ValueError as exc:
            raise OrderError(f"invalid order payload: {exc}") from exc
        token = str(wire.token_id)
        market = self.trading.ex.by_token.get(token)
        if market is None:
            raise OrderError(f"the orderbook {token[:16]}… does not exist")
        exchange = exchange_for(market.info.neg_risk)
        try:
            signer = recover_order_signer(wire, exchange)
        except SignatureError as exc:
            raise OrderError(f"invalid signature: {exc}") from exc
        if signer.lower() != api_key.address.lower():
            raise OrderError("the order signer address has to be the address of the API KEY")
        if wire.signature_type != EOA and not self.control.wallets.bind(wire.maker, signer):
            raise OrderError("invalid signature: the maker wallet belongs to another owner")
        side = Side(wire.side)
        shares, cash = (
            (wire.taker_amount, wire.maker_amount)
            if side is Side.BUY
            else (wire.maker_amount, wire.taker_amount)
        )
        if shares <= 0 or cash <= 0:
            raise OrderError("invalid order amounts: makerAmount and takerAmount must be > 0")
        book = market.book_of(token)
        assert book is not None
        scaled = cash * PRICE_SCALE
        if order_type in (OrderType.GTC, OrderType.GTD):
            if scaled % shares:
                raise OrderError(
                    "invalid price: makerAmount / takerAmount breaks minimum tick size rule"
                )
            price = scaled // shares
        elif side is Side.BUY:  # a taking order's worst price, on the tick
            price = scaled // shares // book.tick * book.tick
        else:
            price = _ceil_div(_ceil_div(scaled, shares), book.tick) * book.tick
        return self.trading.place(
            key,
            self.control.wallets.get(wire.maker),
            order_hash(wire, exchange),
            token,
            side,
            price,
            shares,
            order_type,
            expiration=wire.expiration,
            post_only=bool(payload.get("postOnly")),
            budget=cash * 10 ** (CASH_DIGITS - SIZE_DIGITS) if side is Side.BUY else None,
        )

    @staticmethod
    def _accepted(placed: Placed) -> dict[str, Any]:
        order = placed.order
        buy = order.side is Side.BUY
        making = _decimal(placed.making, CASH_DIGITS if buy else SIZE_DIGITS)
        taking = _decimal(placed.taking, SIZE_DIGITS if buy else CASH_DIGITS)
        return {
            "success": True,
            "errorMsg": "",
            "orderID": order.id,
            "status": "matched" if order.size_matched else "live",
            "makingAmount": making if order.size_matched else "",
            "takingAmount": taking if order.size_matched else "",
            "tradeIDs": list(placed.trade_ids),
            "transactionsHashes": [],
        }

    @staticmethod
    def _refused(message: str) -> dict[str, Any]:
        return {
            "success": False,
            "errorMsg": message,
            "orderID": "",
            "status": "",
            "makingAmount": "",
            "takingAmount": "",
        }

    async def _late(self) -> None:
        """The ``order_late`` fault: the order has landed; its answer leaves late."""
        faults = self.control.faults
        if faults.order_late > 0:
            faults.order_late -= 1
            await self.clock.sleep(faults.order_late_s)

    async def post_order(self, request: web.Request) -> web.Response:
        body = await request.text()
        key = await self._key(request, body)
        try:
            payload = json.loads(body)
        except ValueError:
            return _error(400, "invalid order payload: the body is not JSON")
        verdict = self.control.signer_limits.charge("order", self.keys.by_key[key].address, 1)
        if not verdict.allowed:
            return self._limited(verdict.headers, verdict.retry_after)
        try:
            placed = self._place(key, payload)
        except OrderError as exc:
            return _error(400, str(exc), verdict.headers)
        if placed.reject:
            return _error(400, placed.reject, verdict.headers)
        await self._late()
        return _json(self._accepted(placed), headers=verdict.headers)

    async def post_orders(self, request: web.Request) -> web.Response:
        body = await request.text()
        key = await self._key(request, body)
        try:
            payloads = json.loads(body)
        except ValueError:
            return _error(400, "invalid order payload: the body is not JSON")
        if not isinstance(payloads, list) or not payloads:
            return _error(400, "invalid order payload: send a non-empty list of orders")
        if len(payloads) > MAX_BATCH:
            return _error(400, f"too many orders: {len(payloads)} (at most {MAX_BATCH} a batch)")
        signer = self.keys.by_key[key].address
        verdict = self.control.signer_limits.charge("order", signer, len(payloads))
        if not verdict.allowed:
            return self._limited(verdict.headers, verdict.retry_after)
        answers = []
        for payload in payloads:
            try:
                placed = self._place(key, payload)
            except OrderError as exc:
                answers.append(self._refused(str(exc)))
                continue
            answers.append(
                self._refused(placed.reject) if placed.reject else self._accepted(placed)
            )
        await self._late()
        return _json(answers, headers=verdict.headers)

    @staticmethod
    def _limited(headers: dict[str, str], wait: float) -> web.Response:
        import math

        return _error(
            429,
            "Too Many Requests: the signer's rate limit is exhausted",
            {**headers, "Retry-After": str(max(1, math.ceil(wait)))},
        )

    # -- cancels ----------------------------------------------------------------------
    async def _cancel_ids(self, key: str, ids: list[str]) -> web.Response:
        signer = self.keys.by_key[key].address
        verdict = self.control.signer_limits.charge("cancel", signer, max(1, len(ids)))
        if not verdict.allowed:
            return self._limited(verdict.headers, verdict.retry_after)
        canceled: list[str] = []
        not_canceled: dict[str, str] = {}
        for oid in ids:
            reason = self.trading.cancel(key, oid)
            if reason:
                not_canceled[oid] = reason
            else:
                canceled.append(oid)
        return _json({"canceled": canceled, "not_canceled": not_canceled}, headers=verdict.headers)

    async def cancel_order(self, request: web.Request) -> web.Response:
        body = await request.text()
        key = await self._key(request, body)
        try:
            oid = str(json.loads(body)["orderID"])
        except (ValueError, KeyError, TypeError):
            return _error(400, 'invalid cancel payload: send {"orderID": "<order id>"}')
        return await self._cancel_ids(key, [oid])

    async def cancel_orders(self, request: web.Request) -> web.Response:
        body = await request.text()
        key = await self._key(request, body)
        try:
            ids = json.loads(body)
            if not isinstance(ids, list):
                raise TypeError
        except (ValueError, TypeError):
            return _error(400, "invalid cancel payload: send a JSON list of order ids")
        return await self._cancel_ids(key, [str(i) for i in ids])

    async def cancel_all(self, request: web.Request) -> web.Response:
        key = await self._key(request, await request.text())
        return await self._cancel_ids(key, [o.id for o in self.trading.open_orders(key)])

    async def cancel_market_orders(self, request: web.Request) -> web.Response:
        body = await request.text()
        key = await self._key(request, body)
        try:
            spec = json.loads(body) if body else {}
            if not isinstance(spec, dict):
                raise TypeError
        except (ValueError, TypeError):
            return _error(400, 'invalid cancel payload: send {"market": ..., "asset_id": ...}')
        market, asset = str(spec.get("market") or ""), str(spec.get("asset_id") or "")
        if not market and not asset:
            return _error(400, "invalid cancel payload: name a market or an asset_id")
        ids = [
            o.id
            for o in self.trading.open_orders(key)
            if (not market or o.market.info.condition_id == market)
            and (not asset or o.token_id == asset)
        ]
        return await self._cancel_ids(key, ids)

    # -- account reads ----------------------------------------------------------------
    async def data_orders(self, request: web.Request) -> web.Response:
        key = await self._key(request)
        q = request.query
        items = [
            o.wire()
            for o in self.trading.open_orders(key)
            if _matches(o, q.get("market"), q.get("asset_id"), q.get("id"))
        ]
        return _json(cursor_page(items, q.get("next_cursor")))

    async def data_order(self, request: web.Request) -> web.Response:
        key = await self._key(request)
        order = self.trading.orders.get(request.match_info["order_id"])
        if order is None or order.owner != key:
            return _json(None)
        return _json(order.wire())

    async def data_trades(self, request: web.Request) -> web.Response:
        key = await self._key(request)
        q = request.query
        maker = (q.get("maker_address") or "").lower()
        after = int(q.get("after") or 0)
        before = int(q.get("before") or 0)
        items = [
            t.wire(key)
            for t in self.trading.trades_of(key)
            if (not q.get("market") or t.market.info.condition_id == q["market"])
            and (not q.get("asset_id") or t.asset_id == q["asset_id"])
            and (not q.get("id") or t.id == q["id"])
            and (not maker or any(leg.wallet.lower() == maker for leg in t.legs))
            and (not after or t.match_time >= after)
            and (not before or t.match_time <= before)
        ]
        return _json(cursor_page(items, q.get("next_cursor")))

    def _funder(self, key: str, signature_type: int) -> str:
        """The wallet the venue reads for this key: the signer for EOA orders, else the
        smart wallet it has signed for (known once it has posted an order)."""
        owner = self.keys.by_key[key].address
        if signature_type != EOA:
            wallets = self.control.wallets
            for wallet, signer in wallets.owner_of.items():
                if signer == owner.lower():
                    return wallets.get(wallet).address
        return owner

    async def balance_allowance(self, request: web.Request) -> web.Response:
        key = await self._key(request)
        q = request.query
        kind = q.get("asset_type", "COLLATERAL").upper()
        if kind not in ("COLLATERAL", "CONDITIONAL"):
            return _error(400, "asset_type must be COLLATERAL or CONDITIONAL")
        token = q.get("token_id") or None
        if kind == "CONDITIONAL" and not token:
            return _error(400, "token_id is required for asset_type CONDITIONAL")
        try:
            signature_type = int(q.get("signature_type", "0"))
        except ValueError:
            return _error(400, "signature_type must be 0, 1, 2 or 3")
        if signature_type not in (EOA, 1, 2, DEPOSIT_WALLET):
            return _error(400, "signature_type must be 0, 1, 2 or 3")
        funder = self._funder(key, signature_type)
        return _json(
            self.control.wallets.balance_allowance(funder, token if kind == "CONDITIONAL" else None)
        )

    async def update_balance_allowance(self, request: web.Request) -> web.Response:
        await self._key(request)
        return _json({})  # balances here are never stale: nothing to refresh

    # -- heartbeats -------------------------------------------------------------------
    async def heartbeat(self, request: web.Request) -> web.Response:
        body = await request.text()
        key = await self._key(request, body)
        faults = self.control.faults
        if faults.drop_heartbeats:
            return _error(503, "heartbeat lost (emulator fault drop_heartbeats)")
        try:
            sent = json.loads(body).get("heartbeat_id", "") if body else ""
        except (ValueError, AttributeError):
            return _error(400, 'invalid heartbeat payload: send {"heartbeat_id": "..."}')
        ok, heartbeat_id = self.control.heartbeats.beat(key, str(sent or ""))
        if not ok:
            return _json(
                {
                    "error": "Invalid Heartbeat ID",
                    "error_msg": "Invalid Heartbeat ID",
                    "heartbeat_id": heartbeat_id,
                },
                400,
            )
        return _json({"heartbeat_id": heartbeat_id})


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _matches(order: EmuOrder, market: str | None, asset: str | None, oid: str | None) -> bool:
    return (
        (not market or order.market.info.condition_id == market)
        and (not asset or order.token_id == asset)
        and (not oid or order.id == oid)
    )

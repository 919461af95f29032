"""A minimal Polygon on loopback: the JSON-RPC calls the official SDK makes for
approvals and balances, and the data API's indexed approvals view.

The SDK reads allowances with ``eth_call`` (ERC-20 ``allowance``, ERC-1155
``isApprovedForAll``, batched) and, for an EOA wallet, grants them by signing and
broadcasting transactions (``eth_chainId``, ``eth_getTransactionCount``,
``eth_gasPrice``, ``eth_estimateGas``, ``eth_sendRawTransaction``,
``eth_getTransactionReceipt``). ``setup_trading_approvals()`` and the automatic
``approve(max)`` after an allowance refusal both come through here: each decoded
``approve`` / ``setApprovalForAll`` is applied to the wallet and logged (``GET
/_admin/approvals``), so a test can prove no approval happened without the user's
confirmation. ``GET {data}/v2/approvals?user=`` answers ``get_trading_approvals_state``.
Served at ``/rpc`` and ``/data-api`` (the ``rpc`` and ``data`` URLs the exchange prints).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from engine.clock import Clock
from engine.fixed import ONE
from polyterm.emulator.contracts import (
    COLLATERAL_ADAPTER,
    COLLATERAL_TOKEN,
    CONDITIONAL_TOKENS,
    ERC20_SPENDERS,
    ERC1155_OPERATORS,
    MAX_UINT256,
    NEG_RISK_COLLATERAL_ADAPTER,
    POLYGON_CHAIN_ID,
)
from polyterm.emulator.wallets import Wallets

_ALLOWANCE = "dd62ed3e"  # allowance(address,address)
_APPROVED_FOR_ALL = "e985e9c5"  # isApprovedForAll(address,address)
_BALANCE_OF = "70a08231"  # balanceOf(address)
_BALANCE_OF_1155 = "00fdd58e"  # balanceOf(address,uint256)
_APPROVE = "095ea7b3"  # approve(address,uint256)
_SET_APPROVAL = "a22cb465"  # setApprovalForAll(address,bool)
_REDEEM = "01b7037c"  # redeemPositions(address,bytes32,bytes32,uint256[])


def _word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def _args(data: str) -> list[int]:
    body = data[10:]
    return [int(body[i : i + 64], 16) for i in range(0, len(body) - 63, 64)]


def _address(word: int) -> str:
    return "0x" + word.to_bytes(32, "big")[12:].hex()


class RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


# Who pays out a resolved market: the SDK sends redeemPositions to the collateral adapter
# (the neg-risk one for neg-risk markets).
REDEEMERS = {a.lower() for a in (COLLATERAL_ADAPTER, NEG_RISK_COLLATERAL_ADAPTER)}
# A resolved market: its token ids and the winner's (None: not resolved).
Resolution = Callable[[str], tuple[tuple[str, ...], str | None] | None]


class Chain:
    def __init__(
        self, wallets: Wallets, clock: Clock, resolution: Resolution | None = None
    ) -> None:
        self.wallets = wallets
        self.clock = clock
        self._resolution = resolution
        self.redemptions: list[dict[str, Any]] = []
        self.nonces: dict[str, int] = {}
        self.receipts: dict[str, dict[str, Any]] = {}
        self.calls = 0

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/rpc", self.rpc),
            web.get("/data-api/v2/approvals", self.approvals_view),
        ]

    async def rpc(self, request: web.Request) -> web.Response:
        try:
            payload = json.loads(await request.text())
        except ValueError:
            return web.json_response(
                {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}}
            )
        if isinstance(payload, list):
            return web.json_response([self._one(p) for p in payload])
        return web.json_response(self._one(payload))

    def _one(self, envelope: Any) -> dict[str, Any]:
        self.calls += 1
        if not isinstance(envelope, dict):
            return {
                "jsonrpc": "2.0",
                "id": None,
                "error": {"code": -32600, "message": "bad request"},
            }
        ident = envelope.get("id")
        try:
            result = self._call(str(envelope.get("method")), list(envelope.get("params") or []))
        except RpcError as exc:
            return {"jsonrpc": "2.0", "id": ident, "error": {"code": exc.code, "message": str(exc)}}
        return {"jsonrpc": "2.0", "id": ident, "result": result}

    def _call(self, method: str, params: list[Any]) -> Any:
        if method == "eth_chainId":
            return hex(POLYGON_CHAIN_ID)
        if method == "eth_blockNumber":
            return hex(int(self.clock.time()))
        if method == "eth_getBlockByNumber":
            return {"number": hex(int(self.clock.time())), "timestamp": hex(int(self.clock.time()))}
        if method == "eth_gasPrice":
            return hex(30 * 10**9)
        if method == "eth_estimateGas":
            return hex(100_000)
        if method == "eth_getTransactionCount":
            return hex(self.nonces.get(str(params[0]).lower(), 0))
        if method == "eth_call":
            call = params[0] if params and isinstance(params[0], dict) else {}
            return self._read(str(call.get("to", "")), str(call.get("data", "")))
        if method == "eth_sendRawTransaction":
            return self._send(str(params[0]))
        if method == "eth_getTransactionReceipt":
            return self.receipts.get(str(params[0]).lower())
        raise RpcError(-32601, f"method {method} is not served by the emulator's chain stub")

    def _read(self, to: str, data: str) -> str:
        selector = data[2:10]
        args = _args(data)
        if to.lower() == COLLATERAL_TOKEN.lower():
            if selector == _ALLOWANCE and len(args) >= 2:
                wallet = self.wallets.get(_address(args[0]))
                return _word(wallet.allowance(_address(args[1])))
            if selector == _BALANCE_OF and args:
                return _word(self.wallets.get(_address(args[0])).collateral_units())
        if selector == _APPROVED_FOR_ALL and len(args) >= 2:
            return _word(int(self.wallets.get(_address(args[0])).approved(_address(args[1]))))
        if to.lower() == CONDITIONAL_TOKENS.lower() and selector == _BALANCE_OF_1155:
            wallet = self.wallets.get(_address(args[0]))
            return _word(wallet.tokens.get(str(args[1]), 0))
        raise RpcError(3, "execution reverted")

    def _send(self, raw: str) -> str:
        """Apply a signed legacy transaction's approval; returns its hash."""
        import rlp
        from eth_account import Account
        from eth_utils.crypto import keccak

        blob = bytes.fromhex(raw[2:] if raw.startswith("0x") else raw)
        try:
            sender = str(Account.recover_transaction(blob))
            fields = rlp.decode(blob)
        except Exception as exc:  # malformed transactions raise several types
            raise RpcError(-32000, f"invalid transaction: {type(exc).__name__}") from exc
        if not isinstance(fields, list) or len(fields) < 6:
            raise RpcError(-32000, "only legacy transactions are served by the chain stub")
        to = "0x" + bytes(fields[3]).hex()
        data = "0x" + bytes(fields[5]).hex()
        selector = data[2:10]
        args = _args(data)
        if to.lower() == COLLATERAL_TOKEN.lower() and selector == _APPROVE and len(args) >= 2:
            self.wallets.approve_erc20(sender, _address(args[0]), min(args[1], MAX_UINT256), "rpc")
        elif selector == _SET_APPROVAL and len(args) >= 2:
            self.wallets.approve_erc1155(sender, _address(args[0]), bool(args[1]), "rpc")
        elif selector == _REDEEM and to.lower() in REDEEMERS and len(args) >= 3:
            self._redeem(sender, "0x" + args[2].to_bytes(32, "big").hex())
        else:
            raise RpcError(
                3, "execution reverted: the chain stub serves approvals and redemptions only"
            )
        key = sender.lower()
        self.nonces[key] = self.nonces.get(key, 0) + 1
        tx_hash = "0x" + keccak(blob).hex()
        self.receipts[tx_hash] = {
            "transactionHash": tx_hash,
            "status": "0x1",
            "blockNumber": hex(int(self.clock.time())),
            "from": sender,
            "to": to,
        }
        return tx_hash

    def _redeem(self, sender: str, condition_id: str) -> None:
        """Pay a resolved market's winning shares 1 pUSD each; every share of it burns."""
        found = self._resolution(condition_id) if self._resolution is not None else None
        if found is None or found[1] is None:
            raise RpcError(3, "execution reverted: result for condition not received yet")
        tokens, winner = found
        wallet = self.wallets.get(sender)
        paid = 0
        for token in tokens:
            shares = wallet.tokens.pop(token, 0)
            if token == winner:
                paid += shares * ONE
        wallet.collateral += paid
        self.redemptions.append(
            {"wallet": wallet.address, "condition_id": condition_id, "payout": paid}
        )

    async def approvals_view(self, request: web.Request) -> web.Response:
        """The data API's indexed approvals of one wallet (``get_trading_approvals_state``)."""
        user = request.query.get("user", "")
        if len(user) != 42 or not user.startswith("0x"):
            return web.json_response({"error": "user must be a wallet address"}, status=400)
        wallet = self.wallets.get(user)
        contracts: list[dict[str, Any]] = []
        for spender in ERC20_SPENDERS:
            amount = wallet.allowance(spender)
            contracts.append(
                {
                    "token": COLLATERAL_TOKEN,
                    "spender": spender,
                    "standard": "ERC20",
                    "approved": amount > 0,
                    "amount": "max" if amount >= MAX_UINT256 else str(amount),
                }
            )
        for token, operator in ERC1155_OPERATORS:
            contracts.append(
                {
                    "token": token,
                    "spender": operator,
                    "standard": "ERC1155",
                    "approved": wallet.approved(operator),
                }
            )
        return web.json_response(
            {"data": {"address": user, "chain_id": POLYGON_CHAIN_ID, "contracts": contracts}}
        )

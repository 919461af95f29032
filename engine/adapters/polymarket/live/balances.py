"""The venue's balances: pUSD (collateral) and the shares of each token we trade, read at
start and again after fills, after reconnects and every ``balance_refresh_s``.

Live sizing uses the venue's collateral (the engine's free cash is capped by it), never a
paper account. Balances the venue caches are asked to refresh first
(``/balance-allowance/update``) after a fill: a sell right after a buy must not be
refused for a stale balance. The engine never sells on the strength of this view alone:
what it may sell comes from its own fills; this view is what reconciliation checks them
against.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any, Literal

from engine.fixed import CASH_DIGITS, SIZE_DIGITS

log = logging.getLogger("engine.live.balances")

# The venue counts pUSD in 1e-6 units; the engine's cash is in 1e-10 USDC.
_CASH_PER_UNIT = 10 ** (CASH_DIGITS - SIZE_DIGITS)


class Balances:
    def __init__(self, client: Any) -> None:
        self._client = client
        self.collateral: int | None = None  # cash units (1e-10 USDC); None: not read yet
        self.allowances: dict[str, int] = {}  # exchange spender -> pUSD allowance (1e-6)
        self.shares: dict[str, int] = {}  # token -> shares (1e-6)
        self.token_allowances: dict[str, bool] = {}  # token -> exchanges may move it
        self.reads = 0
        self.errors = 0
        self._lock = asyncio.Lock()

    def cash(self) -> int | None:
        """The venue's pUSD, in cash units (None until read)."""
        return self.collateral

    async def refresh(self, tokens: Iterable[str] = (), *, update: bool = False) -> bool:
        """Read pUSD and the given tokens' shares; False when the venue did not answer
        (the old figures stay, and the caller says so)."""
        from polymarket.errors import PolymarketError

        async with self._lock:
            try:
                if update:
                    await self._update("COLLATERAL", None)
                got = await self._client.get_balance_allowance(asset_type="COLLATERAL")
                self.collateral = int(got.balance) * _CASH_PER_UNIT
                self.allowances = dict(got.allowances)
                for token in dict.fromkeys(tokens):
                    if update:
                        await self._update("CONDITIONAL", token)
                    held = await self._client.get_balance_allowance(
                        asset_type="CONDITIONAL", token_id=token
                    )
                    self.shares[token] = int(held.balance)
                    self.token_allowances[token] = any(v > 0 for v in held.allowances.values())
            except (PolymarketError, OSError, TimeoutError) as exc:
                self.errors += 1
                log.warning("balances not read: %s", type(exc).__name__)
                return False
            self.reads += 1
            return True

    async def _update(
        self, asset_type: Literal["COLLATERAL", "CONDITIONAL"], token: str | None
    ) -> None:
        """Ask the venue to refresh its cached balance (the SDK has no method for it)."""
        from polymarket._internal.actions import account as actions
        from polymarket._internal.wallet import signature_type_for

        ctx = self._client._ctx
        path, params = actions.build_update_balance_allowance_request(
            asset_type=asset_type,
            asset_id=token,
            signature_type=signature_type_for(ctx.wallet_type),
        )
        await ctx.secure_clob.get_bytes(path, params=params)

    def may_spend(self, spenders: Iterable[str]) -> bool:
        """The exchanges may move our pUSD (every one of `spenders` has an allowance)."""
        lowered = {k.lower(): v for k, v in self.allowances.items()}
        return all(lowered.get(s.lower(), 0) > 0 for s in spenders)

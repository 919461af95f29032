"""Wallets: what the chain would hold for each funder address.

A wallet has collateral (pUSD, in cash units of 1e-10), conditional tokens (shares, in
1e-6 units), ERC-20 allowances of its collateral per spender and ERC-1155 operator
approvals. The venue checks an order against them: the allowance for the market's
exchange first, then the balance left after what the wallet's open orders already
reserve (see :mod:`polyterm.emulator.state`).

A wallet seen for the first time gets the default funding (``EmulatorOptions``:
``starting_balance`` and, unless ``default_approvals`` is off, every trading approval),
so an ``--offline`` live run can trade at once. ``POST /_admin/wallets/{address}/fund``
changes it; every approval granted (through the chain stub, which is how the official
SDK approves, or by the admin) is logged for ``GET /_admin/approvals``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.clock import Clock
from engine.fixed import CASH_DIGITS, SIZE_DIGITS
from polyterm.emulator.contracts import MAX_UINT256, SPENDERS

_USDC_PER_CASH: int = 10 ** (CASH_DIGITS - SIZE_DIGITS)  # cash units (1e-10) per base unit (1e-6)


@dataclass(slots=True)
class Wallet:
    address: str
    collateral: int = 0  # cash units (1e-10)
    tokens: dict[str, int] = field(default_factory=dict)  # token id -> shares (1e-6)
    allowances: dict[str, int] = field(default_factory=dict)  # spender -> base units
    operators: set[str] = field(default_factory=set)  # approved ERC-1155 operators

    def allowance(self, spender: str) -> int:
        return self.allowances.get(spender.lower(), 0)

    def approved(self, operator: str) -> bool:
        return operator.lower() in self.operators

    def collateral_units(self) -> int:
        """The balance as the venue reports it: pUSD base units (1e-6), floored."""
        return self.collateral // _USDC_PER_CASH


class Wallets:
    def __init__(
        self, clock: Clock, starting_balance: Decimal, default_approvals: bool = True
    ) -> None:
        self.clock = clock
        self.starting_balance = starting_balance
        self.default_approvals = default_approvals
        self.by_address: dict[str, Wallet] = {}
        self.owner_of: dict[str, str] = {}  # smart wallet -> the owner EOA that signs for it
        self.approvals: list[dict[str, Any]] = []

    def get(self, address: str) -> Wallet:
        """The wallet at `address`, funded by default the first time it is seen."""
        key = address.lower()
        wallet = self.by_address.get(key)
        if wallet is None:
            wallet = Wallet(address, int(self.starting_balance.scaleb(CASH_DIGITS)))
            self.by_address[key] = wallet
            if self.default_approvals:
                for spender in SPENDERS:
                    wallet.allowances[spender.lower()] = MAX_UINT256
                    wallet.operators.add(spender.lower())
        return wallet

    def bind(self, wallet: str, owner: str) -> bool:
        """Record that `owner` signs for smart wallet `wallet` (the first owner seen keeps
        it); False when another owner already does."""
        known = self.owner_of.setdefault(wallet.lower(), owner.lower())
        return known == owner.lower()

    # -- approvals (the chain stub and the admin) -----------------------------------
    def approve_erc20(self, owner: str, spender: str, amount: int, via: str) -> None:
        self.get(owner).allowances[spender.lower()] = amount
        self._log(owner, "erc20", spender, str(amount) if amount < MAX_UINT256 else "max", via)

    def approve_erc1155(self, owner: str, operator: str, approved: bool, via: str) -> None:
        operators = self.get(owner).operators
        if approved:
            operators.add(operator.lower())
        else:
            operators.discard(operator.lower())
        self._log(owner, "erc1155", operator, approved, via)

    def _log(self, owner: str, kind: str, spender: str, value: object, via: str) -> None:
        self.approvals.append(
            {
                "time": self.clock.time(),
                "wallet": owner,
                "kind": kind,
                "spender": spender,
                "value": value,
                "via": via,
            }
        )

    def revoke_all(self, address: str) -> None:
        wallet = self.get(address)
        wallet.allowances.clear()
        wallet.operators.clear()

    # -- what the venue reports -----------------------------------------------------
    def balance_allowance(self, address: str, token: str | None) -> dict[str, Any]:
        """``GET /balance-allowance``: the balance in base units and the allowance of
        each exchange spender (for conditional tokens: max when the operator is
        approved, else 0)."""
        wallet = self.get(address)
        if token is None:
            return {
                "balance": str(wallet.collateral_units()),
                "allowances": {s: str(wallet.allowance(s)) for s in SPENDERS},
            }
        return {
            "balance": str(wallet.tokens.get(token, 0)),
            "allowances": {s: str(MAX_UINT256 if wallet.approved(s) else 0) for s in SPENDERS},
        }

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "address": w.address,
                "collateral": str(Decimal(w.collateral).scaleb(-CASH_DIGITS)),
                "tokens": {t: str(Decimal(s).scaleb(-SIZE_DIGITS)) for t, s in w.tokens.items()},
                "allowances": {s: str(a) for s, a in w.allowances.items()},
                "operators": sorted(w.operators),
            }
            for w in self.by_address.values()
        ]

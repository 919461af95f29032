"""Per-market taker fees, from the market's own data (never assumed zero).

The platform fee on a fill of S shares at price p is S * rate * (p * (1 - p)) ** exponent,
with rate and exponent from ``/clob-markets`` (``fd.r``, ``fd.e``); a builder fee may add
a flat rate on notional. Fees round up to the 1e-6 USDC unit.

Which currency pays: USDC (pUSD), on buys and sells alike, as in the V2 SDK. A buy
costs price x size plus the fee (so the cash check must include it); a sell receives
price x size less the fee. Shares are never deducted for fees. Makers pay no fee.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.fixed import PRICE_DIGITS, SIZE_DIGITS, round_cash_up_to_usdc

_ZERO = Decimal(0)
_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    rate: Decimal = _ZERO
    exponent: Decimal = _ZERO
    builder_rate: Decimal = _ZERO

    @property
    def is_free(self) -> bool:
        return self.rate == 0 and self.builder_rate == 0

    def taker_fee(self, price: int, size: int) -> int:
        """Fee in cash units (1e-10) for taking `size` shares at `price`."""
        if self.is_free or size <= 0:
            return 0
        p = Decimal(price).scaleb(-PRICE_DIGITS)
        shares = Decimal(size).scaleb(-SIZE_DIGITS)
        fee = shares * self.rate * (p * (_ONE - p)) ** self.exponent
        if self.builder_rate:
            fee += shares * p * self.builder_rate
        return round_cash_up_to_usdc(fee)

    @property
    def rate_bps(self) -> int:
        """The rate in basis points, as the CLOB's legacy fee fields express it."""
        return int(self.rate * 10_000)

    def effective_rate(self, price: int) -> Decimal:
        """Fee per share at `price`, for edge-versus-cost decisions."""
        p = Decimal(price).scaleb(-PRICE_DIGITS)
        return self.rate * (p * (_ONE - p)) ** self.exponent + p * self.builder_rate


FREE = FeeSchedule()

"""The base every settings model shares, and the strict value types they are made of.

Frozen, unknown keys refused, and no value coerced from another kind: a string is never
read as a boolean (``offline = "no"`` is refused, not taken as true) or as a count
(``max_markets = "8"``); numbers are finite. Money and share amounts are the exception,
as documented: a decimal string or a number (``order_size = "20"`` or ``20``), exact,
and never more than the ledger's 64-bit integers can hold with room to add them up.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, AllowInfNan, BaseModel, BeforeValidator, ConfigDict, Strict

# The largest amount of USDC or shares a setting may hold: the ledger keeps cash in
# 1e-10 USDC units in 64-bit integers (at most ~9.2e8 USDC), and sums of amounts (equity,
# exposure) must fit too.
MAX_AMOUNT = Decimal(100_000_000)

Bool = Annotated[bool, Strict()]
Int = Annotated[int, Strict()]
# A finite number: an integer is fine (`entry_z = 2`), a string or a boolean is not.
Real = Annotated[float, Strict(), AllowInfNan(False)]


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError('a decimal amount: write it as a string or a number, e.g. "20" or 20')
    try:
        parsed = Decimal(value.strip()) if isinstance(value, str) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f'{value!r} is not a decimal number: write e.g. "20" or "0.5"') from None
    if not parsed.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return parsed


def _places(places: int) -> AfterValidator:
    def check(value: Decimal) -> Decimal:
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            raise ValueError(f"{value} has more than {places} decimal places")
        return value

    return AfterValidator(check)


def _within_ledger(value: Decimal) -> Decimal:
    if abs(value) > MAX_AMOUNT:
        raise ValueError(
            f"{value} is more than the ledger holds (at most {MAX_AMOUNT:,}); lower it"
        )
    return value


_DecimalIn = BeforeValidator(_decimal)
# USDC amounts (to the 1e-6 base unit) and share amounts (0.000001 shares).
Usdc = Annotated[Decimal, _DecimalIn, _places(6), AfterValidator(_within_ledger)]
Shares = Annotated[Decimal, _DecimalIn, _places(6), AfterValidator(_within_ledger)]
# A price distance (take-profit, stop-loss) to the 0.0001 tick, and a plain fraction.
PriceDelta = Annotated[Decimal, _DecimalIn, _places(4)]
Fraction = Annotated[Decimal, _DecimalIn]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

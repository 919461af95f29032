"""Exact fixed-point money.

Prices are integers in units of 1e-4 (the finest Polymarket tick), sizes in units of
1e-6 (the token and USDC base unit), and cash in units of 1e-10 (price x size), so every
product is exact and no float touches money.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from functools import lru_cache

PRICE_DIGITS = 4
SIZE_DIGITS = 6
CASH_DIGITS = PRICE_DIGITS + SIZE_DIGITS

PRICE_SCALE: int = 10**PRICE_DIGITS
SIZE_SCALE: int = 10**SIZE_DIGITS
CASH_SCALE: int = 10**CASH_DIGITS

ONE = PRICE_SCALE  # the price of a share that settles to 1
SHARE_STEP = SIZE_SCALE // 100  # orders are sized in 0.01-share steps

_POW10: list[int] = [10**i for i in range(12)]
_USDC_UNIT = Decimal(1).scaleb(-SIZE_DIGITS)


def parse_fixed(text: str, digits: int) -> int:
    """Parse a non-negative decimal string into an integer scaled by 10**digits.

    Fast path for the wire: no Decimal. Digits beyond the scale must be zeros
    ("25.0000000" is fine, "0.00001" as a price is not).
    """
    whole, _, frac = text.partition(".")
    if whole.startswith(("-", "+")):
        raise ValueError(f"{text!r} must not be signed")
    # int() alone would take "1_0", " 5" and non-ASCII digits: "0.1_0" read as 0.010.
    plain = whole + frac
    if not (plain.isascii() and plain.isdigit()) and plain:
        raise ValueError(f"{text!r} is not a plain decimal number")
    if len(frac) > digits:
        if frac[digits:].strip("0"):
            raise ValueError(f"{text!r} has more than {digits} decimal places")
        frac = frac[:digits]
    if not whole and not frac:
        raise ValueError(f"{text!r} is not a number")
    value = int(whole) * _POW10[digits] if whole else 0
    if frac:
        value += int(frac) * _POW10[digits - len(frac)]
    return value


# Wire prices and level sizes repeat endlessly ("0.51", "150"): a C-level cache turns most
# parses into one dict lookup. Errors are not cached, so bad input raises every time.
@lru_cache(maxsize=1 << 14)
def parse_price(text: str) -> int:
    return parse_fixed(text, PRICE_DIGITS)


@lru_cache(maxsize=1 << 16)
def parse_size(text: str) -> int:
    return parse_fixed(text, SIZE_DIGITS)


def format_fixed(value: int, digits: int) -> str:
    """Render a scaled integer as a minimal decimal string ("0.5", "150", "0.0001")."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), _POW10[digits])
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{str(frac).rjust(digits, '0').rstrip('0')}"


def format_price(value: int) -> str:
    return format_fixed(value, PRICE_DIGITS)


def format_size(value: int) -> str:
    return format_fixed(value, SIZE_DIGITS)


def to_decimal(value: int, digits: int) -> Decimal:
    """Exact Decimal without trailing zeros or exponent notation (0, 0.5, 994.549627)."""
    return Decimal(format_fixed(value, digits))


def price_decimal(value: int) -> Decimal:
    return to_decimal(value, PRICE_DIGITS)


def size_decimal(value: int) -> Decimal:
    return to_decimal(value, SIZE_DIGITS)


def cash_decimal(value: int) -> Decimal:
    return to_decimal(value, CASH_DIGITS)


def decimal_to_fixed(value: Decimal | str | float, digits: int) -> int:
    """Convert config or metadata values (which may arrive as floats) exactly."""
    dec = Decimal(str(value))
    scaled = dec.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value!r} has more than {digits} decimal places")
    return int(scaled)


def format_cash(value: int) -> str:
    return format_fixed(value, CASH_DIGITS)


def notional(price: int, size: int) -> int:
    """Cash (1e-10 units) of `size` shares at `price`."""
    return price * size


def round_cash_up_to_usdc(cash: Decimal) -> int:
    """Round a Decimal amount of USDC up to the 1e-6 base unit, as cash units.

    Fees are rounded against the trader so paper results never flatter.
    """
    units = cash.quantize(_USDC_UNIT, rounding=ROUND_CEILING)
    return int(units.scaleb(CASH_DIGITS))

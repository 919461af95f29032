"""A person's order as typed (the console's order form, ``polyterm order``), read into the
engine's exact units, or refused in one line naming the field and the fix.

Prices: the console's form reads them in the configured convention (``52.3`` in cents,
``0.523`` in dollars; the unit is shown beside the field). The command line and the
control socket take ``0.523`` (dollars, as the venue's API writes them) or ``52.3c`` /
``52.3¢`` (cents); a bare number of 1 or more is refused rather than guessed at.
Nothing here imports the engine's heavier parts: ``polyterm order`` stays light.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from engine.fixed import PRICE_DIGITS, PRICE_SCALE, SHARE_STEP, SIZE_DIGITS
from engine.orders import OrderType, Side

ORDER_TYPES = ("FAK", "GTC", "GTD", "FOK")


class OrderInputError(ValueError):
    """Input a person must fix; str() is the one line to show."""


def _number(field: str, text: str, example: str) -> Decimal:
    cleaned = text.strip().replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise OrderInputError(f"{field} {text!r} is not a number: write e.g. {example}") from None
    if not value.is_finite():
        raise OrderInputError(f"{field} {text!r} is not a number: write e.g. {example}")
    return value


def size_units(text: str, field: str = "size") -> int:
    """Shares as typed ("10", "12.5") -> the engine's units (1e-6); two decimals at most."""
    value = _number(field, text, "10")
    if value <= 0:
        raise OrderInputError(f"{field} {text!r}: the number of shares must be above 0")
    units = value.scaleb(SIZE_DIGITS)
    if units != units.to_integral_value() or int(units) % SHARE_STEP:
        raise OrderInputError(f"{field} {text!r}: shares go in steps of 0.01 (write e.g. 12.5)")
    return int(units)


def price_units(text: str, style: str, field: str = "price") -> int:
    """A limit price typed in the form's convention (`style` "cents": 52.3; "dollars":
    0.523) -> the engine's units (1e-4)."""
    raw = text.strip()
    number = raw[:-1].strip() if style == "cents" and raw.endswith(("c", "¢")) else raw
    example = "52.3" if style == "cents" else "0.523"
    try:
        value = _number(field, number, example)
    except OrderInputError:
        raise OrderInputError(f"{field} {text!r} is not a number: write e.g. {example}") from None
    dollars = value / 100 if style == "cents" else value
    return _price(dollars, f"{field} {text!r}")


def wire_price_units(text: str, field: str = "--price") -> int:
    """A price on the command line: 0.523 (dollars) or 52.3c / 52.3¢ (cents)."""
    raw = text.strip()
    what = f"{field} {text!r}"
    if raw.endswith(("c", "¢")):
        try:
            cents = Decimal(raw[:-1].strip().replace(",", ""))
        except InvalidOperation:
            raise OrderInputError(f"{what} is not a number: write e.g. 0.523") from None
        if cents.is_finite():
            return _price(cents / 100, what)
    try:
        value = _number(field, raw.removeprefix("$"), "0.523")
    except OrderInputError:
        raise OrderInputError(f"{what} is not a number: write e.g. 0.523") from None
    if value >= 1:
        raise OrderInputError(
            f"{field} {text!r}: a price is below 1 dollar: write 0.523 (dollars) or "
            f"{value}c (cents)"
        )
    return _price(value, what)


def _price(dollars: Decimal, what: str) -> int:
    units = dollars.scaleb(PRICE_DIGITS)
    if units != units.to_integral_value():
        raise OrderInputError(f"{what}: finer than a tenth of a tick allows (0.0001 at most)")
    value = int(units)
    if not 0 < value < PRICE_SCALE:
        raise OrderInputError(f"{what}: a price is between 0 and 1 dollar (0¢ and 100¢)")
    return value


def side_of(text: str) -> Side:
    words = {"buy": Side.BUY, "b": Side.BUY, "sell": Side.SELL, "s": Side.SELL}
    side = words.get(text.strip().lower())
    if side is None:
        raise OrderInputError(f"side {text!r}: write buy or sell")
    return side


def type_of(text: str) -> OrderType:
    upper = text.strip().upper()
    if upper not in ORDER_TYPES:
        raise OrderInputError(f"type {text!r}: use one of {', '.join(ORDER_TYPES)}")
    return OrderType(upper)


def expiry_seconds(text: str, field: str = "expires in") -> float:
    """A GTD order's lifetime in minutes as typed -> seconds."""
    minutes = _number(field, text, "60")
    if minutes <= 0:
        raise OrderInputError(f"{field} {text!r}: minutes above 0 (write e.g. 60)")
    return float(minutes) * 60

"""The one number convention: prices in cents with one decimal (or dollars with three),
shares and money with two, a dash for what does not exist, never a negative zero."""

from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from widgets import format as fmt

decimals = st.decimals(
    min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=10, allow_nan=False
)
prices = st.decimals(min_value=Decimal(0), max_value=Decimal(1), places=4, allow_nan=False)


@given(decimals)
def test_money_and_shares_have_two_decimals(value: Decimal) -> None:
    for text in (fmt.money(value), fmt.money(value, signed=True), fmt.size(value)):
        assert re.fullmatch(r"[+-]?\d{1,3}(,\d{3})*\.\d{2}", text), text
        assert text not in ("-0.00",)


@given(prices)
def test_prices_in_cents_or_dollars(value: Decimal) -> None:
    assert re.fullmatch(r"\d{1,3}\.\d¢", fmt.cents(value))
    assert re.fullmatch(r"[01]\.\d{3}", fmt.dollars(value))
    assert fmt.price_as(value, "dollars") == fmt.dollars(value)
    assert fmt.price_as(value, "cents") == fmt.cents(value)


def test_the_configured_style_is_what_price_writes() -> None:
    try:
        fmt.set_price_style("dollars")
        assert fmt.price(Decimal("0.523")) == "0.523"
        fmt.set_price_style("cents")
        assert fmt.price(Decimal("0.523")) == "52.3¢"
    finally:
        fmt.set_price_style("cents")


def test_nothing_is_a_dash_and_a_small_loss_is_not_minus_zero() -> None:
    assert fmt.price(None) == fmt.money(None) == fmt.size(None) == fmt.bps(None) == "—"
    assert fmt.money(Decimal("-0.001"), signed=True) == "+0.00"
    assert fmt.cents(Decimal("-0.00001")) == "0.0¢"
    assert fmt.bps(12.345, signed=True) == "+12.3 bps"

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.fixed import (
    format_price,
    format_size,
    parse_price,
    parse_size,
    round_cash_up_to_usdc,
    to_decimal,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [("0.5", 5000), ("0.514", 5140), (".01", 100), ("1", 10000), ("0.0001", 1), ("0.50000", 5000)],
)
def test_parse_price(text: str, value: int) -> None:
    assert parse_price(text) == value


@pytest.mark.parametrize(
    "text",
    ["0.00001", "", "-0.5", "abc", "1e-3", ".", "0.1_0", "1_0", " 0.5", "0.5\n", "0.\u0665", "+1"],
)
def test_parse_price_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r".+"):
        parse_price(text)


def test_parse_size_keeps_six_places() -> None:
    assert parse_size("21574.08") == 21_574_080_000
    assert parse_size("25.0000") == 25_000_000
    assert format_size(parse_size("192.3")) == "192.3"


@given(st.integers(min_value=0, max_value=10**12))
def test_size_round_trip(value: int) -> None:
    assert parse_size(format_size(value)) == value


@given(st.integers(min_value=0, max_value=10**4))
def test_price_round_trip_and_decimal(value: int) -> None:
    text = format_price(value)
    assert parse_price(text) == value
    assert to_decimal(value, 4) == Decimal(text)


def test_fee_rounding_goes_against_the_trader() -> None:
    assert round_cash_up_to_usdc(Decimal("0.0000001")) == 10_000  # 1e-6 USDC in cash units
    assert round_cash_up_to_usdc(Decimal("0.000001")) == 10_000
    assert round_cash_up_to_usdc(Decimal(0)) == 0

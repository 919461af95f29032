"""A person's order as typed: read exactly into the engine's units, or refused in one line
naming the field and the fix (never a guess between cents and dollars)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polyterm.faces.order_input import (
    OrderInputError,
    expiry_seconds,
    price_units,
    side_of,
    size_units,
    type_of,
    wire_price_units,
)


def test_prices_in_the_forms_convention_and_on_the_command_line() -> None:
    assert price_units("52.3", "cents") == 5230
    assert price_units("52.3¢", "cents") == 5230
    assert price_units("0.523", "dollars") == 5230
    assert wire_price_units("0.523") == 5230
    assert wire_price_units("$0.523") == 5230
    assert wire_price_units("52.3c") == 5230
    assert wire_price_units("52.3¢") == 5230


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("52", "a price is below 1 dollar: write 0.523 (dollars) or 52c (cents)"),
        ("abc", "is not a number: write e.g. 0.523"),
        ("0", "a price is between 0 and 1 dollar"),
        ("0.00001", "finer than a tenth of a tick"),
        ("100c", "a price is between 0 and 1 dollar"),
    ],
)
def test_a_price_that_is_not_one_is_one_line_naming_the_fix(text: str, words: str) -> None:
    with pytest.raises(OrderInputError) as caught:
        wire_price_units(text)
    message = str(caught.value)
    assert message.startswith(f"--price {text!r}")
    assert words in message
    assert "\n" not in message


def test_sizes_go_in_hundredths_of_a_share() -> None:
    assert size_units("10") == 10_000_000
    assert size_units("12.5") == 12_500_000
    assert size_units("1,000") == 1_000_000_000
    for bad, words in (("0", "above 0"), ("-3", "above 0"), ("1.001", "steps of 0.01")):
        with pytest.raises(OrderInputError, match=words):
            size_units(bad)


def test_side_type_and_expiry() -> None:
    assert side_of("BUY").value == "BUY"
    assert side_of("s").value == "SELL"
    assert type_of("gtc").value == "GTC"
    assert expiry_seconds("1.5") == 90.0
    with pytest.raises(OrderInputError, match="write buy or sell"):
        side_of("long")
    with pytest.raises(OrderInputError, match="FAK, GTC, GTD, FOK"):
        type_of("IOC")


@given(st.integers(min_value=1, max_value=9999))
def test_cents_and_dollars_read_the_same_price(units: int) -> None:
    dollars = f"{units / 10_000:.4f}"
    cents = f"{units / 100:.2f}"
    assert wire_price_units(dollars) == units
    assert wire_price_units(cents + "c") == units
    assert price_units(cents, "cents") == units
    assert price_units(dollars, "dollars") == units

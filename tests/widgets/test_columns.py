"""Column widths from content: each column as wide as its label and its widest value, the
flexible one taking what is left, and the least useful columns giving way before the
table would be wider than its room."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from widgets.columns import PADDING, Column, fit

COLUMNS = (
    Column("name", "Market", flex=True),
    Column("bid", "Bid", floor=6),
    Column("size", "Size"),
    Column("why", "Why"),
)


def test_widths_follow_the_content_and_the_name_takes_the_rest() -> None:
    values = {"name": ["Will it rain?"], "bid": ["52.3¢"], "size": ["1,234.00"], "why": ["x"]}
    widths = fit(COLUMNS, values, 80)
    assert widths == {"name": 13, "bid": 6, "size": 8, "why": 3}
    filled = fit(COLUMNS, values, 80, fill=True)
    assert filled["name"] == 80 - (6 + 8 + 3) - 2 * PADDING * 4


def test_the_last_columns_give_way_when_there_is_no_room() -> None:
    values = {"name": ["Will it rain tomorrow in the whole of the country?"]}
    widths = fit(COLUMNS, values, 32, flex_min=12)
    assert list(widths) == ["name", "bid", "size"]
    assert sum(widths.values()) + 2 * PADDING * len(widths) <= 32


@given(
    st.integers(min_value=20, max_value=300),
    st.lists(st.text(min_size=0, max_size=60), min_size=0, max_size=8),
)
def test_a_table_never_outgrows_its_room_while_it_keeps_two_columns(
    available: int, names: list[str]
) -> None:
    values = {"name": names, "bid": ["100.0¢"], "size": ["12,345.67"], "why": ["because"]}
    widths = fit(COLUMNS, values, available, flex_min=10, fill=True)
    total = sum(widths.values()) + 2 * PADDING * len(widths)
    if len(widths) > 2:
        assert total <= available
    assert widths["name"] >= 10

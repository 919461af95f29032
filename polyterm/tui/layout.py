"""Which layout a terminal of a given size gets, and the panes' tabs.

- compact (below 110x30; 80x24 is the case it is made for): the header, the tab strip,
  one pane filling the body (the markets first; 1-6 switch), a one-line status of PnL,
  the kill switch and the feed, the notice line and the footer;
- medium (from 110x30; 120x35): the markets on top, orders and positions below left, and
  one of risk / fills / exits / sentiment beside them (3-6 switch);
- wide (from 180x45; 200x50): every pane at once.

Chosen at start and chosen again on every resize. Column widths follow the content:
each pane gives its flexible column (the market's name) what the others leave.
"""

from __future__ import annotations

from enum import StrEnum


class Layout(StrEnum):
    COMPACT = "compact"
    MEDIUM = "medium"
    WIDE = "wide"


MEDIUM_FROM = (110, 30)
WIDE_FROM = (180, 45)


def layout_for(width: int, height: int) -> Layout:
    if width >= WIDE_FROM[0] and height >= WIDE_FROM[1]:
        return Layout.WIDE
    if width >= MEDIUM_FROM[0] and height >= MEDIUM_FROM[1]:
        return Layout.MEDIUM
    return Layout.COMPACT


# name, key, label: the panes one key away.
TABS: tuple[tuple[str, str, str], ...] = (
    ("markets", "1", "Markets"),
    ("orders", "2", "Orders"),
    ("risk", "3", "Risk"),
    ("fills", "4", "Fills"),
    ("exits", "5", "Exits"),
    ("sentiment", "6", "Sentiment"),
)
SIDE_TABS = ("risk", "fills", "exits", "sentiment")  # the medium layout's side slot

"""Text from outside (a market's question) is shown as text: no escape sequence, no
bidi override reaches the terminal; ordinary text, accents and symbols are kept."""

from __future__ import annotations

from polyterm.reports.printable import printable


def test_control_characters_and_bidi_overrides_never_reach_the_terminal() -> None:
    hostile = "Fed\x1b]52;c;cHduZWQ=\x07 cut\x1b[2J\x9b31m? \u202eevil\u2066"
    shown = printable(hostile)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in shown)
    assert "\u202e" not in shown
    assert "\u2066" not in shown
    assert shown.startswith("Fed?]52;c;cHduZWQ=? cut?[2J")


def test_ordinary_text_is_kept_as_written() -> None:
    text = "Will Zürich's [Best Picture] win ≥ 50%? — 日本"
    assert printable(text) == text

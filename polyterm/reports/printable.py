"""Text from outside shown as text in a terminal.

A market's question comes from the venue (or a tape someone shared): control characters
in it would reach the terminal as escape sequences (OSC 52 writes the clipboard, others
clear or retitle the screen) and bidi overrides would reorder what is shown. Light on
purpose: ``polyterm ctl`` uses it too.
"""

from __future__ import annotations

_UNPRINTABLE: dict[int, str | None] = {c: "?" for c in (*range(0x20), *range(0x7F, 0xA0))}
_UNPRINTABLE |= {c: None for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def printable(text: str) -> str:
    """`text` with control characters as "?" and bidi overrides removed."""
    return text.translate(_UNPRINTABLE)

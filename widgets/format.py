"""How the panes write numbers: one place, so every pane agrees.

A figure that does not exist yet is an em dash, never a zero that would read as a value.
"""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text

DASH = "—"
_BLOCKS = "▁▂▃▄▅▆▇█"


def price(value: Decimal | None) -> str:
    return DASH if value is None else f"{value:.4f}".rstrip("0").rstrip(".") or "0"


def cents(value: Decimal | None) -> str:
    """A probability price as cents (0.5230 -> 52.3¢): how Polymarket shows prices."""
    if value is None:
        return DASH
    return f"{value * 100:.1f}¢"


def dollars(value: Decimal | None) -> str:
    """A probability price in dollars with three decimals (0.5230 -> 0.523)."""
    if value is None:
        return DASH
    return f"{value:.3f}"


def price_as(value: Decimal | None, style: str = "cents") -> str:
    """A price in the one convention the config chose: "cents" (52.3¢) or "dollars"."""
    return dollars(value) if style == "dollars" else cents(value)


def pct(value: float | None, signed: bool = False) -> str:
    """A percentage with two decimals (12.345 -> 12.35%)."""
    if value is None:
        return DASH
    return f"{value:+.2f}%" if signed else f"{value:.2f}%"


def ratio(value: float | None) -> str:
    """A ratio (Sharpe, profit factor) with two decimals."""
    return DASH if value is None else f"{value:,.2f}"


def bps(value: float | None) -> str:
    """Basis points with one decimal (slippage)."""
    return DASH if value is None else f"{value:,.1f} bps"


def size(value: Decimal | None) -> str:
    if value is None:
        return DASH
    return f"{value:,.2f}"


def money(value: Decimal | None, signed: bool = False) -> str:
    if value is None:
        return DASH
    return f"{value:+,.2f}" if signed else f"{value:,.2f}"


def pnl(value: Decimal | None) -> Text:
    """Signed money coloured by sign ($pnl-up / $pnl-down through the theme's styles)."""
    if value is None:
        return Text(DASH)
    style = "pnl-up" if value > 0 else "pnl-down" if value < 0 else ""
    return Text(money(value, signed=True), style=_STYLE.get(style, ""))


# Rich styles cannot read Textual variables: the app points these at the active theme's
# colours (and repaints every pane) whenever the theme changes.
_STYLE: dict[str, str] = {"pnl-up": "green", "pnl-down": "red", "warn": "yellow"}


def set_palette(up: str, down: str, warn: str) -> None:
    """Called by the app when the theme changes, so Text cells follow it."""
    _STYLE["pnl-up"] = up
    _STYLE["pnl-down"] = down
    _STYLE["warn"] = warn


def palette(name: str) -> str:
    return _STYLE.get(name, "")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return DASH
    s = max(0, int(seconds))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{seconds:.1f}s" if seconds < 10 else f"{s}s"


def spark(values: list[float], width: int) -> str:
    """A one-line sparkline of the last `width` values (flat when they do not move)."""
    tail = values[-width:]
    if not tail:
        return ""
    lo, hi = min(tail), max(tail)
    if hi - lo < 1e-12:
        return _BLOCKS[0] * len(tail)
    scale = (len(_BLOCKS) - 1) / (hi - lo)
    return "".join(_BLOCKS[int((v - lo) * scale)] for v in tail)


def bar(fraction: float, width: int) -> str:
    """A horizontal bar filled to `fraction` (0..1) of `width` cells."""
    f = min(max(fraction, 0.0), 1.0)
    full = int(f * width)
    return "█" * full + "░" * (width - full)


def short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def market_label(question: str, outcome: str, width: int) -> str:
    """ "question outcome" in `width` cells, shortening the question, never the outcome:
    "Will the Fed cut… Yes" and "Will the Fed cut… No" must stay two different things."""
    outcome = short(outcome, max(3, width // 3))
    room = width - len(outcome) - 1
    return f"{short(question, room)} {outcome}" if room > 1 else short(outcome, width)

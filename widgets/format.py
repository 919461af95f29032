"""How people read numbers: one place, so every pane, screen, report table and text summary
agrees.

The convention (README, "Numbers"): prices in cents with one decimal (``52.3¢``, as
Polymarket shows them) or in dollars with three (``0.523``), as ``[console] prices`` says;
shares with two decimals; money with cents; slippage in basis points with one decimal.
A figure that does not exist yet is an em dash, never a zero that would read as a value,
and never a Python ``None``. Machine outputs (``--json``, the status file, CSV) keep plain
decimals and never come through here.

Light on imports (Rich only inside :func:`pnl`): ``polyterm ctl`` prints through it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from rich.text import Text

DASH = "—"
_BLOCKS = "▁▂▃▄▅▆▇█"

PriceStyle = Literal["cents", "dollars"]
PRICE_STYLES: tuple[PriceStyle, ...] = ("cents", "dollars")
_PRICE_STYLE: list[PriceStyle] = ["cents"]  # what `price` writes; the app sets it from config


def set_price_style(style: PriceStyle) -> None:
    """The convention every `price` call writes from now on (``[console] prices``)."""
    if style not in PRICE_STYLES:
        raise ValueError(f"price style {style!r}: use cents or dollars")
    _PRICE_STYLE[0] = style


def price_style() -> PriceStyle:
    return _PRICE_STYLE[0]


def _fixed(value: Decimal, places: int) -> Decimal:
    """`value` rounded to `places` decimals, a negative zero made plain zero (a loss of
    a tenth of a cent is not "-0.00")."""
    q = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return q if q else abs(q)


def price(value: Decimal | None) -> str:
    """A probability price in the configured convention: 52.3¢ or 0.523."""
    return price_as(value, price_style())


def cents(value: Decimal | None) -> str:
    """A probability price as cents (0.5230 -> 52.3¢): how Polymarket shows prices."""
    if value is None:
        return DASH
    return f"{_fixed(Decimal(value) * 100, 1)}¢"


def dollars(value: Decimal | None) -> str:
    """A probability price in dollars with three decimals (0.5230 -> 0.523)."""
    if value is None:
        return DASH
    return f"{_fixed(Decimal(value), 3)}"


def price_as(value: Decimal | None, style: str | None = None) -> str:
    """A price in the convention `style` names ("cents" or "dollars"; None: the
    configured one)."""
    style = style or price_style()
    return dollars(value) if style == "dollars" else cents(value)


def pct(value: float | None, signed: bool = False) -> str:
    """A percentage with two decimals (12.345 -> 12.35%)."""
    if value is None:
        return DASH
    return f"{value:+.2f}%" if signed else f"{value:.2f}%"


def ratio(value: float | None) -> str:
    """A ratio (Sharpe, profit factor) with two decimals."""
    return DASH if value is None else f"{value:,.2f}"


def bps(value: float | None, signed: bool = False) -> str:
    """Basis points with one decimal (slippage)."""
    if value is None:
        return DASH
    return f"{value:+,.1f} bps" if signed else f"{value:,.1f} bps"


def size(value: Decimal | None) -> str:
    """Shares with two decimals (1,234.50)."""
    if value is None:
        return DASH
    return f"{_fixed(Decimal(value), 2):,}"


def money(value: Decimal | None, signed: bool = False) -> str:
    """Money with cents (1,234.56; signed: +1,234.56 / -0.70)."""
    if value is None:
        return DASH
    amount = _fixed(Decimal(value), 2)
    return f"{amount:+,}" if signed else f"{amount:,}"


def whole(value: float | Decimal | None) -> str:
    """A count or a volume without decimals (12,345)."""
    return DASH if value is None else f"{Decimal(value):,.0f}"


def pnl(value: Decimal | None) -> Text:
    """Signed money coloured by sign ($pnl-up / $pnl-down through the theme's styles)."""
    from rich.text import Text

    if value is None:
        return Text(DASH)
    amount = _fixed(Decimal(value), 2)
    style = "pnl-up" if amount > 0 else "pnl-down" if amount < 0 else ""
    return Text(money(amount, signed=True), style=_STYLE.get(style, ""))


def clock(at: float | None, seconds: bool = True) -> str:
    """A time of day in UTC (13:04:05), from unix seconds."""
    if at is None:
        return DASH
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M:%S" if seconds else "%H:%M")


def stamp(at: float | None) -> str:
    """A date and time in UTC (2026-05-01 13:04:05 UTC), from unix seconds."""
    if at is None:
        return DASH
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


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
    if s >= 86400:
        return f"{s // 86400}d{s % 86400 // 3600:02d}h"
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{max(0.0, seconds):.1f}s" if seconds < 10 else f"{s}s"


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
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"


def market_label(question: str, outcome: str, width: int) -> str:
    """ "question outcome" in `width` cells, shortening the question, never the outcome:
    "Will the Fed cut… Yes" and "Will the Fed cut… No" must stay two different things."""
    outcome = short(outcome, max(3, width // 3))
    room = width - len(outcome) - 1
    return f"{short(question, room)} {outcome}" if room > 1 else short(outcome, width)

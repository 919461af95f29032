"""How a value of each kind is written: for people (tables, Markdown, HTML: the one
number convention of ``widgets.format``) and for machines (JSON, CSV: plain decimals).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from polyterm.reports.document import Kind
from polyterm.reports.scope import ReportScope
from widgets import format as fmt


def plain(value: Decimal) -> str:
    """A Decimal as a plain decimal string: no exponent, no trailing zeros ("12.5", "0")."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def machine(value: Any, kind: Kind, scope: ReportScope) -> Any:
    """JSON-ready: money, prices and shares as plain decimal strings; ratios rounded to 4
    decimals, percentages to 4, bps to 2; times as ISO-8601 in the report's zone."""
    if value is None:
        return None
    if kind in ("money", "pnl", "price", "shares"):
        return plain(Decimal(value))
    if kind in ("ratio", "pct", "score"):
        return round(float(value), 4)
    if kind == "bps":
        return round(float(value), 2)
    if kind == "duration":
        return round(float(value), 3)
    if kind == "time":
        return scope.iso(float(value))
    return value


def human(value: Any, kind: Kind, scope: ReportScope, prices: str = "cents") -> str:
    if value is None:
        return fmt.DASH
    if kind == "money":
        return fmt.money(Decimal(value))
    if kind == "pnl":
        return fmt.money(Decimal(value), signed=True)
    if kind == "price":
        return fmt.price_as(Decimal(value), prices)
    if kind == "shares":
        return fmt.size(Decimal(value))
    if kind == "pct":
        return fmt.pct(float(value))
    if kind == "ratio":
        return fmt.ratio(float(value))
    if kind == "score":
        return f"{float(value):.4f}"
    if kind == "bps":
        return fmt.bps(float(value))
    if kind == "duration":
        return fmt.duration(float(value))
    if kind == "time":
        iso = scope.iso(float(value)) or ""
        return iso.replace("T", " ")[:19]
    if kind == "int":
        return f"{int(value):,}"
    return str(value)

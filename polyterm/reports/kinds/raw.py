"""``report orders`` and ``report fills``: the ledger's rows, every column, in commit
order; money as plain decimals (prices in dollars, shares, cash in USDC), times as the
ledger's unix seconds. ``--format jsonl`` writes one ledger row per line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from engine.fixed import cash_decimal, price_decimal, size_decimal
from polyterm.reports.context import Context
from polyterm.reports.document import Column, Kind, Report, Table

# Columns that hold money, by what they measure; the rest are written as stored.
_PRICE = {"price", "decision_mid"}
_SHARES = {"size", "filled"}
_CASH = {"fee"}


def _kind(name: str) -> Kind:
    if name in _PRICE:
        return "price"
    if name in _SHARES:
        return "shares"
    if name in _CASH:
        return "money"
    return "text"


def _convert(names: list[str], rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    convert: list[Callable[[int], Decimal] | None] = []
    for name in names:
        if name in _PRICE:
            convert.append(price_decimal)
        elif name in _SHARES:
            convert.append(size_decimal)
        elif name in _CASH:
            convert.append(cash_decimal)
        else:
            convert.append(None)
    for row in rows:
        yield tuple(
            v if f is None or v is None else f(v) for f, v in zip(convert, row, strict=True)
        )


def build(ctx: Context, kind: str) -> Report:
    at = "created_at" if kind == "orders" else "at"
    names, rows = ctx.analytics.raw(kind, at=at)
    table = Table(
        kind, kind.capitalize(), tuple(Column(n, n, _kind(n)) for n in names), _convert(names, rows)
    )
    return Report(kind, kind.capitalize(), ctx.header(), tables=[table], raw=True)

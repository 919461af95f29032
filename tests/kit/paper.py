"""Reading what the paper exchange reports: an order's answer (its fills, then where it
stands) and the fills among reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.orders import Fill, OrderStatus
from engine.venue import FillReport, OrderUpdate, VenueReport


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer to one placed order."""

    order_id: str
    status: OrderStatus
    fills: tuple[Fill, ...]
    reason: str | None
    venue_id: str | None
    remaining: int  # shares still working (0 once the order is done)


def answer(reports: Sequence[VenueReport], size: int = 0) -> Answer:
    """The reports placing an order of `size` returned, as one answer (its last report is
    where the order stands)."""
    updates = [r for r in reports if isinstance(r, OrderUpdate)]
    assert updates, f"no status among {reports}"
    last = updates[-1]
    fills = fills_of(reports)
    remaining = size - sum(f.size for f in fills) if last.status.is_open else 0
    return Answer(last.order_id, last.status, fills, last.reason, last.venue_id, remaining)


def fills_of(reports: Sequence[VenueReport]) -> tuple[Fill, ...]:
    return tuple(r.fill for r in reports if isinstance(r, FillReport))

"""Event groups: the markets one Gamma event holds. A neg-risk event is a basket of
mutually exclusive outcome markets: exactly one resolves YES, so the YES prices of all
its outcomes sum to 1 at resolution (and buying every YES pays exactly 1)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.market.markets import MarketInfo


@dataclass(frozen=True, slots=True)
class EventGroup:
    event_id: str
    neg_risk: bool
    markets: tuple[MarketInfo, ...]

    @property
    def yes_tokens(self) -> tuple[str, ...]:
        """Each outcome market's first (YES) token, in market order."""
        return tuple(m.token_ids[0] for m in self.markets if m.token_ids)

    @property
    def complete(self) -> bool:
        """Every open outcome market of the event is here (as the venue listed them), and
        the event cannot gain outcomes later (not augmented)."""
        n = len(self.markets)
        return all(m.event_markets == n and not m.event_augmented for m in self.markets)

    @property
    def is_basket(self) -> bool:
        """A complete neg-risk event of at least two outcome markets: an all-or-none
        basket. A partial one is not: its YESes pay nothing when a missing outcome wins."""
        return self.neg_risk and len(self.markets) >= 2 and self.complete


def group_events(markets: Iterable[MarketInfo]) -> dict[str, EventGroup]:
    """Events keyed by event id; a market with no event is a group of one."""
    members: dict[str, list[MarketInfo]] = {}
    for m in markets:
        members.setdefault(m.event, []).append(m)
    return {
        event: EventGroup(event, all(m.neg_risk for m in ms), tuple(ms))
        for event, ms in members.items()
    }

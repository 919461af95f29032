"""The market registry: which markets this run trades, their tokens and events, the
markets the ledger knows from earlier runs, and which have resolved.

Everything that needs to know "which market is this token in" asks here: decisions,
exposure, the paper exchange, the snapshot's labels. It holds metadata only; books live
in the book store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from engine.market.event_groups import EventGroup, group_events
from engine.market.markets import MarketInfo


class MarketRegistry:
    def __init__(self) -> None:
        self.markets: list[MarketInfo] = []  # listed this run, in the feed's order
        self.by_token: dict[str, MarketInfo] = {}
        self._by_id: dict[str, MarketInfo] = {}
        self._known: dict[str, MarketInfo] = {}  # from the ledger: positions may be there
        self.events: dict[str, EventGroup] = {}
        self.complements: dict[str, str] = {}  # token -> the other token of its binary market
        self.resolved: dict[str, str] = {}  # condition id -> winning token
        self.version = 0  # bumps when the listed markets change

    def list(self, markets: Sequence[MarketInfo]) -> list[tuple[MarketInfo, str]]:
        """The markets to trade (the whole list: a feed calls again when it adds some);
        returns the (market, token) pairs not listed before. A market without usable
        tokens is left out."""
        usable = [m for m in markets if m.token_ids and all(m.token_ids)]
        known = self.by_token
        self.markets = usable
        self.by_token = {t: m for m in usable for t in m.token_ids}
        self._by_id = {m.condition_id: m for m in usable}
        self.events = group_events(usable)
        self.complements = {
            t: c for m in usable for t in m.token_ids if (c := m.complement_of(t)) is not None
        }
        self.version += 1
        return [(m, t) for m in usable for t in m.token_ids if t not in known]

    def add_known(self, markets: Iterable[MarketInfo]) -> None:
        """Markets the ledger knows (positions may be held there) that this run may not
        list: exposure still counts them."""
        for m in markets:
            self._known.setdefault(m.condition_id, m)

    # -- lookups ------------------------------------------------------------------------
    def market_of(self, asset_id: str) -> MarketInfo | None:
        return self.by_token.get(asset_id)

    def listed(self, condition_id: str) -> MarketInfo | None:
        """A market this run lists."""
        return self._by_id.get(condition_id)

    def market(self, condition_id: str) -> MarketInfo | None:
        """A market this run lists, else one the ledger knows."""
        return self._by_id.get(condition_id) or self._known.get(condition_id)

    def complement(self, asset_id: str) -> str | None:
        market = self.by_token.get(asset_id)
        return None if market is None else market.complement_of(asset_id)

    def describe(self, asset_id: str) -> tuple[str, str]:
        """(question, outcome) of a token; ("", "?") when unknown."""
        market = self.by_token.get(asset_id)
        return (market.question, market.outcome_of(asset_id)) if market else ("", "?")

    # -- resolution ---------------------------------------------------------------------
    def resolve(self, condition_id: str, winner: str) -> None:
        self.resolved[condition_id] = winner

    def is_resolved(self, condition_id: str) -> bool:
        return condition_id in self.resolved

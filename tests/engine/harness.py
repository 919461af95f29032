"""What engine tests share: a feed control for data that cannot be asked again."""

from __future__ import annotations


class NoFeed:
    """A tape's feed control: it cannot re-snapshot or subscribe, so both are no-ops."""

    def want_snapshot(self, asset_ids: object) -> None:
        return None

    def hit(self, asset_id: str) -> None:
        return None

    def market_listed(self, event: object) -> None:
        return None

    def market_resolved(self, condition_id: str) -> None:
        return None

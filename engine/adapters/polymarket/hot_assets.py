"""The hot-asset registry: which tokens deserve a WebSocket subscription.

Each asset has a base score (from 24h volume rank) plus hit boosts (an order, a
position, a signal) that expire after a TTL. Pinned assets always make the cut; the rest
are taken by score above ``min_score`` up to ``asset_limit``. While every token of the
selected markets fits under ``asset_limit`` (the default), all of them stream and the
ranking only orders them; it decides only when there are more. A selected asset stays
selected for at least ``sticky_s`` so subscriptions do not churn on small score moves.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HotAssetSettings:
    asset_limit: int = 2000
    static_assets: tuple[str, ...] = ()
    min_score: float = 0.0
    sticky_s: float = 60.0
    ttl_s: float = 300.0
    hit_boost: float = 1.0


class HotAssetRegistry:
    def __init__(self, settings: HotAssetSettings) -> None:
        self.settings = settings
        self._base: dict[str, float] = {}
        self._hits: dict[str, list[float]] = {}  # asset -> hit times
        self._selected_at: dict[str, float] = {}

    def set_base(self, asset_id: str, score: float) -> None:
        self._base[asset_id] = score

    def remove(self, asset_id: str) -> None:
        """Forget an asset (its market resolved): it is never selected again."""
        self._base.pop(asset_id, None)
        self._hits.pop(asset_id, None)
        self._selected_at.pop(asset_id, None)

    def hit(self, asset_id: str, now: float) -> None:
        self._hits.setdefault(asset_id, []).append(now)

    def score(self, asset_id: str, now: float) -> float:
        ttl = self.settings.ttl_s
        hits = self._hits.get(asset_id)
        if hits:
            hits[:] = [t for t in hits if now - t < ttl]
        boost = self.settings.hit_boost * len(hits) if hits else 0.0
        return self._base.get(asset_id, 0.0) + boost

    def select(self, now: float) -> list[str]:
        s = self.settings
        chosen: list[str] = [a for a in s.static_assets]
        taken = set(chosen)
        # Sticky assets keep their place while their stickiness lasts.
        for asset, since in sorted(self._selected_at.items(), key=lambda kv: kv[1]):
            if asset not in taken and now - since < s.sticky_s and len(chosen) < s.asset_limit:
                chosen.append(asset)
                taken.add(asset)
        candidates = sorted(
            (a for a in set(self._base) | set(self._hits) if a not in taken),
            key=lambda a: (-self.score(a, now), a),
        )
        for asset in candidates:
            if len(chosen) >= s.asset_limit:
                break
            if self.score(asset, now) >= s.min_score:
                chosen.append(asset)
                taken.add(asset)
        self._selected_at = {a: self._selected_at.get(a, now) for a in chosen}
        return chosen

"""The Polymarket feed: Gamma discovery, CLOB REST snapshots and the market WebSocket.

The same adapter serves live data and ``--offline`` (pointed at the loopback emulator).
While the WebSocket is down or silent, books are sampled over REST; books the engine
stops trusting are re-fetched; the hot-asset registry decides what stays subscribed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import httpx

from engine.adapters.net.http import PacedHttp, VenueError
from engine.adapters.net.loopback import ensure_loopback
from engine.adapters.polymarket.hot_assets import HotAssetRegistry, HotAssetSettings
from engine.adapters.polymarket.market_ws import MarketWebSocket
from engine.clock import Clock
from engine.config import FeedConfig, HotAssetConfig
from engine.market.health import FeedHealth, FeedSource
from engine.market.markets import (
    MarketInfo,
    MetadataError,
    parse_clob_market,
    parse_gamma_market,
    rank_markets,
)
from engine.ports import MarketDataSink

log = logging.getLogger("engine.adapters.polymarket")

BOOKS_PER_REQUEST = 50


class FeedError(RuntimeError):
    """The feed cannot start (no markets, venue unreachable); the message says why."""


class PolymarketFeed:
    def __init__(
        self,
        config: FeedConfig,
        hot_assets: HotAssetConfig,
        clock: Clock,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if config.offline:
            for name in ("clob_rest_url", "market_ws_url", "gamma_url"):
                ensure_loopback(getattr(config, name), name)
        self.config = config
        self.hot_config = hot_assets
        self.clock = clock
        self.health = FeedHealth()
        self.http = PacedHttp(
            clock,
            self.health,
            max_concurrency=config.rest_max_concurrency,
            rate_per_s=config.rest_rate_per_s,
            burst=config.rest_burst,
            timeout_s=config.rest_timeout_s,
            max_retries=config.rest_max_retries,
            backoff_base_s=config.backoff_base_s,
            backoff_cap_s=config.backoff_cap_s,
            offline=config.offline,
            transport=transport,
        )
        self.registry = HotAssetRegistry(
            HotAssetSettings(
                asset_limit=hot_assets.asset_limit,
                static_assets=hot_assets.static_assets,
                min_score=hot_assets.min_score,
                sticky_s=hot_assets.sticky_s,
                ttl_s=hot_assets.ttl_s,
                hit_boost=hot_assets.hit_boost,
            )
        )
        self.markets: list[MarketInfo] = []
        self.ws: MarketWebSocket | None = None
        self._want: set[str] = set()
        self._sink: MarketDataSink | None = None

    # -- the port -----------------------------------------------------------------
    def want_snapshot(self, asset_ids: Iterable[str]) -> None:
        self._want.update(asset_ids)

    def hit(self, asset_id: str) -> None:
        self.registry.hit(asset_id, self.clock.monotonic())

    async def run(self, sink: MarketDataSink) -> None:
        self._sink = sink
        try:
            self.markets = await self.discover()
            sink.on_markets(self.markets)
            for rank, market in enumerate(self.markets):
                for token in market.token_ids:
                    self.registry.set_base(token, float(len(self.markets) - rank))
            assets = self.registry.select(self.clock.monotonic())
            await self._fetch_books(assets)
            self.ws = MarketWebSocket(
                self.config.market_ws_url,
                self.clock,
                self.health,
                self._on_ws_frame,
                ping_interval_s=self.config.ws_ping_interval_s,
                stale_after_s=self.config.ws_stale_after_s,
                reconnect_base_s=self.config.ws_reconnect_base_s,
                reconnect_cap_s=self.config.ws_reconnect_cap_s,
                offline=self.config.offline,
                on_connected=self._on_ws_connected,
            )
            await self.ws.update_assets(assets)
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self.ws.run(), name="feed-ws")
                tg.create_task(self._rest_fallback(), name="feed-rest-fallback")
                tg.create_task(self._resnapshot(), name="feed-resnapshot")
                tg.create_task(self._hot_assets(), name="feed-hot-assets")
        finally:
            await self.http.aclose()

    # -- discovery ----------------------------------------------------------------
    async def discover(self) -> list[MarketInfo]:
        """Top markets by 24h volume (or liquidity) from Gamma, refined by the CLOB."""
        cfg = self.config
        try:
            found = await self._gamma_markets()
        except VenueError as exc:
            log.warning("Gamma unavailable (%s); falling back to CLOB /sampling-markets", exc)
            try:
                found = await self._clob_markets()
            except VenueError as exc2:
                raise FeedError(
                    f"cannot list markets: Gamma and CLOB both failed ({exc2})"
                ) from exc2
        ranked = rank_markets(found, cfg.max_markets, cfg.rank_by)
        if not ranked:
            raise FeedError("the venue listed no active markets accepting orders")
        refined = await asyncio.gather(*(self._refine(m) for m in ranked))
        markets = [m for m in refined if m is not None]
        if not markets:
            raise FeedError("no market's fee and tick data could be fetched")
        return markets

    async def _gamma_markets(self) -> list[MarketInfo]:
        order = "volume24hr" if self.config.rank_by == "volume" else "liquidity"
        params = {
            "active": "true",
            "closed": "false",
            "order": order,
            "ascending": "false",
            "limit": str(max(20, self.config.max_markets * 3)),
        }
        raw = await self.http.get_json(f"{self.config.gamma_url}/markets", params)
        return _parse_all(raw if isinstance(raw, list) else [], parse_gamma_market)

    async def _clob_markets(self) -> list[MarketInfo]:
        page = await self.http.get_json(f"{self.config.clob_rest_url}/sampling-markets")
        return _parse_all(page.get("data", []) if isinstance(page, dict) else [], parse_clob_market)

    async def _refine(self, market: MarketInfo) -> MarketInfo | None:
        """Fee, tick and neg-risk from /clob-markets; fees are never assumed to be zero."""
        url = f"{self.config.clob_rest_url}/clob-markets/{market.condition_id}"
        try:
            record = await self.http.get_json(url)
            return market.with_clob_record(record)
        except (VenueError, MetadataError, KeyError, TypeError, ValueError) as exc:
            log.warning(
                "skipping %s: no fee/tick data (%s)", market.slug or market.condition_id, exc
            )
            return None

    # -- books ------------------------------------------------------------------
    async def _fetch_books(self, assets: list[str]) -> None:
        sink = self._sink
        assert sink is not None
        for i in range(0, len(assets), BOOKS_PER_REQUEST):
            chunk = assets[i : i + BOOKS_PER_REQUEST]
            raw = await self.http.request(
                "POST",
                f"{self.config.clob_rest_url}/books",
                json_body=[{"token_id": t} for t in chunk],
            )
            self.health.last_rest_fetch = self.clock.monotonic()
            sink.on_frame(raw, self.clock.time(), "rest")

    def _on_ws_frame(self, raw: str | bytes, recv_ts: float) -> None:
        sink = self._sink
        assert sink is not None
        sink.on_frame(raw, recv_ts, "ws")

    async def _on_ws_connected(self) -> None:
        # After a (re)connect the books may have moved while we were away: the venue's
        # initial dump re-snapshots them, and a REST pass makes sure of it.
        if self.health.ws_reconnects:
            self.want_snapshot(self.ws.assets if self.ws else [])

    async def _rest_fallback(self) -> None:
        """While the WS is not live, sample subscribed books over REST."""
        while True:
            await self.clock.sleep(self.config.rest_poll_interval_s)
            if self.health.source is FeedSource.WS_LIVE or self.ws is None:
                continue
            if not self.health.ws_connected and self.health.source is not FeedSource.REST_ONLY:
                self.health.set_source(
                    FeedSource.REST_ONLY, self.clock.monotonic(), self.health.fallback_reason
                )
            try:
                await self._fetch_books(self.ws.assets)
            except VenueError as exc:
                log.warning("REST fallback failed: %s", exc)

    async def _resnapshot(self) -> None:
        while True:
            await self.clock.sleep(self.config.resnapshot_interval_s)
            if not self._want:
                continue
            wanted = sorted(self._want)
            self._want.clear()
            try:
                await self._fetch_books(wanted)
            except VenueError as exc:
                log.warning("re-snapshot of %d books failed: %s", len(wanted), exc)
                self._want.update(wanted)

    async def _hot_assets(self) -> None:
        while True:
            await self.clock.sleep(self.hot_config.refresh_s)
            if self.ws is None:
                continue
            chosen = self.registry.select(self.clock.monotonic())
            if chosen != self.ws.assets:
                added = [a for a in chosen if a not in set(self.ws.assets)]
                await self.ws.update_assets(chosen)
                if added:
                    self.want_snapshot(added)


def _parse_all(objects: list[Any], parse: Any) -> list[MarketInfo]:
    markets: list[MarketInfo] = []
    for obj in objects:
        try:
            markets.append(parse(obj))
        except (MetadataError, KeyError, TypeError, ValueError) as exc:
            log.info("skipping a market without usable metadata: %s", exc)
    return markets

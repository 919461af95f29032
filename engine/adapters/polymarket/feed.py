"""The Polymarket feed: Gamma discovery, CLOB REST snapshots and the market WebSocket.

The same adapter serves live data and ``--offline`` (pointed at the loopback emulator).

Start-up: the markets from Gamma (paged), each refined by its ``/clob-markets`` record
(fees, tick, neg-risk), then every selected book by batched ``POST /books``, all paced by
the venue's published per-endpoint limits rather than one global rate, so 200 markets
load in about a second. ``health.startup`` says what it is doing meanwhile ("market
details 120/200", "loading books 120/400"). Markets the feed cannot trade (no token ids,
no fee/tick data) are skipped and counted by reason in ``health.skipped_markets``.

Then the market WebSocket, sharded (see :mod:`market_ws`): every token of the selected
markets streams while they fit under the hot-asset cap; past it the hot-asset registry
ranks them. While a shard is down or silent its books are sampled over REST; books the
engine stops trusting are re-fetched; markets the venue lists while we run
(``new_market``) are followed, resolved ones (``market_resolved``) unsubscribed.

Markets by name: with a watch list (``--watch SLUG_OR_ID``, ``watch = [...]``) the feed
trades exactly those markets (a slug, a condition id or a token id each, looked up on
Gamma) instead of the top-N ranking, and fails to start, naming the entry, if one names
no market. While it runs a person can search Gamma by text and add or remove a market
(:class:`~engine.ports.MarketChooser`): subscribed, or unsubscribed, at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Iterable
from typing import Any

import httpx
import msgspec

from engine.adapters.net.http import PacedHttp, VenueError
from engine.adapters.net.loopback import ensure_loopback
from engine.adapters.polymarket.hot_assets import HotAssetRegistry, HotAssetSettings
from engine.adapters.polymarket.market_ws import MarketStream
from engine.adapters.polymarket.wire.market import NewMarketEvent
from engine.clock import Clock
from engine.config import FeedConfig, HotAssetConfig
from engine.market.health import FeedHealth, FeedSource
from engine.market.markets import (
    MarketInfo,
    MetadataError,
    Outcome,
    parse_clob_market,
    parse_gamma_market,
    rank_markets,
)
from engine.ports import MarketChoiceError, MarketDataSink

log = logging.getLogger("engine.adapters.polymarket")

BOOKS_PER_REQUEST = 50  # the venue takes up to 500; smaller answers arrive sooner
GAMMA_PAGE = 500  # Gamma's largest page
NO_TOKEN_IDS = "no token ids"
NO_METADATA = "unusable metadata"
NO_FEE_DATA = "no fee/tick data"
NOT_FOLLOWED = "listed while running (follow_new_markets = false)"

_LIST = msgspec.json.Decoder(list[msgspec.Raw])


class FeedError(RuntimeError):
    """The feed cannot start (no markets, venue unreachable); the message says why."""


def tradeable_tokens(market: MarketInfo) -> bool:
    return bool(market.outcomes) and all(market.token_ids)


class PolymarketFeed:
    def __init__(
        self,
        config: FeedConfig,
        hot_assets: HotAssetConfig,
        clock: Clock,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        watch: Iterable[str] = (),
    ) -> None:
        """`watch`: the markets to trade (slugs, condition ids or token ids); empty: the
        top `max_markets` by the ranking."""
        if config.offline:
            for name in ("clob_rest_url", "market_ws_url", "gamma_url"):
                ensure_loopback(getattr(config, name), name)
        self.config = config
        self.watch = tuple(dict.fromkeys(w.strip() for w in watch if w.strip()))
        self.hot_config = hot_assets
        self.clock = clock
        self.health = FeedHealth()
        self.http = PacedHttp(
            clock,
            self.health,
            max_concurrency=config.rest_max_concurrency,
            limits=config.rate_limits,
            hosts={"CLOB": config.clob_rest_url, "GAMMA": config.gamma_url},
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
        self.stream: MarketStream | None = None
        self._want: set[str] = set()
        self._sink: MarketDataSink | None = None
        self._listed: list[NewMarketEvent] = []
        self._resolved: list[str] = []
        self._changes = asyncio.Event()
        self._select_lock = asyncio.Lock()
        self._retired: set[str] = set()  # tokens of resolved markets: never again

    # -- the port -----------------------------------------------------------------
    def want_snapshot(self, asset_ids: Iterable[str]) -> None:
        self._want.update(asset_ids)

    def hit(self, asset_id: str) -> None:
        if asset_id not in self._retired:
            self.registry.hit(asset_id, self.clock.monotonic())

    def market_listed(self, event: NewMarketEvent) -> None:
        self._listed.append(event)
        self._changes.set()

    def market_resolved(self, condition_id: str) -> None:
        self._resolved.append(condition_id)
        self._changes.set()

    def skip(self, reason: str, what: str, count: int = 1) -> None:
        skipped = self.health.skipped_markets
        skipped[reason] = skipped.get(reason, 0) + count
        log.info("skipping %s: %s", what, reason)

    async def run(self, sink: MarketDataSink) -> None:
        self._sink = sink
        health = self.health
        try:
            self.markets = await self.discover()
            sink.on_markets(self.markets)
            for rank, market in enumerate(self.markets):
                for token in market.token_ids:
                    self.registry.set_base(token, float(len(self.markets) - rank))
            assets = self.registry.select(self.clock.monotonic())
            await self._load_books(assets)
            cfg = self.config
            self.stream = MarketStream(
                cfg.market_ws_url,
                self.clock,
                health,
                sink.on_frame,
                shard_size=cfg.ws_shard_size,
                ping_interval_s=cfg.ws_ping_interval_s,
                stale_after_s=cfg.ws_stale_after_s,
                reconnect_base_s=cfg.ws_reconnect_base_s,
                reconnect_cap_s=cfg.ws_reconnect_cap_s,
                compression=cfg.ws_compression == "deflate",
                slice_bytes=cfg.ws_slice_bytes,
                offline=cfg.offline,
                on_connected=self._on_ws_reconnected,
            )
            await self.stream.update_assets(assets)
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self.stream.run(), name="feed-ws")
                tg.create_task(self._rest_fallback(), name="feed-rest-fallback")
                tg.create_task(self._resnapshot(), name="feed-resnapshot")
                tg.create_task(self._hot_assets(), name="feed-hot-assets")
                tg.create_task(self._market_changes(), name="feed-market-changes")
        finally:
            await self.http.aclose()

    # -- discovery ----------------------------------------------------------------
    async def discover(self) -> list[MarketInfo]:
        """The markets to trade, refined by the CLOB: the watch list's exactly (its
        neg-risk markets' events are not completed: their count stays unknown, so they
        are never priced as a basket), or the top markets by 24h volume (or liquidity)
        with their neg-risk events made whole."""
        if self.watch:
            ranked = await self._watched()
        else:
            ranked = await self._complete_events(await self._ranked())
        done = 0

        async def refine(market: MarketInfo) -> MarketInfo | None:
            nonlocal done
            refined = await self._refine(market)
            done += 1
            self.health.startup = f"market details {done}/{len(ranked)}"
            return refined

        self.health.startup = f"market details 0/{len(ranked)}"
        refined = await asyncio.gather(*(refine(m) for m in ranked))
        markets = [m for m in refined if m is not None]
        if not markets:
            raise FeedError("no market's fee and tick data could be fetched")
        return markets

    async def _watched(self) -> list[MarketInfo]:
        """The watch list's markets, in its order; FeedError naming an entry that names no
        market this venue trades."""
        self.health.startup = f"finding the {len(self.watch)} watched markets"
        found: dict[str, MarketInfo] = {}
        for ref in self.watch:
            try:
                market = await self.lookup(ref)
            except MarketChoiceError as exc:
                raise FeedError(f"watch {exc}") from exc
            found.setdefault(market.condition_id, market)
        return list(found.values())

    async def _ranked(self) -> list[MarketInfo]:
        """The top `max_markets` by 24h volume (or liquidity)."""
        cfg = self.config
        self.health.startup = "listing markets"
        try:
            found = await self._gamma_markets()
        except VenueError as exc:
            try:
                found = await self._clob_markets()
            except VenueError as exc2:
                if exc.unreachable and exc2.unreachable:
                    raise FeedError(
                        f"{exc2}: no network, or a wrong venue URL (CLOB_REST_URL, "
                        "GAMMA_API_URL, PROXY_URL); check the connection, or run --offline "
                        "for the local exchange emulator"
                    ) from exc2
                raise FeedError(
                    f"cannot list markets: Gamma and CLOB both failed ({exc2})"
                ) from exc2
            log.warning("Gamma unavailable (%s); listed markets from CLOB /sampling-markets", exc)
        usable = []
        for market in found:
            if tradeable_tokens(market):
                usable.append(market)
            else:
                self.skip(NO_TOKEN_IDS, market.slug or market.condition_id)
        ranked = rank_markets(usable, cfg.max_markets, cfg.rank_by)
        if not ranked:
            raise FeedError("the venue listed no active markets accepting orders")
        return ranked

    # -- markets by name -----------------------------------------------------------------
    async def lookup(self, ref: str) -> MarketInfo:
        """The market `ref` names on Gamma: a slug, a condition id (0x...) or a token id
        (digits). MarketChoiceError when it names none, or one that no longer trades."""
        ref = ref.strip()
        param = "condition_ids" if ref.startswith("0x") else "clob_token_ids"
        if not ref.isdigit() and not ref.startswith("0x"):
            param = "slug"
        try:
            raw = await self.http.get_json(f"{self.config.gamma_url}/markets", {param: ref})
        except VenueError as exc:
            raise MarketChoiceError(f"{ref!r}: Gamma did not answer ({exc})") from exc
        found = [
            m
            for m in self._parse_all(raw if isinstance(raw, list) else [], parse_gamma_market)
            if tradeable_tokens(m)
        ]
        if not found:
            raise MarketChoiceError(
                f"{ref!r}: no market with that slug, condition id or token id on this venue"
            )
        market = found[0]
        if market.closed or not market.active or not market.accepting_orders:
            raise MarketChoiceError(f"{ref!r}: “{market.question}” no longer takes orders")
        return market

    async def search_markets(self, text: str, limit: int = 10) -> list[MarketInfo]:
        """Open markets Gamma finds for `text` (its public search), best first."""
        try:
            raw = await self.http.get_json(
                f"{self.config.gamma_url}/public-search",
                {"q": text, "limit_per_type": str(limit), "events_status": "active"},
            )
        except VenueError as exc:
            raise MarketChoiceError(f"search {text!r}: Gamma did not answer ({exc})") from exc
        events = raw.get("events") if isinstance(raw, dict) else None
        found: dict[str, MarketInfo] = {}
        for event in events if isinstance(events, list) else []:
            if not isinstance(event, dict):
                continue
            objects = [m for m in event.get("markets") or [] if isinstance(m, dict)]
            for market in self._parse_all(objects, parse_gamma_market):
                if market.active and not market.closed and tradeable_tokens(market):
                    found.setdefault(market.condition_id, market)
        return list(found.values())[:limit]

    async def add_market(self, ref: str) -> MarketInfo:
        """Trade the market `ref` names from now on: listed, its books fetched, streamed."""
        market = await self.lookup(ref)
        if any(m.condition_id == market.condition_id for m in self.markets):
            raise MarketChoiceError(f"“{market.question}” is already traded")
        refined = await self._refine(market)
        if refined is None:
            raise MarketChoiceError(f"“{market.question}”: its fee and tick data did not load")
        sink = self._sink
        if sink is None:
            raise MarketChoiceError("the feed has not started yet: try again in a moment")
        self.markets.append(refined)
        sink.on_markets(self.markets)
        tokens = list(refined.token_ids)
        for token in tokens:
            self._retired.discard(token)
            # A person chose it: streamed ahead of the ranked markets.
            self.registry.set_base(token, float(len(self.markets) + 1))
        await self._fetch_books(tokens)
        await self._reselect()
        log.info("watching %s (%s)", refined.question, refined.slug or refined.condition_id)
        return refined

    async def remove_market(self, condition_id: str) -> MarketInfo:
        """Stop trading the market: unlisted and unsubscribed (the runner makes sure
        nothing is held or resting there first)."""
        market = next((m for m in self.markets if m.condition_id == condition_id), None)
        if market is None:
            raise MarketChoiceError(f"{condition_id!r} is not a market this run trades")
        sink = self._sink
        if sink is None:
            raise MarketChoiceError("the feed has not started yet: try again in a moment")
        self.markets.remove(market)
        sink.on_markets(self.markets)
        for token in market.token_ids:
            self.registry.remove(token)
        await self._reselect()
        log.info("no longer watching %s", market.question)
        return market

    async def _gamma_markets(self) -> list[MarketInfo]:
        order = "volume24hr" if self.config.rank_by == "volume" else "liquidity"
        wanted = max(20, self.config.max_markets * 3)
        found: list[MarketInfo] = []
        offset = 0
        while offset < wanted:
            limit = min(GAMMA_PAGE, wanted - offset)
            params = {
                "active": "true",
                "closed": "false",
                "order": order,
                "ascending": "false",
                "limit": str(limit),
                "offset": str(offset),
            }
            raw = await self.http.get_json(f"{self.config.gamma_url}/markets", params)
            page = raw if isinstance(raw, list) else []
            found += self._parse_all(page, parse_gamma_market)
            if len(page) < limit:
                break
            offset += limit
        return found

    async def _complete_events(self, ranked: list[MarketInfo]) -> list[MarketInfo]:
        """Every neg-risk event the selection reaches, from Gamma's ``/events``: each of
        its markets learns how many open outcomes the event has (and whether it can gain
        more), and the ones the ranking left out join, so the event's basket is whole. An
        event with more than ``max_event_markets`` open outcomes stays partial (its
        markets still know their count, so it is never priced as a basket); an event
        Gamma cannot describe leaves its markets' count unknown, with the same effect."""
        ids = sorted({m.event_id for m in ranked if m.neg_risk and m.event_id})
        if not ids:
            return ranked
        self.health.startup = f"neg-risk events 0/{len(ids)}"
        try:
            raw = await self.http.get_json(
                f"{self.config.gamma_url}/events", {"id": ids, "limit": str(len(ids))}
            )
        except VenueError as exc:
            log.warning("neg-risk events unavailable (%s): their baskets stay off", exc)
            return ranked
        events = [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []
        by_id = {m.condition_id: m for m in ranked}
        limit = self.config.max_event_markets
        for event in events:
            event_id = str(event.get("id") or "")
            if event_id not in ids or not event.get("negRisk", True):
                continue
            members = [
                m
                for m in self._parse_all(
                    [x for x in event.get("markets") or [] if isinstance(x, dict)],
                    parse_gamma_market,
                )
                if m.active and not m.closed and tradeable_tokens(m)
            ]
            augmented = bool(event.get("negRiskAugmented", False))
            whole = len(members) <= limit
            if not whole:
                log.info(
                    "event %s has %d open outcomes (> feed.max_event_markets = %d): "
                    "not loaded whole, never a basket",
                    event_id,
                    len(members),
                    limit,
                )
            for m in members:
                known = by_id.get(m.condition_id)
                if known is None and not whole:
                    continue
                base = known if known is not None else m
                by_id[m.condition_id] = dataclasses.replace(
                    base,
                    neg_risk=True,
                    event_id=event_id,
                    event_markets=len(members),
                    event_augmented=augmented,
                )
        self.health.startup = f"neg-risk events {len(ids)}/{len(ids)}"
        return list(by_id.values())

    async def _clob_markets(self) -> list[MarketInfo]:
        page = await self.http.get_json(f"{self.config.clob_rest_url}/sampling-markets")
        return self._parse_all(
            page.get("data", []) if isinstance(page, dict) else [], parse_clob_market
        )

    def _parse_all(self, objects: list[Any], parse: Any) -> list[MarketInfo]:
        markets: list[MarketInfo] = []
        bad = 0
        for obj in objects:
            try:
                markets.append(parse(obj))
            except (MetadataError, KeyError, TypeError, ValueError) as exc:
                bad += 1
                log.info("skipping a market without usable metadata: %s", exc)
        if bad:
            skipped = self.health.skipped_markets
            skipped[NO_METADATA] = skipped.get(NO_METADATA, 0) + bad
        return markets

    async def _refine(self, market: MarketInfo) -> MarketInfo | None:
        """Fee, tick and neg-risk from /clob-markets; fees are never assumed to be zero."""
        url = f"{self.config.clob_rest_url}/clob-markets/{market.condition_id}"
        try:
            record = await self.http.get_json(url)
            return market.with_clob_record(record)
        except (VenueError, MetadataError, KeyError, TypeError, ValueError) as exc:
            self.skip(NO_FEE_DATA, f"{market.slug or market.condition_id} ({exc})")
            return None

    # -- books ------------------------------------------------------------------
    async def _load_books(self, assets: list[str]) -> None:
        """Every selected book by batched ``POST /books``, with progress in the health."""
        health = self.health
        health.books_expected = len(assets)
        health.books_loaded = 0
        health.startup = f"loading books 0/{len(assets)}"
        chunks = [
            assets[i : i + BOOKS_PER_REQUEST] for i in range(0, len(assets), BOOKS_PER_REQUEST)
        ]

        async def load(chunk: list[str]) -> None:
            health.books_loaded += await self._fetch_books(chunk)
            health.startup = f"loading books {health.books_loaded}/{len(assets)}"

        # Concurrent (the client's concurrency cap and the venue's table pace them);
        # each answer is applied as it lands.
        async with asyncio.TaskGroup() as tg:
            for chunk in chunks:
                tg.create_task(load(chunk))
        health.startup = None

    async def _fetch_books(self, assets: list[str]) -> int:
        """REST books for `assets` into the sink; returns how many the venue answered."""
        sink = self._sink
        assert sink is not None
        answered = 0
        for i in range(0, len(assets), BOOKS_PER_REQUEST):
            chunk = assets[i : i + BOOKS_PER_REQUEST]
            raw = await self.http.request(
                "POST",
                f"{self.config.clob_rest_url}/books",
                json_body=[{"token_id": t} for t in chunk],
            )
            self.health.last_rest_fetch = self.clock.monotonic()
            sink.on_frame(raw, self.clock.time(), "rest")
            with contextlib.suppress(msgspec.DecodeError):  # the book builder counts it
                answered += len(_LIST.decode(raw))
        return answered

    async def _on_ws_reconnected(self, assets: list[str]) -> None:
        # After a reconnect the books may have moved while we were away: the venue's
        # initial dump re-snapshots them, and a REST pass makes sure of it.
        self.want_snapshot(assets)

    async def _rest_fallback(self) -> None:
        """While a shard is not live, sample its books over REST."""
        while True:
            await self.clock.sleep(self.config.rest_poll_interval_s)
            stream = self.stream
            if stream is None or self.health.source is FeedSource.WS_LIVE:
                continue
            assets = stream.assets_not_live()
            if not assets:
                continue
            try:
                await self._fetch_books(assets)
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

    # -- what streams ------------------------------------------------------------------
    async def _hot_assets(self) -> None:
        while True:
            await self.clock.sleep(self.hot_config.refresh_s)
            await self._reselect()

    async def _reselect(self) -> None:
        stream = self.stream
        if stream is None:
            return
        async with self._select_lock:
            chosen = self.registry.select(self.clock.monotonic())
            current = stream.assets
            if chosen == current:
                return
            held = set(current)
            added = [a for a in chosen if a not in held]
            await stream.update_assets(chosen)
            if added:
                self.want_snapshot(added)

    async def _market_changes(self) -> None:
        """Follow markets listed while we run; stop streaming resolved ones."""
        while True:
            await self._changes.wait()
            self._changes.clear()
            listed, self._listed = self._listed, []
            resolved, self._resolved = self._resolved, []
            added: list[MarketInfo] = []
            for event in listed:
                market = await self._listing(event)
                if market is not None:
                    added.append(market)
            if added:
                self.markets.extend(added)
                assert self._sink is not None
                self._sink.on_markets(self.markets)
                for market in added:
                    log.info("following a new market: %s", market.question)
                    for token in market.token_ids:
                        self.registry.set_base(token, 0.5)  # after the ranked ones
            for condition_id in resolved:
                gone = next((m for m in self.markets if m.condition_id == condition_id), None)
                if gone is None:
                    continue
                for token in gone.token_ids:
                    self._retired.add(token)
                    self.registry.remove(token)
            if added or resolved:
                await self._reselect()

    async def _listing(self, event: NewMarketEvent) -> MarketInfo | None:
        """A market from its ``new_market`` message and ``/clob-markets`` record."""
        what = event.slug or event.market
        if any(m.condition_id == event.market for m in self.markets):
            return None
        if not self.config.follow_new_markets:
            self.skip(NOT_FOLLOWED, what)
            return None
        tokens = event.assets_ids
        if not tokens or not all(tokens):
            self.skip(NO_TOKEN_IDS, what)
            return None
        names = event.outcomes if len(event.outcomes) == len(tokens) else []
        info = MarketInfo(
            condition_id=event.market,
            question=event.question or what,
            slug=event.slug,
            outcomes=tuple(
                Outcome(t, names[i] if names else f"Outcome {i + 1}") for i, t in enumerate(tokens)
            ),
            gamma_id=event.id,
        )
        return await self._refine(info)

"""What a decision pass hands each strategy: one :class:`MarketContext` per changed token.

Kept per token and updated, not rebuilt: a token's context is made the first time a
strategy is asked about it (and again when the markets are listed anew); each pass then
only sets what moves (position, clocks, sentiment, flow, lots). The read-only book views
are made once per book, the trade flow per token is fed from the feed's trade prints as
they arrive, and a token nobody holds gets one shared empty lots mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from engine.execution.lots import LotBook
from engine.fixed import SIZE_SCALE
from engine.market.book import OrderBook
from engine.market.book_view import BookView
from engine.market.flow import TradeFlow
from engine.market.markets import MarketInfo
from engine.market.registry import MarketRegistry
from engine.strategies.base import MarketContext, OwnLot
from engine.strategies.sentiment import SentimentBook

_NO_LOTS: Mapping[str, tuple[OwnLot, ...]] = MappingProxyType({})


class ContextFactory:
    def __init__(
        self,
        books: Mapping[str, OrderBook],
        lots: LotBook,
        registry: MarketRegistry,
        sentiment: SentimentBook | None = None,
    ) -> None:
        self._books = books
        self._lots = lots
        self._registry = registry
        self.sentiment = sentiment
        self._views: dict[str, BookView] = {}
        self.flows: dict[str, TradeFlow] = {}
        self._contexts: dict[str, MarketContext] = {}
        self._version = registry.version

    def on_trade(self, asset_id: str, size: int, now: float) -> None:
        """A trade print on this token (size in 1e-6 shares, `now` monotonic; the core
        passes its clock's)."""
        flow = self.flows.get(asset_id)
        if flow is None:
            flow = self.flows[asset_id] = TradeFlow()
        flow.on_print(size / SIZE_SCALE, now)

    def view(self, asset_id: str) -> BookView | None:
        view = self._views.get(asset_id)
        if view is None:
            book = self._books.get(asset_id)
            if book is None:
                return None
            view = self._views[asset_id] = BookView(book)
        return view

    def lots(self, asset_id: str) -> Mapping[str, tuple[OwnLot, ...]]:
        lots = self._lots.of(asset_id)
        if not lots:
            return _NO_LOTS
        out: dict[str, tuple[OwnLot, ...]] = {}
        for lot in lots.values():
            own = OwnLot(lot.entry_price, lot.shares, lot.opened_at)
            # A lot a combined decision ("a+b") opened belongs to each of its strategies.
            for name in lot.strategy.names or ("",):
                out[name] = (*out.get(name, ()), own)
        return out

    def build(
        self,
        asset_id: str,
        market: MarketInfo,
        view: BookView,
        position: int,
        now: float,
        wall: float,
    ) -> MarketContext:
        complement_id = market.complement_of(asset_id)
        sentiment = self.sentiment
        return MarketContext(
            asset_id,
            market,
            view,
            position,
            now,
            wall,
            self.view(complement_id) if complement_id is not None else None,
            self._registry.events.get(market.event),
            sentiment.reading(market.condition_id) if sentiment is not None else None,
            self.flows.get(asset_id),
            self.lots(asset_id),
            self.view,
            self.lots,
        )

    def refresh(
        self, asset_id: str, market: MarketInfo, position: int, now: float, wall: float
    ) -> MarketContext:
        """The token's context as :meth:`build` would make it now, updated in place."""
        registry = self._registry
        if registry.version != self._version:  # listed anew: events and markets may differ
            self._version = registry.version
            self._contexts.clear()
        ctx = self._contexts.get(asset_id)
        if ctx is None or ctx.market is not market:
            view = self.view(asset_id)
            assert view is not None  # the core asks about tokens with books only
            ctx = self._contexts[asset_id] = self.build(asset_id, market, view, position, now, wall)
            return ctx
        if ctx.complement is None and (other := market.complement_of(asset_id)) is not None:
            ctx.complement = self.view(other)  # its book may have come since
        ctx.position = position
        ctx.now = now
        ctx.wall = wall
        sentiment = self.sentiment
        if sentiment is not None:
            ctx.sentiment = sentiment.reading(market.condition_id)
        ctx.flow = self.flows.get(asset_id)
        ctx.lots = self.lots(asset_id) if self._lots.lots else _NO_LOTS
        return ctx

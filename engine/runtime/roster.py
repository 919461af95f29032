"""The strategies a decision pass asks, and about which books.

A plain strategy is asked about every changed book that can be decided. An incremental
one (:class:`engine.strategies.base.Incremental`) keeps its inputs current from the
markets listed and the quote board's moves, and names once per pass the changed books it
has something to say about; it is also asked wherever lots are held on the book or its
complement when its exits read them (``lots_matter``). The roster hands each strategy
what it watches and, per pass, the strategies to ask about each book, in their order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import is_
from types import MappingProxyType

from engine.market.markets import MarketInfo
from engine.market.quotes import QuoteBoard
from engine.market.registry import MarketRegistry
from engine.market.sentiment import SentimentReading
from engine.strategies.base import Incremental, Strategy
from engine.strategies.sentiment import SentimentBook

_NO_READINGS: Mapping[str, SentimentReading] = MappingProxyType({})


class Roster:
    def __init__(
        self,
        strategies: Sequence[Strategy],
        board: QuoteBoard,
        registry: MarketRegistry,
        sentiment: SentimentBook | None = None,
    ) -> None:
        # The core's list (tests and tools swap strategies in it): re-read each pass.
        self.strategies = strategies if isinstance(strategies, list) else list(strategies)
        self._board = board
        self._registry = registry
        self._sentiment = sentiment
        self._books: Mapping[str, object] = {}
        self._seen: tuple[Strategy, ...] = ()  # the list as last taken in
        self.incremental: list[Incremental] = []
        self._kinds: list[tuple[Strategy, bool, bool]] = []
        self.plain = False
        self.lots_matter = False
        self._sync()
        board.add_listener(self._on_quotes)

    def _sync(self) -> None:
        """Take in the strategy list as it is now (once per pass: a cheap check)."""
        strategies = self.strategies
        seen = self._seen
        if len(seen) == len(strategies) and all(map(is_, seen, strategies)):
            return
        self._seen = tuple(strategies)
        before = {id(s) for s in self.incremental}
        self.incremental = [s for s in self.strategies if isinstance(s, Incremental)]
        chosen = {id(s) for s in self.incremental}
        # (strategy, asked about every book, asked where lots are held)
        self._kinds = [
            (s, id(s) not in chosen, id(s) not in chosen or bool(getattr(s, "lots_matter", 0)))
            for s in self.strategies
        ]
        # Every book goes to each strategy (a plain one is there), or some do where lots
        # are held: the core then merges per book (rare: lots are few).
        self.plain = any(every for _, every, _ in self._kinds)
        self.lots_matter = any(lots for _, _, lots in self._kinds)
        fresh = [s for s in self.incremental if id(s) not in before]
        if fresh and self._registry.markets:
            # Joining a run under way: the board is current only while someone watched.
            self._board.on_books(list(self._books))
            asks = self._board.asks
            for strategy in fresh:
                strategy.on_markets(self._registry.markets, self._registry.events)
                strategy.on_quotes(list(asks), asks)

    def watch(self, books: Mapping[str, object]) -> None:
        """The book store's books (by token), for a strategy that joins late."""
        self._books = books

    # -- the data intake's listeners -----------------------------------------------------------
    def on_books(self, changed: dict[str, None], now: float) -> None:
        """Books changed (or were flagged untrusted): the board re-reads their tops, while
        an incremental strategy watches it."""
        if self.incremental:
            self._board.on_books(changed, now)

    # -- Inputs (what an incremental strategy may read) ------------------------------------
    @property
    def asks(self) -> Mapping[str, int]:
        return self._board.asks

    @property
    def readings(self) -> Mapping[str, SentimentReading]:
        sentiment = self._sentiment
        return _NO_READINGS if sentiment is None else sentiment.readings()

    def market_of(self, asset_id: str) -> MarketInfo | None:
        return self._registry.by_token.get(asset_id)

    # -- what the strategies watch ----------------------------------------------------------
    def on_markets(self, listed: Sequence[MarketInfo]) -> None:
        """The markets listed now (a data intake's market listener)."""
        events = self._registry.events
        asks = self._board.asks
        current = list(asks)
        for strategy in self.incremental:
            strategy.on_markets(listed, events)
            strategy.on_quotes(current, asks)  # what it watches starts from the board

    def _on_quotes(self, moved: list[str]) -> None:
        asks = self._board.asks
        for strategy in self.incremental:
            strategy.on_quotes(moved, asks)

    # -- a pass ---------------------------------------------------------------------------------
    def plan(self, pending: Mapping[str, None], now: float) -> dict[str, list[Strategy]]:
        """Book -> the incremental strategies to ask about it (in their order), as they
        name them; plain strategies and lots are the core's to add (:meth:`asked`)."""
        self._sync()
        wanted: dict[str, list[Strategy]] = {}
        for strategy in self.incremental:
            for asset in strategy.select(pending, now, self):
                asked = wanted.get(asset)
                if asked is None:
                    wanted[asset] = [strategy]
                else:
                    asked.append(strategy)
        return wanted

    def asked(self, named: list[Strategy] | None, lots_held: bool) -> list[Strategy]:
        """Every strategy to ask about a book, in order: those named for it, the plain
        ones, and where lots are held those whose exits read them."""
        named = named or []
        return [
            s
            for s, every, lots in self._kinds
            if every or (lots and lots_held) or any(s is n for n in named)
        ]

"""Data intake: market frames into the book store, and what the rest of the engine needs
to know about them.

It owns the one set of books waiting for a decision (changed since their last pass), when
each book was last vouched for (a frame that touched it, or a live WebSocket that carries
it), re-snapshots with backoff, feed-source changes, and the markets the feed lists or
sees resolve. After each frame that changed books it tells its book listeners which ones
(in the order the kernel added them: the accounting marks its lots, the paper exchange
moves its queues); a resolution goes to the resolution listener once the frame is in.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence

from engine.adapters.polymarket.books import BookStore
from engine.clock import Clock
from engine.config import EngineConfig
from engine.events import FeedSourceChanged
from engine.market.book import OrderBook
from engine.market.health import FeedHealth, FeedSource
from engine.market.markets import MarketInfo
from engine.market.registry import MarketRegistry
from engine.ports import FeedControl

BookListener = Callable[[dict[str, None], float], None]  # (books changed, clock time)
MarketListener = Callable[[Sequence[MarketInfo]], None]  # the markets listed now
ResolutionListener = Callable[[MarketInfo, str], None]  # (market, winning token)
ProblemSink = Callable[[str, str], None]


class DataIntake:
    def __init__(
        self,
        config: EngineConfig,
        clock: Clock,
        books: BookStore,
        registry: MarketRegistry,
        health: FeedHealth,
        feed: FeedControl,
    ) -> None:
        self._config = config
        self._clock = clock
        self.books = books
        self._registry = registry
        self.health = health
        self._feed = feed
        # The one dirty set: books changed since their last decision, in change order.
        self._pending: dict[str, None] = {}
        self.received: dict[str, float] = {}  # asset -> recv_ts of the last frame on it
        self._last_ws_frame = -1e18  # recv_ts of the last WebSocket frame vouching for all
        self.counts: Counter[str] = Counter()
        # Latency from the frame (or headline) that made a book dirty to each order its
        # decision makes; off in backtests, whose ledgers must not depend on the
        # machine's speed. Per pending book: when its first change since its last
        # decision arrived (clock time); the book being decided now, its trigger.
        self.measure_latency = True
        self._since: dict[str, float] = {}
        self._trigger: float | None = None
        self._listeners: list[BookListener] = []
        self._flag_listeners: list[BookListener] = []
        self._market_listeners: list[MarketListener] = []
        self._on_resolution: ResolutionListener | None = None
        self._resolved_seen = 0
        self._listed_seen = 0
        self._last_source = health.source
        self._resnap_pending: dict[str, None] = {}
        self._resnap_attempts: dict[str, int] = {}
        self._resnap_next: dict[str, float] = {}

    # -- wiring (the kernel, once) --------------------------------------------------------
    def add_book_listener(self, listener: BookListener) -> None:
        self._listeners.append(listener)

    def add_flag_listener(self, listener: BookListener) -> None:
        """Told of books marked untrusted, changed or not (after the book listeners)."""
        self._flag_listeners.append(listener)

    def add_market_listener(self, listener: MarketListener) -> None:
        self._market_listeners.append(listener)

    def on_resolution(self, listener: ResolutionListener) -> None:
        self._on_resolution = listener

    def stop_measuring_latency(self) -> None:
        self.measure_latency = False
        self._since.clear()

    # -- markets --------------------------------------------------------------------------
    def on_markets(self, markets: Sequence[MarketInfo]) -> None:
        """The markets to trade. Books of markets already known keep what the stream
        taught them since (a tick_size_change): only new tokens get a book set up."""
        books = self.books
        for market, token in self._registry.list(markets):
            books.list_book(token, market.condition_id, market.tick, market.min_order_size)
        listed = self._registry.markets
        for listener in self._market_listeners:
            listener(listed)

    # -- frames -----------------------------------------------------------------------------
    def on_frame(self, raw: bytes | str, recv_ts: float, source: str = "ws") -> None:
        """Apply one frame. `recv_ts` is when it arrived (clock time); the decision it
        triggers runs when the runner next calls the core's decide()."""
        # The socket path runs this for every message: nothing the common case (no
        # listener interested, nothing resolved) does not need.
        books = self.books
        self.counts["messages"] += books.apply_frame(raw)
        if books.dirty:
            dirty = books.take_dirty()
            pending = self._pending
            if self.measure_latency:
                # A replayed tape's times are the recording's: its frames arrive now.
                arrived = recv_ts if self.health.source is not FeedSource.REPLAY else None
                since = self._since
                for asset in dirty:
                    if asset not in pending:
                        since[asset] = arrived if arrived is not None else self._clock.time()
            pending.update(dirty)
            received = self.received
            for asset in dirty:
                received[asset] = recv_ts
            # A WebSocket frame vouches for every book (the stream would have carried
            # their changes) only while every shard streams: a frame on one connection
            # says nothing of the books of another that is down. (A tape has no shards.)
            health = self.health
            if source == "ws" and health.ws_shards_live == health.ws_shards:
                self._last_ws_frame = recv_ts
            now = self._clock.time()
            for listener in self._listeners:
                listener(dirty, now)
        if books.flagged:
            flagged = books.take_flagged()
            now = self._clock.time()
            for listener in self._flag_listeners:
                listener(flagged, now)
        if len(books.resolved) != self._resolved_seen:
            self._settle_resolved()
        if len(books.new_markets) != self._listed_seen:
            listed = books.new_markets[self._listed_seen :]
            self._listed_seen = len(books.new_markets)
            for event in listed:
                self.counts["markets_listed"] += 1
                self._feed.market_listed(event)

    def _settle_resolved(self) -> None:
        resolved = self.books.resolved
        items = list(resolved.items())[self._resolved_seen :]
        self._resolved_seen = len(resolved)
        for market_id, winner in items:
            self._registry.resolve(market_id, winner)
            self._feed.market_resolved(market_id)
            market = self._registry.listed(market_id)
            if market is None:
                continue
            if winner not in market.token_ids:
                self.books.problem(
                    "bad_event", f"market_resolved for {market_id[:12]}… names no token of it"
                )
                continue
            if self._on_resolution is not None:
                self._on_resolution(market, winner)

    # -- the decision set ---------------------------------------------------------------------
    def mark(self, asset_ids: Sequence[str]) -> None:
        """Books to decide on although no frame changed them (a headline moved them)."""
        pending = self._pending
        now = self._clock.time() if self.measure_latency else 0.0
        for asset in asset_ids:
            if asset not in pending:
                pending[asset] = None
                if self.measure_latency:
                    self._since[asset] = now

    @property
    def pending(self) -> int:
        return len(self._pending)

    def take(self, limit: int | None = None) -> dict[str, None]:
        """The books to decide now, in the order they changed: all of them, or the first
        `limit` (the rest stay for the next pass, each decided once on its latest state)."""
        pending = self._pending
        if limit is None or len(pending) <= limit:
            self._pending = {}
            return pending
        taken = dict.fromkeys(itertools.islice(pending, limit))
        for asset in taken:
            del pending[asset]
        return taken

    def clear(self) -> None:
        self._pending.clear()
        self._since.clear()

    def deciding(self, asset_id: str | None) -> None:
        """The book the core decides now (None: the pass is over): the orders it makes
        are timed from the frame that triggered it."""
        self._trigger = None if asset_id is None else self._since.pop(asset_id, None)

    def latency_us(self) -> float | None:
        """Microseconds from the receipt of the frame (or headline) that triggered the
        decision under way to now; None outside a decision or when not measuring."""
        trigger = self._trigger
        if trigger is None or not self.measure_latency:
            return None
        return round(max(0.0, self._clock.time() - trigger) * 1e6, 1)

    # -- books --------------------------------------------------------------------------------
    def tradeable(self, asset_id: str) -> OrderBook | None:
        """The book when it can be traded on: it has a snapshot and none is pending."""
        book = self.books.books.get(asset_id)
        if book is None or not book.has_snapshot or book.needs_snapshot:
            return None
        return book

    def book_age(self, asset_id: str) -> float:
        """Seconds since the feed last vouched for this book: a frame that touched it, or
        any message on the live WebSocket that carries it (which would have carried its
        changes). A book no live connection carries ages from its own last frame."""
        received = self.received.get(asset_id, -1e18)
        health = self.health
        clock = self._clock
        vouched = health.last_message_for
        if vouched is not None:
            # Sharded: only the connection that carries this book vouches for it (a
            # PONG or any message on it would have carried its changes).
            age = clock.time() - received
            seen = vouched(asset_id)
            if seen is not None:
                age = min(age, clock.monotonic() - seen)
            return max(0.0, age)
        age = clock.time() - max(received, self._last_ws_frame)
        if health.ws_connected and health.last_ws_message is not None:
            age = min(age, clock.monotonic() - health.last_ws_message)
        return max(0.0, age)

    # -- housekeeping -------------------------------------------------------------------------
    def source_change(self) -> FeedSourceChanged | None:
        """The feed's source since the last call, when it changed."""
        source = self.health.source
        if source is self._last_source:
            return None
        previous, self._last_source = self._last_source, source
        return FeedSourceChanged(
            self._clock.time(), source.value, previous.value, self.health.fallback_reason
        )

    def resnapshot(self, now: float) -> None:
        """Ask the feed afresh for books it marked untrusted, each with its own backoff."""
        pending = self._resnap_pending
        for asset in self.books.take_needs_snapshot():
            pending[asset] = None
        attempts = self._resnap_attempts
        if attempts:
            books = self.books.books
            for asset in [a for a in attempts if not books[a].needs_snapshot]:
                del attempts[asset]
                self._resnap_next.pop(asset, None)
        if not pending:
            return
        due = [a for a in pending if self._resnap_next.get(a, 0.0) <= now]
        if not due:
            return
        cfg = self._config
        for asset in due:
            del pending[asset]
            n = attempts[asset] = attempts.get(asset, 0) + 1
            delay = min(cfg.resnapshot_backoff_cap_s, cfg.resnapshot_backoff_base_s * 2 ** (n - 1))
            self._resnap_next[asset] = now + delay
        self.counts["resnapshots"] += len(due)
        self._feed.want_snapshot(due)

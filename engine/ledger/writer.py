"""The ledger writer: typed engine events in, SQLite rows out, committed in batches.

One writer owns the connection, on one dedicated thread (a single-worker executor), so a
whole batch -- one ``executemany`` per statement and the commit -- costs one hop off the
event loop, not one per row. ``record()`` never blocks: it turns the event into plain
parameter tuples at once (a bad event fails in the caller, not in a batch), files them
under their statement in the batch being filled, and returns a sequence number.

Two ways to commit:

* ``autocommit=True`` (live and paper runs): a background task takes the oldest batch
  (up to ``batch_max`` events) and commits it as one transaction; records made meanwhile
  fill the next one. ``committed_seq`` and the commit listeners say how far the record
  is on disk (WAL, ``synchronous=FULL``), so a fill is never shown before it is durable.
* ``autocommit=False`` (backtests): nothing is written until ``await flush()``, which
  commits what was recorded before it in chunks of ``batch_max``. The same events with
  the same flush points give the same transactions, hence byte-identical files after
  ``close()`` (which checkpoints the WAL into the main file).

Within a batch the statements run in a fixed order (inserts of orders before their
updates, and so on); each table's rows keep the order in which they were recorded, and
rows that hold a latest state (orders, positions, markets) are overwritten in that
order, so grouping never changes the outcome.

A failed batch is rolled back whole and the ledger stops: the reason is logged once on
``engine.ledger`` (info), every later ``record()``/``flush()`` raises LedgerError, and the writer
thread itself refuses any batch queued behind the failed one, so nothing after a lost
batch is committed as if the record were whole. Cancelling a caller that waits for a
commit never cancels the commit; its outcome is applied all the same.

Times written are the events' ``at`` (the engine's clock); the writer never reads a
clock of its own.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import sqlite3
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from engine.events import (
    BasketDecided,
    BasketResolved,
    BookUpdated,
    EngineEvent,
    EngineStateChanged,
    ErrorRaised,
    FeedSourceChanged,
    Filled,
    FillReversed,
    HeadlineScored,
    IntentRejected,
    KillSwitchChanged,
    MarketsLoaded,
    OrderSubmitted,
    OrderUpdated,
    OrderVenueStatus,
    PositionChanged,
    PositionClosed,
    PositionSettled,
    Redeemed,
    RunEnded,
    RunStarted,
    ShadowRecorded,
    SignalRaised,
    TradingBlockChanged,
    VenueNoted,
)
from engine.files import create_private, refuse_foreign_link, tighten
from engine.ledger.errors import LedgerError
from engine.ledger.lock import WriterLock
from engine.ledger.schema import SCHEMA_VERSION, migrate
from engine.orders import OrderStatus

__all__ = ["SCHEMA_VERSION", "CommitListener", "LedgerError", "SqliteLedger"]

log = logging.getLogger("engine.ledger")

CommitListener = Callable[[int], None]
T = TypeVar("T")

# The statements a batch runs, in this order. Each event becomes rows (statement, params).
_SQL: tuple[str, ...] = (
    # 0 markets: the latest metadata wins
    "INSERT INTO markets (condition_id, question, slug, tokens_json, fee_rate, fee_exponent,"
    " neg_risk, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(condition_id) DO UPDATE SET question = excluded.question,"
    " slug = excluded.slug, tokens_json = excluded.tokens_json,"
    " fee_rate = excluded.fee_rate, fee_exponent = excluded.fee_exponent,"
    " neg_risk = excluded.neg_risk, updated_at = excluded.updated_at",
    # 1 orders: a new order (an id used twice is an error, never an overwrite)
    "INSERT INTO orders (id, run_id, venue_id, created_at, asset_id, market, side, price,"
    " size, order_type, post_only, expires_at, is_exit, status, filled, strategy, reason,"
    " status_reason, updated_at) "
    "VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', 0, ?, ?, NULL, ?)",
    # 2 orders: a lifecycle transition (runs after every insert of its batch)
    "UPDATE orders SET status = ?, filled = ?, venue_id = coalesce(?, venue_id),"
    " status_reason = ?, updated_at = ? WHERE id = ?",
    # 3
    "INSERT INTO order_events (order_id, at, status, filled, detail) VALUES (?, ?, ?, ?, ?)",
    # 4
    "INSERT INTO fills (fill_id, run_id, order_id, at, asset_id, market, side, price, size,"
    " fee, liquidity, strategy, reason, decision_mid, slippage_bps)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    # 5 positions: the latest state wins
    "INSERT INTO positions (asset_id, market, shares, cost, realized, fees, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(asset_id) DO UPDATE SET market = excluded.market, shares = excluded.shares,"
    " cost = excluded.cost, realized = excluded.realized, fees = excluded.fees,"
    " updated_at = excluded.updated_at",
    # 6
    "INSERT INTO exits (run_id, at, asset_id, market, strategy, reason, shares, entry_price,"
    " exit_price, realized, fee, holding_s, mae, mfe, slippage_bps, kind)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    # 7
    "INSERT INTO settlements (run_id, at, asset_id, market, shares, payout_price, cash,"
    " realized) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    # 8
    "INSERT INTO signals (run_id, at, strategy, asset_id, side, strength, reason, is_exit,"
    " decision, edge_bps, inputs_json, sentiment_source, latency_us, order_id, repeats)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    # 9
    "INSERT INTO risk_events (run_id, at, asset_id, side, strategy, reason, wanted, approved,"
    " repeats) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    # 10
    "INSERT INTO errors (run_id, at, source, message) VALUES (?, ?, ?, ?)",
    # 11 kill switch: append-only history (the latest row is the state a restart restores)
    "INSERT INTO kill_switch (run_id, at, state, day_start, baseline, loss, loss_limit,"
    " tripped_at, cooldown_until, recovery_scale, reason, who)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    # 12
    "INSERT INTO sentiment (run_id, at, headline, provider, source, url, published_at, score,"
    " confidence, markets_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    # 13 baskets: one row per basket decision...
    "INSERT INTO baskets (id, run_id, at, strategy, kind, event_id, legs_json, cost, payout,"
    " edge_bps, reason, decision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    # 14 ...and what one-leg-fill protection made of it (after its insert)
    "UPDATE baskets SET outcome = ?, outcome_at = ? WHERE id = ?",
    # 15 a failed trade's fill undone (after the fill's insert)
    "INSERT INTO fill_reversals (run_id, at, fill_id, order_id, asset_id, market, side, price,"
    " size, fee, strategy, reason, cash, cost, realized)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    # 16
    "INSERT INTO venue_events (run_id, at, kind, detail, order_id, fill_id)"
    " VALUES (?, ?, ?, ?, ?, ?)",
    # 17
    "UPDATE runs SET ended_at = ?, summary_json = ? WHERE id = ?",
    # 18 a live order's venue status (after its insert; the lifecycle status is left alone)
    "UPDATE orders SET venue_status = ?, venue_id = coalesce(?, venue_id), updated_at = ?"
    " WHERE id = ?",
    # 19 the paper shadow of a live order: its latest state...
    "INSERT INTO shadow_orders (order_id, run_id, at, status, filled, reason, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(order_id) DO UPDATE SET"
    " status = excluded.status, filled = excluded.filled, reason = excluded.reason,"
    " updated_at = excluded.updated_at",
    # 20 ...and each fill the paper model would have given it
    "INSERT INTO shadow_fills (run_id, fill_id, order_id, at, price, size, fee, liquidity)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    # 21
    "INSERT INTO redemptions (run_id, at, market, asset_id, shares, payout, transaction_hash)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)",
)
(
    _MARKET,
    _ORDER_NEW,
    _ORDER_UPDATE,
    _ORDER_EVENT,
    _FILL,
    _POSITION,
    _EXIT,
    _SETTLEMENT,
    _SIGNAL,
    _RISK,
    _ERROR,
    _KILL_SWITCH,
    _SENTIMENT,
    _BASKET,
    _BASKET_OUTCOME,
    _REVERSAL,
    _VENUE_EVENT,
    _RUN_END,
    _VENUE_STATUS,
    _SHADOW_ORDER,
    _SHADOW_FILL,
    _REDEMPTION,
) = range(len(_SQL))

Row = tuple[int, tuple[Any, ...]]  # (statement index, parameters)


class _Batch:
    """Rows of up to batch_max events, grouped per statement as they are recorded.

    Parameters hold only str/int/float/None (enums go in as their text), so the cyclic
    GC untracks them young and a long queue costs it nothing.
    """

    __slots__ = ("events", "groups", "last_seq", "sealed")

    def __init__(self) -> None:
        self.groups: list[list[tuple[Any, ...]]] = [[] for _ in _SQL]
        self.events = 0
        self.last_seq = 0
        self.sealed = False  # taken by a flush: later records start a new batch


_NEW = str(OrderStatus.NEW)
# A live venue's word on an order shares ``order_events`` with its lifecycle: "venue:mined".
VENUE_STATUS_PREFIX = "venue:"


# -- events -> rows --------------------------------------------------------------------
def _no_run(event: EngineEvent) -> LedgerError:
    return LedgerError(f"{type(event).__name__} recorded before start_run: no run to stamp")


def _markets(ev: MarketsLoaded, run_id: int | None) -> tuple[Row, ...]:
    return tuple(
        (
            _MARKET,
            (
                m.condition_id,
                m.question,
                m.slug,
                json.dumps([[o.token_id, o.name] for o in m.outcomes]),
                str(m.fees.rate),
                str(m.fees.exponent),
                m.neg_risk,
                ev.at,
            ),
        )
        for m in ev.markets
    )


def _order_submitted(ev: OrderSubmitted, run_id: int | None) -> tuple[Row, ...]:
    if run_id is None:
        raise _no_run(ev)
    o = ev.order
    return (
        (
            _ORDER_NEW,
            (
                o.order_id,
                run_id,
                o.created_at,
                o.asset_id,
                o.market,
                str(o.side),
                o.price,
                o.size,
                str(o.order_type),
                o.post_only,
                o.expires_at,
                o.is_exit,
                o.strategy,
                o.reason,
                ev.at,
            ),
        ),
        (_ORDER_EVENT, (o.order_id, ev.at, _NEW, 0, None)),
    )


def _order_updated(ev: OrderUpdated, run_id: int | None) -> tuple[Row, ...]:
    return (
        (_ORDER_UPDATE, (str(ev.status), ev.filled, ev.venue_id, ev.reason, ev.at, ev.order_id)),
        (_ORDER_EVENT, (ev.order_id, ev.at, str(ev.status), ev.filled, ev.reason)),
    )


def _filled(ev: Filled, run_id: int | None) -> tuple[Row, ...]:
    if run_id is None:
        raise _no_run(ev)
    f = ev.fill
    return (
        (
            _FILL,
            (
                f.fill_id,
                run_id,
                f.order_id,
                f.at,
                f.asset_id,
                f.market,
                str(f.side),
                f.price,
                f.size,
                f.fee,
                str(f.liquidity),
                ev.strategy,
                ev.reason,
                ev.decision_mid,
                ev.slippage_bps,
            ),
        ),
    )


def _position_changed(ev: PositionChanged, run_id: int | None) -> tuple[Row, ...]:
    return (
        (
            _POSITION,
            (ev.asset_id, ev.market, ev.shares, ev.cost, ev.realized, ev.fees, ev.at),
        ),
    )


def _position_closed(ev: PositionClosed, run_id: int | None) -> tuple[Row, ...]:
    if run_id is None:
        raise _no_run(ev)
    return (
        (
            _EXIT,
            (
                run_id,
                ev.at,
                ev.asset_id,
                ev.market,
                ev.strategy,
                ev.reason,
                ev.shares,
                ev.entry_price,
                ev.exit_price,
                ev.realized,
                ev.fee,
                ev.holding_s,
                ev.mae,
                ev.mfe,
                ev.slippage_bps,
                str(ev.kind),
            ),
        ),
    )


def _fill_reversed(ev: FillReversed, run_id: int | None) -> tuple[Row, ...]:
    if run_id is None:
        raise _no_run(ev)
    f = ev.fill
    return (
        (
            _REVERSAL,
            (
                run_id,
                ev.at,
                f.fill_id,
                f.order_id,
                f.asset_id,
                f.market,
                str(f.side),
                f.price,
                f.size,
                f.fee,
                ev.strategy,
                ev.reason,
                ev.cash,
                ev.cost,
                ev.realized,
            ),
        ),
    )


def _venue_noted(ev: VenueNoted, run_id: int | None) -> tuple[Row, ...]:
    if run_id is None:
        raise _no_run(ev)
    return ((_VENUE_EVENT, (run_id, ev.at, ev.kind, ev.detail, ev.order_id, ev.fill_id)),)


def _trading_block(ev: TradingBlockChanged, run_id: int | None) -> tuple[Row, ...]:
    if run_id is None:
        raise _no_run(ev)
    kind = "trading_blocked" if ev.blocked else "trading_unblocked"
    detail = f"{ev.reason}: {ev.detail}" if ev.detail else str(ev.reason)
    return ((_VENUE_EVENT, (run_id, ev.at, kind, detail, None, None)),)


def _position_settled(ev: PositionSettled, run_id: int | None) -> tuple[Row, ...]:
    if run_id is None:
        raise _no_run(ev)
    return (
        (
            _SETTLEMENT,
            (
                run_id,
                ev.at,
                ev.asset_id,
                ev.market,
                ev.shares,
                ev.payout_price,
                ev.cash,
                ev.realized,
            ),
        ),
    )


def _signal(ev: SignalRaised, run_id: int | None) -> tuple[Row, ...]:
    if run_id is None:
        raise _no_run(ev)
    return (
        (
            _SIGNAL,
            (
                run_id,
                ev.at,
                ev.strategy,
                ev.asset_id,
                str(ev.side),
                ev.strength,
                ev.reason,
                ev.is_exit,
                ev.decision,
                ev.edge_bps,
                ev.inputs_json,
                ev.sentiment_source,
                ev.latency_us,
                ev.order_id,
                ev.repeats,
            ),
        ),
    )


def _headline(ev: HeadlineScored, run_id: int | None) -> tuple[Row, ...]:
    if run_id is None:
        raise _no_run(ev)
    return (
        (
            _SENTIMENT,
            (
                run_id,
                ev.at,
                ev.headline,
                ev.provider,
                ev.source,
                ev.url,
                ev.published_at,
                ev.score,
                ev.confidence,
                json.dumps(list(ev.markets)),
            ),
        ),
    )


def _basket(ev: BasketDecided, run_id: int | None) -> tuple[Row, ...]:
    if run_id is None:
        raise _no_run(ev)
    return (
        (
            _BASKET,
            (
                ev.basket_id,
                run_id,
                ev.at,
                ev.strategy,
                ev.kind,
                ev.event_id,
                ev.legs_json,
                ev.cost,
                ev.payout,
                ev.edge_bps,
                ev.reason,
                ev.decision,
            ),
        ),
    )


def _basket_resolved(ev: BasketResolved, run_id: int | None) -> tuple[Row, ...]:
    return ((_BASKET_OUTCOME, (ev.outcome, ev.at, ev.basket_id)),)


def _intent_rejected(ev: IntentRejected, run_id: int | None) -> tuple[Row, ...]:
    if run_id is None:
        raise _no_run(ev)
    return (
        (
            _RISK,
            (
                run_id,
                ev.at,
                ev.asset_id,
                str(ev.side),
                ev.strategy,
                ev.reason,
                ev.wanted,
                ev.approved,
                ev.repeats,
            ),
        ),
    )


def _error(ev: ErrorRaised, run_id: int | None) -> tuple[Row, ...]:
    return ((_ERROR, (run_id, ev.at, ev.where, ev.message)),)


def _kill_switch(ev: KillSwitchChanged, run_id: int | None) -> tuple[Row, ...]:
    if run_id is None:
        raise _no_run(ev)
    return (
        (
            _KILL_SWITCH,
            (
                run_id,
                ev.at,
                str(ev.state),
                ev.day_start,
                ev.baseline,
                ev.loss,
                ev.limit,
                ev.tripped_at,
                ev.cooldown_until,
                float(ev.recovery_scale),
                ev.reason,
                ev.who,
            ),
        ),
    )


def _venue_status(ev: OrderVenueStatus, run_id: int | None) -> tuple[Row, ...]:
    return (
        (_VENUE_STATUS, (ev.venue_status, ev.venue_id, ev.at, ev.order_id)),
        (
            _ORDER_EVENT,
            (ev.order_id, ev.at, VENUE_STATUS_PREFIX + ev.venue_status, ev.filled, ev.detail),
        ),
    )


def _shadow(ev: ShadowRecorded, run_id: int | None) -> tuple[Row, ...]:
    if run_id is None:
        raise _no_run(ev)
    rows: list[Row] = [
        (_SHADOW_ORDER, (ev.order_id, run_id, ev.at, ev.status, ev.filled, ev.reason, ev.at))
    ]
    if ev.fill_id is not None:
        rows.append(
            (
                _SHADOW_FILL,
                (
                    run_id,
                    ev.fill_id,
                    ev.order_id,
                    ev.at,
                    ev.price or 0,
                    ev.size or 0,
                    ev.fee or 0,
                    ev.liquidity or "",
                ),
            )
        )
    return tuple(rows)


def _redeemed(ev: Redeemed, run_id: int | None) -> tuple[Row, ...]:
    return (
        (
            _REDEMPTION,
            (run_id, ev.at, ev.market, ev.asset_id, ev.shares, ev.payout, ev.transaction),
        ),
    )


def _run_ended(ev: RunEnded, run_id: int | None) -> tuple[Row, ...]:
    return ((_RUN_END, (ev.at, ev.summary_json, ev.run_id)),)


_CONVERTERS: dict[type[EngineEvent], Callable[[Any, int | None], tuple[Row, ...]]] = {
    MarketsLoaded: _markets,
    OrderSubmitted: _order_submitted,
    OrderUpdated: _order_updated,
    OrderVenueStatus: _venue_status,
    ShadowRecorded: _shadow,
    Redeemed: _redeemed,
    Filled: _filled,
    PositionChanged: _position_changed,
    PositionClosed: _position_closed,
    PositionSettled: _position_settled,
    SignalRaised: _signal,
    IntentRejected: _intent_rejected,
    ErrorRaised: _error,
    KillSwitchChanged: _kill_switch,
    HeadlineScored: _headline,
    BasketDecided: _basket,
    BasketResolved: _basket_resolved,
    FillReversed: _fill_reversed,
    VenueNoted: _venue_noted,
    TradingBlockChanged: _trading_block,
    RunEnded: _run_ended,
}
# Events with no table: the run row comes from start_run; the rest are transient state.
_IGNORED: frozenset[type[EngineEvent]] = frozenset(
    {RunStarted, BookUpdated, FeedSourceChanged, EngineStateChanged}
)


class SqliteLedger:
    """The one writer of a ledger file. Use it from the event loop's thread only."""

    def __init__(
        self,
        path: Path | str,
        *,
        batch_max: int = 5000,
        autocommit: bool = True,
        close_timeout: float = 60.0,
    ) -> None:
        if batch_max < 1:
            raise ValueError("batch_max must be at least 1")
        self.path = Path(path)
        self._batch_max = batch_max
        self._autocommit = autocommit
        self._close_timeout = close_timeout
        self._conn: sqlite3.Connection | None = None  # touched on the writer thread only
        self._executor: ThreadPoolExecutor | None = None
        self._opened = False
        self._closing: asyncio.Task[None] | None = None
        self._run_id: int | None = None
        self._seq = 0
        self._committed_seq = 0
        self._batches: deque[_Batch] = deque()  # the last one may still be filling
        self._inflight: deque[_Batch] = deque()  # submitted to the thread, not yet settled
        self._told = 0  # the last committed_seq given to the listeners
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listeners: list[CommitListener] = []
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._stopping = False
        self._writer: asyncio.Task[None] | None = None
        self._error: str | None = None  # why the ledger stopped (seen on the loop)
        self._broken: str | None = None  # why a batch failed (seen on the writer thread)
        self._lock = WriterLock(self.path)  # one writer per ledger file, across processes

    # -- state --------------------------------------------------------------------------
    @property
    def committed_seq(self) -> int:
        """The highest sequence number whose rows are durably committed (0: none yet)."""
        return self._committed_seq

    @property
    def run_id(self) -> int | None:
        """The run that records are stamped with (the last start_run's)."""
        return self._run_id

    def add_commit_listener(self, callback: CommitListener) -> None:
        """Call `callback(committed_seq)` on the event loop after every successful commit."""
        self._listeners.append(callback)

    def remove_commit_listener(self, callback: CommitListener) -> None:
        self._listeners.remove(callback)

    # -- open ---------------------------------------------------------------------------
    async def open(self) -> SqliteLedger:
        """Open (creating or migrating) the file: WAL, synchronous=FULL, foreign keys."""
        if self._opened or self._executor is not None:
            raise LedgerError(f"ledger {self.path} is already open")
        # Before anything touches the file: a second writer is refused with the file (and
        # the first writer's run) exactly as they were.
        self._lock.acquire()
        executor = self._executor = ThreadPoolExecutor(1, thread_name_prefix="ledger-writer")
        try:
            await asyncio.get_running_loop().run_in_executor(executor, self._open_sync)
        except BaseException as exc:
            # Queued behind the open, so it closes whatever the open got to (and then
            # lets the lock go).
            executor.submit(self._close_sync, False)
            executor.shutdown(wait=False)
            if isinstance(exc, sqlite3.Error | OSError):
                raise LedgerError(
                    f"cannot open ledger {self.path}: {exc}; pass another --ledger (a writable "
                    "polyterm ledger file)"
                ) from exc
            if isinstance(exc, ValueError):
                raise LedgerError(
                    f"cannot migrate ledger {self.path}: {exc}; pass another --ledger"
                ) from exc
            raise
        self._opened = True
        self._loop = asyncio.get_running_loop()
        if self._autocommit:
            self._writer = asyncio.create_task(self._write_loop(), name="ledger-writer")
        return self

    def _open_sync(self) -> None:
        # The file exists 0600 before SQLite opens it: SQLite gives the -wal and -shm
        # files the database's own mode, so they are private too.
        create_private(self.path)
        for journal in ("-wal", "-shm", "-journal"):
            # SQLite opens these by name, through any link: never one another user planted.
            refuse_foreign_link(self.path.with_name(self.path.name + journal))
            tighten(self.path.with_name(self.path.name + journal))
        conn = sqlite3.connect(self.path, isolation_level=None)
        self._conn = conn
        (mode,) = conn.execute("PRAGMA journal_mode=WAL").fetchone()
        if mode != "wal":
            raise LedgerError(
                f"ledger {self.path} cannot use WAL (journal mode {mode}); "
                "pass a --ledger path on a local disk"
            )
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        migrate(conn, self.path)

    # -- runs ---------------------------------------------------------------------------
    async def start_run(
        self, mode: str, venue: str, config_json: str, at: float, starting_cash: int
    ) -> int:
        """Commit a new run (and the account, on a new ledger); records are stamped with it.

        Everything recorded before is committed first. An existing account keeps the
        starting cash it was created with.
        """
        await self.flush()
        run_id = await self._run_sync(
            self._start_run_sync, mode, venue, config_json, at, starting_cash
        )
        self._run_id = run_id
        return run_id

    def _start_run_sync(
        self, mode: str, venue: str, config_json: str, at: float, starting_cash: int
    ) -> int:
        if self._broken is not None:
            raise LedgerError(f"an earlier batch failed: {self._broken}")
        conn = self._require_conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT OR IGNORE INTO account (id, starting_cash, created_at) VALUES (1, ?, ?)",
                (starting_cash, at),
            )
            cursor = conn.execute(
                "INSERT INTO runs (started_at, mode, venue, config_json) VALUES (?, ?, ?, ?)",
                (at, mode, venue, config_json),
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def end_run(self, run_id: int, summary_json: str, at: float) -> None:
        """Record the run's end and summary, and wait until it is committed."""
        self.record(RunEnded(at, run_id, summary_json))
        await self.flush()

    # -- record -------------------------------------------------------------------------
    def record(self, event: EngineEvent) -> int:
        """Queue the rows of `event`; returns its sequence number. Never blocks.

        Numbers strictly increase; commit listeners learn a number once everything
        recorded up to it is durable. An event with no table (a book update, a feed or
        state change) writes nothing: its number is durable as soon as everything before
        it is -- it rides with the batch ahead of it, or, with nothing in flight, is
        reported at once (on the loop's next turn). Raises LedgerError once the ledger has
        stopped or is closing, and TypeError for an event kind the ledger does not know.
        """
        if self._error is not None:
            raise self._stopped()
        if not self._opened or self._closing is not None:
            raise LedgerError(f"ledger {self.path} is not open")
        convert = _CONVERTERS.get(type(event))
        if convert is None:
            if type(event) in _IGNORED:
                return self._no_rows()
            raise TypeError(f"the ledger has no table for {type(event).__name__}")
        rows = convert(event, self._run_id)
        batches = self._batches
        if batches and not batches[-1].sealed:
            batch = batches[-1]
        else:
            batch = _Batch()
            batches.append(batch)
        groups = batch.groups
        for statement, params in rows:
            groups[statement].append(params)
        self._seq += 1
        batch.last_seq = self._seq
        batch.events += 1
        if batch.events >= self._batch_max:
            batch.sealed = True
        if self._autocommit:
            self._wake.set()
        return self._seq

    def _no_rows(self) -> int:
        self._seq += 1
        seq = self._seq
        if self._batches:
            self._batches[-1].last_seq = seq
        elif self._inflight:
            self._inflight[-1].last_seq = seq  # read when it settles
        else:
            self._committed_seq = seq
            self._require_loop().call_soon(self._tell)
        return seq

    # -- flush and close ----------------------------------------------------------------
    async def flush(self) -> None:
        """Commit everything recorded before this call; raises LedgerError if it cannot.

        Cancelling the caller does not cancel the commit: the batches run on.
        """
        if self._error is not None:
            raise self._stopped()
        if not self._opened:
            raise LedgerError(f"ledger {self.path} is not open")
        target = self._seq
        if self._committed_seq >= target:
            return
        if self._writer is not None and not self._writer.done():
            self._wake.set()
        else:
            # No writer task: commit what came before this call, in chunks of batch_max.
            if self._batches:
                self._batches[-1].sealed = True
            while self._batches and self._batches[0].last_seq <= target:
                self._submit(self._batches.popleft())
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, done))
        await done

    async def close(self) -> None:
        """Flush, stop the writer, checkpoint the WAL into the file and close it.

        Idempotent and bounded by ``close_timeout`` per step. Raises LedgerError if
        events queued could not be committed (the ledger had stopped). Cancelling the
        caller does not abandon the close: it finishes in the background.
        """
        if self._closing is None:
            self._closing = asyncio.create_task(self._close(), name="ledger-close")
        elif self._closing.done():
            return
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        if not self._opened:
            return
        error: LedgerError | None = None
        try:
            async with asyncio.timeout(self._close_timeout):
                await self.flush()
        except LedgerError as exc:
            error = exc
        except TimeoutError:
            error = LedgerError(
                f"ledger {self.path} could not commit within {self._close_timeout}s on close"
            )
            log.error("%s", error)
        self._stopping = True
        self._wake.set()
        if self._writer is not None:
            await self._settle(self._writer, "stop its writer")
            if not self._writer.done():
                self._writer.cancel()
        executor = self._executor
        if executor is not None:
            closing = asyncio.get_running_loop().run_in_executor(executor, self._close_sync, True)
            await self._settle(closing, "checkpoint and close")
            executor.shutdown(wait=False)
        if error is not None:
            raise error

    async def _settle(self, future: asyncio.Future[Any], what: str) -> None:
        """Wait up to close_timeout for `future`; its own failure was reported already."""
        try:
            async with asyncio.timeout(self._close_timeout):
                await asyncio.shield(future)
        except TimeoutError:
            log.error("ledger %s did not %s within %ss", self.path, what, self._close_timeout)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not future.cancelled() or (task is not None and task.cancelling()):
                raise
        except Exception:
            pass  # the writer reported it when it happened

    def _close_sync(self, checkpoint: bool) -> None:
        conn, self._conn = self._conn, None
        try:
            if conn is not None:
                try:
                    if checkpoint:
                        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.Error as exc:
                    log.error("ledger %s: final checkpoint failed: %s", self.path, exc)
                finally:
                    conn.close()
        finally:
            self._lock.release()  # only once the connection is closed

    # -- the writer ---------------------------------------------------------------------
    def _stopped(self) -> LedgerError:
        return LedgerError(f"ledger {self.path} stopped writing: {self._error}")

    def _require_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise LedgerError(f"ledger {self.path} is not open")
        return self._loop

    def _require_conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise LedgerError(f"ledger {self.path} is not open")
        return self._conn

    async def _run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` on the writer thread; a failure stops the ledger."""
        if self._executor is None:
            raise LedgerError(f"ledger {self.path} is not open")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        except (sqlite3.Error, LedgerError, OverflowError) as exc:
            # OverflowError: a number past SQLite's 64-bit INTEGER (a value no setting
            # should allow); the ledger stops like any failed write.
            self._fail(exc)
            raise self._stopped() from exc

    def _submit(self, batch: _Batch) -> asyncio.Future[None]:
        """Queue one batch on the writer thread (batches run one after another, in order).

        Its outcome is applied by a callback, whoever waits for it or not.
        """
        batch.sealed = True
        assert self._executor is not None
        done = asyncio.get_running_loop().run_in_executor(
            self._executor, self._write_batch, batch.groups
        )
        done.add_done_callback(functools.partial(self._settled, batch))
        self._inflight.append(batch)
        return done

    def _settled(self, batch: _Batch, done: asyncio.Future[None]) -> None:
        """Apply a finished batch: advance committed_seq and tell the listeners, or stop."""
        self._inflight.popleft()  # batches finish in the order they were submitted
        if done.cancelled():
            self._fail(_Cancelled())
            return
        exc = done.exception()
        if exc is not None:
            self._fail(exc)
            return
        self._committed_seq = max(self._committed_seq, batch.last_seq)
        self._tell()

    def _tell(self) -> None:
        """Give listeners and flush waiters the new committed_seq (once per value)."""
        seq = self._committed_seq
        if seq <= self._told:
            return
        self._told = seq
        for callback in tuple(self._listeners):
            try:
                callback(seq)
            except Exception:
                log.exception("ledger commit listener %r failed", callback)
        if self._waiters:
            waiting = []
            for target, waiter in self._waiters:
                if target <= seq:
                    if not waiter.done():
                        waiter.set_result(None)
                else:
                    waiting.append((target, waiter))
            self._waiters = waiting

    def _write_batch(self, groups: list[list[tuple[Any, ...]]]) -> None:
        """On the writer thread: the whole batch in one transaction, or none of it.

        After a failure the thread refuses every later batch itself, so nothing queued
        behind a lost batch (even by a caller that never saw the failure) is committed.
        """
        if self._broken is not None:
            raise LedgerError(f"an earlier batch failed: {self._broken}")
        conn = self._require_conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            for statement, params_list in enumerate(groups):
                if params_list:
                    conn.executemany(_SQL[statement], params_list)
            conn.execute("COMMIT")
        except BaseException as exc:
            self._broken = str(exc) or type(exc).__name__
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _fail(self, exc: BaseException) -> None:
        """Stop for good: keep the reason, say it once, fail everyone waiting."""
        if self._error is not None:
            return
        self._error = str(exc) or type(exc).__name__
        # Info, not error: every caller gets the LedgerError and the face reports it once
        # (headless: its one error line); -v shows it as it happens.
        log.info("ledger %s stopped writing: %s", self.path, self._error)
        self._batches.clear()
        waiters, self._waiters = self._waiters, []
        for _, done in waiters:
            if not done.done():
                done.set_exception(self._stopped())

    async def _write_loop(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._batches and self._error is None:
                    # One batch at a time: what is recorded meanwhile forms the next one.
                    await asyncio.wait((self._submit(self._batches.popleft()),))
                if self._stopping or self._error is not None:
                    return
        except BaseException as exc:
            self._fail(exc if not isinstance(exc, asyncio.CancelledError) else _Cancelled())
            raise


class _Cancelled(Exception):
    def __str__(self) -> str:
        return "the writer task was cancelled"

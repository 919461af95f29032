"""Reading a ledger: reports, panes, and the state a restart resumes from.

The reader hands back what the writer was given: the typed events themselves
(:class:`Recorded` pairs a run id with a ``Filled``, ``PositionClosed``, ...), and orders
as the engine's ``OrderRequest`` with their latest status. Money stays in exact ints.

Every call opens its own read-only connection and reads one consistent snapshot (WAL lets
it run while the writer commits), then closes it; a reader holds no state between calls,
so it may be used from any thread. The calls are synchronous; from the event loop, run
them on a worker thread so a large read never stalls the engine::

    state = await asyncio.to_thread(reader.load_state)
    fills = await asyncio.to_thread(reader.fills, run_id, None, 50)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, TypeVar

from engine.events import (
    BasketDecided,
    EngineEvent,
    ErrorRaised,
    Filled,
    FillReversed,
    HeadlineScored,
    IntentRejected,
    KillSwitchChanged,
    PositionChanged,
    PositionClosed,
    PositionSettled,
    SignalRaised,
)
from engine.exit_reasons import ExitReason, classify
from engine.ledger.errors import LedgerError
from engine.ledger.lock import lock_path
from engine.ledger.schema import SCHEMA_VERSION, has_tables, schema_version
from engine.market.markets import Outcome
from engine.orders import (
    BASKET_ORDER_PREFIX,
    Fill,
    Liquidity,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)

__all__ = [
    "AccountState",
    "BasketRecord",
    "ErrorRecord",
    "LedgerReader",
    "MarketRecord",
    "OrderEventRecord",
    "OrderRecord",
    "Recorded",
    "RunRecord",
]

E = TypeVar("E", bound=EngineEvent)

_SIDE = {s.value: s for s in Side}
_LIQUIDITY = {x.value: x for x in Liquidity}
_STATUS = {s.value: s for s in OrderStatus}
_TYPE = {t.value: t for t in OrderType}
_OPEN = tuple(s.value for s in OrderStatus if s.is_open)
_TAKER = Liquidity.TAKER  # a reversal's fill is rebuilt for its amounts only


def _exit_kind(kind: str | None, reason: str) -> ExitReason:
    """The exit's id as recorded (schema 6), else what its text says."""
    if kind is not None:
        try:
            return ExitReason(kind)
        except ValueError:
            pass
    return classify(reason)


@dataclass(frozen=True, slots=True)
class Recorded(Generic[E]):
    """An event as the ledger recorded it, with the run it belongs to."""

    run_id: int
    event: E


@dataclass(frozen=True, slots=True)
class ErrorRecord:
    run_id: int | None  # None: raised before any run started
    error: ErrorRaised


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    started_at: float
    ended_at: float | None
    mode: str
    venue: str
    config_json: str
    summary_json: str | None


@dataclass(frozen=True, slots=True)
class MarketRecord:
    condition_id: str
    question: str
    slug: str
    outcomes: tuple[Outcome, ...]
    fee_rate: Decimal
    fee_exponent: Decimal
    neg_risk: bool
    updated_at: float


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order as submitted, with its latest lifecycle state."""

    run_id: int
    order: OrderRequest
    status: OrderStatus
    filled: int  # shares (1e-6) filled so far
    venue_id: str | None
    status_reason: str | None
    updated_at: float


@dataclass(frozen=True, slots=True)
class OrderEventRecord:
    """One lifecycle transition (the submit is the first, status "new")."""

    order_id: str
    at: float
    status: OrderStatus
    filled: int
    detail: str | None


@dataclass(frozen=True, slots=True)
class BasketRecord:
    """A basket as decided, and what one-leg-fill protection made of it (None: not
    traded, or its legs not done yet)."""

    run_id: int
    basket: BasketDecided
    outcome: str | None
    outcome_at: float | None


@dataclass(frozen=True, slots=True)
class AccountState:
    """What a restart needs to rebuild cash, positions and working orders exactly."""

    starting_cash: int | None  # None: no run has started on this ledger yet
    fills: tuple[Fill, ...]  # every fill, in commit order
    settlements: tuple[PositionSettled, ...]  # every settlement, in commit order
    open_orders: tuple[OrderRecord, ...]  # new, live or partially filled
    last_run_id: int | None
    kill_switch: KillSwitchChanged | None = None  # the switch's latest state (None: never)
    # Orders that bought a basket's legs: their lots are hedges, held to resolution.
    basket_orders: frozenset[str] = frozenset()
    reversals: tuple[FillReversed, ...] = ()  # fills whose trades failed, undone
    # Live fills whose trade was matched but not yet confirmed (or failed) when the ledger
    # was last written: a restart must still be able to undo them if the trade fails.
    unsettled: frozenset[str] = frozenset()

    def history(self) -> tuple[Fill | FillReversed | PositionSettled, ...]:
        """Fills, reversals and settlements merged in time order (at the same instant a
        fill first, then its reversal: a market settles after its last trade), for replay
        into a fresh Portfolio."""
        merged: list[tuple[float, int, int, Fill | FillReversed | PositionSettled]] = [
            (f.at, 0, i, f) for i, f in enumerate(self.fills)
        ]
        merged.extend((r.at, 1, i, r) for i, r in enumerate(self.reversals))
        merged.extend((s.at, 2, i, s) for i, s in enumerate(self.settlements))
        merged.sort(key=lambda item: item[:3])
        return tuple(item[3] for item in merged)


# -- rows -> records -------------------------------------------------------------------
_FILL_COLUMNS = (
    "run_id, fill_id, order_id, at, asset_id, market, side, price, size, fee, liquidity,"
    " strategy, reason, decision_mid, slippage_bps"
)


def _fill(row: Any) -> Recorded[Filled]:
    (
        run_id,
        fill_id,
        order_id,
        at,
        asset,
        market,
        side,
        price,
        size,
        fee,
        liq,
        strat,
        why,
        mid,
        slippage,
    ) = row
    fill = Fill(
        fill_id, order_id, asset, market, _SIDE[side], price, size, fee, _LIQUIDITY[liq], at
    )
    return Recorded(run_id, Filled(at, fill, strat, why, mid, slippage))


_ORDER_COLUMNS = (
    "run_id, id, asset_id, market, side, price, size, order_type, strategy, reason,"
    " created_at, post_only, expires_at, is_exit, status, filled, venue_id, status_reason,"
    " updated_at"
)


def _order(row: Any) -> OrderRecord:
    (
        run_id,
        oid,
        asset,
        market,
        side,
        price,
        size,
        otype,
        strategy,
        reason,
        created,
        post_only,
        expires,
        is_exit,
        status,
        filled,
        venue_id,
        status_reason,
        updated,
    ) = row
    order = OrderRequest(
        oid,
        asset,
        market,
        _SIDE[side],
        price,
        size,
        _TYPE[otype],
        strategy,
        reason,
        created,
        post_only=bool(post_only),
        expires_at=expires,
        is_exit=bool(is_exit),
    )
    return OrderRecord(run_id, order, _STATUS[status], filled, venue_id, status_reason, updated)


_SETTLEMENT_COLUMNS = "run_id, at, asset_id, market, shares, payout_price, cash, realized"


def _settlement(row: Any) -> Recorded[PositionSettled]:
    run_id, *fields = row
    return Recorded(run_id, PositionSettled(*fields))


_KILL_SWITCH_COLUMNS = (
    "run_id, at, state, day_start, baseline, loss, loss_limit, tripped_at, cooldown_until,"
    " recovery_scale, reason, who"
)


def _kill_switch(row: Any) -> Recorded[KillSwitchChanged]:
    run_id, *fields = row
    return Recorded(run_id, KillSwitchChanged(*fields))


def _writer_holds(ledger: Path) -> bool:
    """Whether a writer holds `ledger`'s lock: a shared probe of its lock file, dropped at
    once (no lock file: no writer; one that cannot be probed counts as held)."""
    try:
        fd = os.open(lock_path(ledger), os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops the probe's lock
    return False


def _filters(**wanted: object) -> tuple[str, tuple[object, ...]]:
    """A WHERE clause for the filters that are not None."""
    used = {column: value for column, value in wanted.items() if value is not None}
    if not used:
        return "", ()
    return " WHERE " + " AND ".join(f"{c} = ?" for c in used), tuple(used.values())


class LedgerReader:
    """Read-only access to a ledger file written by :class:`SqliteLedger`."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection holding one read transaction (a consistent snapshot)."""
        if not self.path.is_file():
            raise LedgerError(f"no ledger at {self.path}; pass an existing --ledger path")
        try:
            conn = sqlite3.connect(self._uri(), uri=True, isolation_level=None)
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot read ledger {self.path}: {exc}") from exc
        try:
            try:
                conn.execute("BEGIN")
                version = schema_version(conn)
                empty = version == 0 and not has_tables(conn)
            except sqlite3.DatabaseError as exc:
                raise LedgerError(
                    f"cannot read ledger {self.path}: {exc}; pass another --ledger"
                ) from exc
            if version != SCHEMA_VERSION:
                raise LedgerError(self._version_problem(version, empty))
            try:
                yield conn
            except sqlite3.Error as exc:
                raise LedgerError(f"cannot read ledger {self.path}: {exc}") from exc
        finally:
            conn.close()

    def _uri(self) -> str:
        """Read-only; and `immutable` (SQLite creates no -wal/-shm beside the user's file)
        when the file alone is the whole ledger: no writer holds its lock and no WAL
        holds commits not yet in the file (immutable reads ignore a WAL). A writer that
        starts during such a read appends to its WAL, which this read does not see."""
        target = self.path.resolve()
        uri = target.as_uri() + "?mode=ro"
        wal = target.with_name(target.name + "-wal")
        with contextlib.suppress(OSError):
            if wal.stat().st_size > 0:
                return uri
        return uri if _writer_holds(target) else uri + "&immutable=1"

    def snapshot(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One read-only connection on one consistent snapshot, for aggregate queries
        (:mod:`engine.ledger.analytics`); closed when the block ends."""
        return self._read()

    def _version_problem(self, version: int, empty: bool) -> str:
        if version > SCHEMA_VERSION:
            return (
                f"{self.path} was written by a newer polyterm (schema {version} > "
                f"{SCHEMA_VERSION}); upgrade polyterm or pass another --ledger"
            )
        if empty:
            return f"{self.path} is empty, not a ledger yet; run polyterm on it first"
        if version == 0:
            return f"{self.path} is not a polyterm ledger; pass another --ledger"
        return (
            f"{self.path} has ledger schema {version}, older than {SCHEMA_VERSION}; "
            "run polyterm on it once to migrate it"
        )

    def _all(self, sql: str, params: tuple[object, ...] = ()) -> list[Any]:
        with self._read() as conn:
            return conn.execute(sql, params).fetchall()

    def _latest(
        self, table: str, columns: str, where: str, params: tuple[object, ...], limit: int | None
    ) -> list[Any]:
        """Rows in commit order; with `limit`, only the latest `limit` of them."""
        if limit is None:
            return self._all(f"SELECT {columns} FROM {table}{where} ORDER BY id", params)
        return self._all(
            f"SELECT {columns} FROM (SELECT id, {columns} FROM {table}{where} "
            "ORDER BY id DESC LIMIT ?) ORDER BY id",
            (*params, limit),
        )

    # -- runs and markets ---------------------------------------------------------------
    def runs(self) -> list[RunRecord]:
        rows = self._all(
            "SELECT id, started_at, ended_at, mode, venue, config_json, summary_json "
            "FROM runs ORDER BY id"
        )
        return [RunRecord(*row) for row in rows]

    def run(self, run_id: int) -> RunRecord | None:
        rows = self._all(
            "SELECT id, started_at, ended_at, mode, venue, config_json, summary_json "
            "FROM runs WHERE id = ?",
            (run_id,),
        )
        return RunRecord(*rows[0]) if rows else None

    def markets(self) -> list[MarketRecord]:
        rows = self._all(
            "SELECT condition_id, question, slug, tokens_json, fee_rate, fee_exponent,"
            " neg_risk, updated_at FROM markets ORDER BY rowid"
        )
        return [
            MarketRecord(
                cid,
                question,
                slug,
                tuple(Outcome(str(t), str(n)) for t, n in json.loads(tokens)),
                Decimal(rate),
                Decimal(exponent),
                bool(neg_risk),
                updated,
            )
            for cid, question, slug, tokens, rate, exponent, neg_risk, updated in rows
        ]

    # -- trading ------------------------------------------------------------------------
    def fills(
        self, run_id: int | None = None, asset_id: str | None = None, limit: int | None = None
    ) -> list[Recorded[Filled]]:
        """Fills in commit order; with `limit`, the latest `limit` of them."""
        where, params = _filters(run_id=run_id, asset_id=asset_id)
        return [_fill(r) for r in self._latest("fills", _FILL_COLUMNS, where, params, limit)]

    def orders(self, run_id: int | None = None, open_only: bool = False) -> list[OrderRecord]:
        """Orders in the order they were submitted, each with its latest state."""
        where, params = _filters(run_id=run_id)
        if open_only:
            marks = ", ".join("?" * len(_OPEN))
            where = f"{where} {'AND' if where else 'WHERE'} status IN ({marks})"
            params = (*params, *_OPEN)
        rows = self._all(f"SELECT {_ORDER_COLUMNS} FROM orders{where} ORDER BY rowid", params)
        return [_order(r) for r in rows]

    def order(self, order_id: str) -> OrderRecord | None:
        rows = self._all(f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = ?", (order_id,))
        return _order(rows[0]) if rows else None

    def order_events(self, order_id: str) -> list[OrderEventRecord]:
        """The order's lifecycle transitions (its venue statuses: :meth:`venue_statuses`)."""
        rows = self._all(
            "SELECT order_id, at, status, filled, detail FROM order_events "
            "WHERE order_id = ? AND status NOT LIKE 'venue:%' ORDER BY id",
            (order_id,),
        )
        return [
            OrderEventRecord(oid, at, _STATUS[status], filled, detail)
            for oid, at, status, filled, detail in rows
        ]

    def venue_statuses(self, order_id: str) -> list[tuple[float, str, int, str | None]]:
        """What a live venue said of the order, in order: (at, word, filled, detail), the
        word one of live, matched, mined, confirmed, retrying, failed, cancelled."""
        rows = self._all(
            "SELECT at, status, filled, detail FROM order_events "
            "WHERE order_id = ? AND status LIKE 'venue:%' ORDER BY id",
            (order_id,),
        )
        return [(at, status.removeprefix("venue:"), filled, d) for at, status, filled, d in rows]

    def venue_ids(self, since: float) -> dict[str, str]:
        """Venue order id -> engine order id of the orders created since `since`."""
        rows = self._all(
            "SELECT venue_id, id FROM orders WHERE venue_id IS NOT NULL AND created_at >= ?",
            (since,),
        )
        return {venue_id: oid for venue_id, oid in rows}

    def redemptions(self) -> list[tuple[float, str, str, int, int, str]]:
        """Every redemption: (at, market, asset id, shares, payout, transaction hash)."""
        return [
            tuple(r)
            for r in self._all(
                "SELECT at, market, asset_id, shares, payout, transaction_hash FROM redemptions"
                " ORDER BY id"
            )
        ]

    def positions(self) -> list[PositionChanged]:
        """The latest state of every position ever held (flat ones included)."""
        rows = self._all(
            "SELECT updated_at, asset_id, market, shares, cost, realized, fees "
            "FROM positions ORDER BY asset_id"
        )
        return [PositionChanged(*row) for row in rows]

    def exits(self, run_id: int | None = None) -> list[Recorded[PositionClosed]]:
        where, params = _filters(run_id=run_id)
        rows = self._all(
            "SELECT run_id, at, asset_id, market, strategy, reason, shares, entry_price,"
            " exit_price, realized, fee, coalesce(holding_s, 0), coalesce(mae, 0),"
            f" coalesce(mfe, 0), slippage_bps, kind FROM exits{where} ORDER BY id",
            params,
        )
        out: list[Recorded[PositionClosed]] = []
        for row in rows:
            run, at, asset, market, strategy, reason, shares, entry, exit_, realized, fee = row[:11]
            holding, mae, mfe, slippage, kind = row[11:]
            closed = PositionClosed(
                at,
                asset,
                market,
                strategy,
                reason,
                shares,
                entry,
                exit_,
                realized,
                fee,
                holding,
                mae,
                mfe,
                slippage,
                _exit_kind(kind, reason),
            )
            out.append(Recorded(run, closed))
        return out

    def settlements(self, run_id: int | None = None) -> list[Recorded[PositionSettled]]:
        where, params = _filters(run_id=run_id)
        rows = self._all(
            f"SELECT {_SETTLEMENT_COLUMNS} FROM settlements{where} ORDER BY id", params
        )
        return [_settlement(r) for r in rows]

    # -- decisions ----------------------------------------------------------------------
    def signals(
        self, run_id: int | None = None, limit: int | None = None
    ) -> list[Recorded[SignalRaised]]:
        """Signals in the order raised; with `limit`, the latest `limit` of them."""
        where, params = _filters(run_id=run_id)
        columns = (
            "run_id, at, strategy, asset_id, side, strength, reason, is_exit, decision,"
            " edge_bps, inputs_json, sentiment_source, latency_us, order_id, repeats"
        )
        return [
            Recorded(
                run,
                SignalRaised(
                    at, strategy, asset, _SIDE[side], strength, why, bool(ex), decision, *rest
                ),
            )
            for run, at, strategy, asset, side, strength, why, ex, decision, *rest in self._latest(
                "signals", columns, where, params, limit
            )
        ]

    def sentiment(
        self, run_id: int | None = None, limit: int | None = None
    ) -> list[Recorded[HeadlineScored]]:
        """Scored headlines in the order delivered; with `limit`, the latest of them."""
        where, params = _filters(run_id=run_id)
        columns = (
            "run_id, at, headline, provider, source, url, published_at, score, confidence,"
            " markets_json"
        )
        return [
            Recorded(
                run,
                HeadlineScored(
                    at, title, provider, source, url, published, score, conf, tuple(json.loads(m))
                ),
            )
            for run, at, title, provider, source, url, published, score, conf, m in (
                self._latest("sentiment", columns, where, params, limit)
            )
        ]

    def baskets(self, run_id: int | None = None, limit: int | None = None) -> list[BasketRecord]:
        """Baskets in the order decided; with `limit`, the latest `limit` of them."""
        where, params = _filters(run_id=run_id)
        columns = (
            "run_id, at, id, strategy, kind, event_id, legs_json, cost, payout, edge_bps,"
            " reason, decision, outcome, outcome_at"
        )
        sql = f"SELECT {columns} FROM baskets{where} ORDER BY rowid"
        if limit is not None:
            sql = (
                f"SELECT {columns} FROM (SELECT rowid AS r, {columns} FROM baskets{where} "
                "ORDER BY rowid DESC LIMIT ?) ORDER BY r"
            )
            params = (*params, limit)
        return [
            BasketRecord(run, BasketDecided(*fields), outcome, outcome_at)
            for run, *fields, outcome, outcome_at in self._all(sql, params)
        ]

    def risk_events(self, run_id: int | None = None) -> list[Recorded[IntentRejected]]:
        where, params = _filters(run_id=run_id)
        rows = self._all(
            "SELECT run_id, at, asset_id, side, strategy, reason, wanted, approved, repeats "
            f"FROM risk_events{where} ORDER BY id",
            params,
        )
        return [
            Recorded(
                run, IntentRejected(at, asset, _SIDE[side], strategy, why, wanted, approved, n)
            )
            for run, at, asset, side, strategy, why, wanted, approved, n in rows
        ]

    def errors(self, run_id: int | None = None) -> list[ErrorRecord]:
        where, params = _filters(run_id=run_id)
        rows = self._all(
            f"SELECT run_id, at, source, message FROM errors{where} ORDER BY id", params
        )
        return [ErrorRecord(run, ErrorRaised(at, source, msg)) for run, at, source, msg in rows]

    # -- the kill switch ----------------------------------------------------------------
    def kill_switch_history(self, run_id: int | None = None) -> list[Recorded[KillSwitchChanged]]:
        """Every move of the kill switch, in the order recorded."""
        where, params = _filters(run_id=run_id)
        rows = self._all(
            f"SELECT {_KILL_SWITCH_COLUMNS} FROM kill_switch{where} ORDER BY id", params
        )
        return [_kill_switch(r) for r in rows]

    def latest_kill_switch(self) -> KillSwitchChanged | None:
        """The switch's latest state, whichever run recorded it: what a restart restores."""
        rows = self._all(f"SELECT {_KILL_SWITCH_COLUMNS} FROM kill_switch ORDER BY id DESC LIMIT 1")
        return _kill_switch(rows[0]).event if rows else None

    # -- restart ------------------------------------------------------------------------
    def load_state(self) -> AccountState:
        """Everything a restart replays, read in one snapshot."""
        with self._read() as conn:
            account = conn.execute("SELECT starting_cash FROM account WHERE id = 1").fetchone()
            side, liquidity = _SIDE, _LIQUIDITY
            fills = tuple(
                Fill(fid, oid, asset, market, side[s], price, size, fee, liquidity[liq], at)
                for fid, oid, asset, market, s, price, size, fee, liq, at in conn.execute(
                    "SELECT fill_id, order_id, asset_id, market, side, price, size, fee,"
                    " liquidity, at FROM fills ORDER BY id"
                )
            )
            settlements = conn.execute(
                f"SELECT {_SETTLEMENT_COLUMNS} FROM settlements ORDER BY id"
            ).fetchall()
            marks = ", ".join("?" * len(_OPEN))
            open_orders = conn.execute(
                f"SELECT {_ORDER_COLUMNS} FROM orders WHERE status IN ({marks}) ORDER BY rowid",
                _OPEN,
            ).fetchall()
            last_run = conn.execute("SELECT max(id) FROM runs").fetchone()
            kill_switch = conn.execute(
                f"SELECT {_KILL_SWITCH_COLUMNS} FROM kill_switch ORDER BY id DESC LIMIT 1"
            ).fetchone()
            reversals = tuple(
                FillReversed(
                    at,
                    Fill(fid, oid, asset, market, side[s], price, size, fee, _TAKER, at),
                    strategy,
                    reason,
                    cash,
                    cost,
                    realized,
                )
                for (
                    at,
                    fid,
                    oid,
                    asset,
                    market,
                    s,
                    price,
                    size,
                    fee,
                    strategy,
                    reason,
                    cash,
                    cost,
                    realized,
                ) in conn.execute(
                    "SELECT at, fill_id, order_id, asset_id, market, side, price, size, fee,"
                    " strategy, reason, cash, cost, realized FROM fill_reversals ORDER BY id"
                )
            )
            # A live fill's trade statuses are recorded on its order as "venue:<status>"
            # rows whose detail names the trade ("trade <fill id>").
            moving: set[str] = set()
            for status, detail in conn.execute(
                "SELECT status, detail FROM order_events WHERE status IN "
                "('venue:matched', 'venue:mined', 'venue:retrying', 'venue:confirmed') "
                "AND detail LIKE 'trade %' ORDER BY id"
            ):
                fill_id = detail.removeprefix("trade ")
                if status == "venue:confirmed":
                    moving.discard(fill_id)
                else:
                    moving.add(fill_id)
            moving -= {r.fill.fill_id for r in reversals}
            baskets = frozenset(
                oid
                for (oid,) in conn.execute(
                    "SELECT id FROM orders WHERE side = 'BUY' AND substr(reason, 1, ?) = ?",
                    (len(BASKET_ORDER_PREFIX), BASKET_ORDER_PREFIX),
                )
            )
        return AccountState(
            starting_cash=account[0] if account else None,
            fills=fills,
            settlements=tuple(_settlement(r).event for r in settlements),
            open_orders=tuple(_order(r) for r in open_orders),
            last_run_id=last_run[0] if last_run else None,
            kill_switch=_kill_switch(kill_switch).event if kill_switch else None,
            basket_orders=baskets,
            reversals=reversals,
            unsettled=frozenset(moving),
        )

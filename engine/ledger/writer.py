"""The SQLite ledger: runs, markets, orders, order events and fills.

One writer task owns the connection (WAL, synchronous=FULL so a committed fill survives
a crash) and batches queued inserts into one transaction. Readers (reports, panes) open
their own connections. The schema is versioned with ``PRAGMA user_version`` and moved
forward by numbered migrations; a ledger from a newer polyterm is refused, not guessed at.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from engine.fixed import format_cash, format_price, format_size
from engine.market.markets import MarketInfo
from engine.orders import Fill, OrderRequest, OrderResult

MIGRATIONS: list[list[str]] = [
    [  # 1: the foundation
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            mode TEXT NOT NULL,
            venue TEXT NOT NULL,
            config_json TEXT NOT NULL,
            summary_json TEXT
        )""",
        """CREATE TABLE markets (
            condition_id TEXT PRIMARY KEY,
            question TEXT NOT NULL,
            slug TEXT NOT NULL,
            tokens_json TEXT NOT NULL,
            fee_rate TEXT NOT NULL,
            fee_exponent TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE orders (
            id TEXT PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id),
            created_at TEXT NOT NULL,
            asset_id TEXT NOT NULL,
            market TEXT NOT NULL,
            side TEXT NOT NULL,
            price TEXT NOT NULL,
            size TEXT NOT NULL,
            order_type TEXT NOT NULL,
            status TEXT NOT NULL,
            filled TEXT NOT NULL,
            strategy TEXT NOT NULL,
            reason TEXT NOT NULL,
            reject_reason TEXT
        )""",
        """CREATE TABLE order_events (
            id INTEGER PRIMARY KEY,
            order_id TEXT NOT NULL,
            at TEXT NOT NULL,
            status TEXT NOT NULL,
            detail TEXT
        )""",
        """CREATE TABLE fills (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id),
            order_id TEXT NOT NULL,
            at TEXT NOT NULL,
            asset_id TEXT NOT NULL,
            market TEXT NOT NULL,
            side TEXT NOT NULL,
            price TEXT NOT NULL,
            size TEXT NOT NULL,
            fee TEXT NOT NULL,
            liquidity TEXT NOT NULL
        )""",
        "CREATE INDEX fills_run ON fills(run_id)",
        "CREATE INDEX orders_run ON orders(run_id)",
        "CREATE INDEX order_events_order ON order_events(order_id)",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)


class LedgerError(RuntimeError):
    """The ledger cannot be opened or written; the message names the file and the fix."""


def _iso(ts: float | None = None) -> str:
    moment = datetime.now(UTC) if ts is None else datetime.fromtimestamp(ts, UTC)
    return moment.isoformat(timespec="milliseconds")


async def migrate(db: aiosqlite.Connection, path: Path) -> int:
    """Bring the schema to SCHEMA_VERSION; returns the version found."""
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    found = int(row[0]) if row else 0
    if found > SCHEMA_VERSION:
        raise LedgerError(
            f"{path} was written by a newer polyterm (schema {found} > {SCHEMA_VERSION}); "
            "upgrade polyterm or pass another --ledger"
        )
    for version in range(found, SCHEMA_VERSION):
        for statement in MIGRATIONS[version]:
            await db.execute(statement)
        await db.execute(f"PRAGMA user_version = {version + 1}")
        await db.commit()
    return found


class SqliteLedger:
    def __init__(self, path: Path, batch_max: int = 500) -> None:
        self.path = path
        self._batch_max = batch_max
        self._db: aiosqlite.Connection | None = None
        self._queue: asyncio.Queue[tuple[str, tuple[Any, ...]]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self.fills_written = 0

    async def open(self) -> SqliteLedger:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = await aiosqlite.connect(self.path)
            await self._db.execute("PRAGMA journal_mode=WAL")
            await self._db.execute("PRAGMA synchronous=FULL")
            await self._db.execute("PRAGMA foreign_keys=ON")
            await migrate(self._db, self.path)
        except BaseException as exc:
            if self._db is not None:
                await self._db.close()
                self._db = None
            if isinstance(exc, sqlite3.DatabaseError | OSError):
                raise LedgerError(
                    f"cannot open ledger {self.path}: {exc} (pass a writable --ledger path)"
                ) from exc
            raise
        self._writer = asyncio.create_task(self._write_loop(), name="ledger-writer")
        return self

    # -- writes (queued, batched) ---------------------------------------------------
    def _enqueue(self, sql: str, params: tuple[Any, ...]) -> None:
        if self._error is not None:
            raise LedgerError(f"ledger {self.path} stopped writing: {self._error}")
        self._queue.put_nowait((sql, params))

    async def start_run(self, mode: str, venue: str, config_json: str) -> int:
        db = self._require()
        await self.flush()
        cursor = await db.execute(
            "INSERT INTO runs (started_at, mode, venue, config_json) VALUES (?, ?, ?, ?)",
            (_iso(), mode, venue, config_json),
        )
        await db.commit()
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def record_markets(self, markets: Sequence[MarketInfo]) -> None:
        now = _iso()
        for m in markets:
            self._enqueue(
                "INSERT OR REPLACE INTO markets VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    m.condition_id,
                    m.question,
                    m.slug,
                    json.dumps([[o.token_id, o.name] for o in m.outcomes]),
                    str(m.fees.rate),
                    str(m.fees.exponent),
                    now,
                ),
            )

    def record_order(self, order: OrderRequest, result: OrderResult, run_id: int = 0) -> None:
        filled = sum(f.size for f in result.fills)
        self._enqueue(
            "INSERT OR REPLACE INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                result.order_id,
                run_id,
                _iso(order.created_at),
                order.asset_id,
                order.market,
                order.side.value,
                format_price(order.price),
                format_size(order.size),
                order.order_type.value,
                result.status.value,
                format_size(filled),
                order.strategy,
                order.reason,
                result.reason,
            ),
        )
        self._enqueue(
            "INSERT INTO order_events (order_id, at, status, detail) VALUES (?, ?, ?, ?)",
            (result.order_id, _iso(), result.status.value, result.reason),
        )

    def record_fill(self, fill: Fill, run_id: int) -> None:
        self._enqueue(
            "INSERT INTO fills (run_id, order_id, at, asset_id, market, side, price, size, fee, "
            "liquidity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                fill.order_id,
                _iso(fill.at),
                fill.asset_id,
                fill.market,
                fill.side.value,
                format_price(fill.price),
                format_size(fill.size),
                format_cash(fill.fee),
                fill.liquidity,
            ),
        )
        self.fills_written += 1

    async def end_run(self, run_id: int, summary_json: str) -> None:
        self._enqueue(
            "UPDATE runs SET ended_at = ?, summary_json = ? WHERE id = ?",
            (_iso(), summary_json, run_id),
        )
        await self.flush()

    async def flush(self) -> None:
        """Wait until everything queued so far is committed."""
        if self._writer is not None and not self._writer.done():
            await self._queue.join()
        if self._error is not None:
            raise LedgerError(f"ledger {self.path} stopped writing: {self._error}")

    async def close(self) -> None:
        try:
            await self.flush()
        finally:
            if self._writer is not None:
                self._writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._writer
                self._writer = None
            if self._db is not None:
                await self._db.close()
                self._db = None

    # -- the writer -------------------------------------------------------------
    def _require(self) -> aiosqlite.Connection:
        if self._db is None:
            raise LedgerError("ledger is not open")
        return self._db

    async def _write_loop(self) -> None:
        db = self._require()
        queue = self._queue
        while True:
            batch = [await queue.get()]
            while len(batch) < self._batch_max and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                for sql, params in batch:
                    await db.execute(sql, params)
                await db.commit()
            except sqlite3.Error as exc:
                # Keep the reason; the next write or flush raises it to the engine.
                self._error = exc
            finally:
                for _ in batch:
                    queue.task_done()

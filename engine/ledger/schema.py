"""The ledger's schema and its forward migrations.

The version lives in ``PRAGMA user_version``. A new file gets the current schema at once;
an older one is moved forward one numbered step at a time, each step in one transaction,
so a crash mid-migration leaves the file at the version it had. A file from a newer
polyterm, or a database that is not a ledger, is refused rather than guessed at.

Money is stored exactly as the engine holds it: INTEGER prices in 1e-4, sizes in 1e-6,
cash and fees in 1e-10 (see :mod:`engine.fixed`); a CHECK refuses anything else, so a
float can never slip into a money column. Times are the event's ``at``: REAL unix seconds
from the engine's clock, never the wall clock of the writer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from engine.exit_reasons import classify
from engine.fixed import CASH_DIGITS, PRICE_DIGITS, SIZE_DIGITS, parse_fixed
from engine.ledger.errors import LedgerError

SCHEMA_VERSION = 8

# Schema 1, verbatim: money as TEXT ('0.5', '10', '0.000078'), times as ISO text. Kept so
# the v1 -> v2 migration can be tested against a real v1 file.
V1_DDL: tuple[str, ...] = (
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
)


def _int(column: str) -> str:
    return f"{column} INTEGER NOT NULL CHECK (typeof({column}) = 'integer')"


# Schema 2: integer money, REAL unix-second times, every engine event kind with a table.
V2_DDL: tuple[str, ...] = (
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at REAL NOT NULL,
        ended_at REAL,
        mode TEXT NOT NULL,
        venue TEXT NOT NULL,
        config_json TEXT NOT NULL,
        summary_json TEXT
    )""",
    f"""CREATE TABLE account (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        {_int("starting_cash")},
        created_at REAL NOT NULL
    )""",
    """CREATE TABLE markets (
        condition_id TEXT PRIMARY KEY,
        question TEXT NOT NULL,
        slug TEXT NOT NULL,
        tokens_json TEXT NOT NULL,
        fee_rate TEXT NOT NULL,
        fee_exponent TEXT NOT NULL,
        neg_risk INTEGER NOT NULL,
        updated_at REAL NOT NULL
    )""",
    f"""CREATE TABLE orders (
        id TEXT PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        venue_id TEXT,
        created_at REAL NOT NULL,
        asset_id TEXT NOT NULL,
        market TEXT NOT NULL,
        side TEXT NOT NULL,
        {_int("price")},
        {_int("size")},
        order_type TEXT NOT NULL,
        post_only INTEGER NOT NULL,
        expires_at REAL,
        is_exit INTEGER NOT NULL,
        status TEXT NOT NULL,
        {_int("filled")},
        strategy TEXT NOT NULL,
        reason TEXT NOT NULL,
        status_reason TEXT,
        updated_at REAL NOT NULL
    )""",
    f"""CREATE TABLE order_events (
        id INTEGER PRIMARY KEY,
        order_id TEXT NOT NULL,
        at REAL NOT NULL,
        status TEXT NOT NULL,
        {_int("filled")},
        detail TEXT
    )""",
    f"""CREATE TABLE fills (
        id INTEGER PRIMARY KEY,
        fill_id TEXT NOT NULL UNIQUE,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        order_id TEXT NOT NULL,
        at REAL NOT NULL,
        asset_id TEXT NOT NULL,
        market TEXT NOT NULL,
        side TEXT NOT NULL,
        {_int("price")},
        {_int("size")},
        {_int("fee")},
        liquidity TEXT NOT NULL,
        strategy TEXT NOT NULL,
        reason TEXT NOT NULL
    )""",
    f"""CREATE TABLE positions (
        asset_id TEXT PRIMARY KEY,
        market TEXT NOT NULL,
        {_int("shares")},
        {_int("cost")},
        {_int("realized")},
        {_int("fees")},
        updated_at REAL NOT NULL
    )""",
    f"""CREATE TABLE exits (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        at REAL NOT NULL,
        asset_id TEXT NOT NULL,
        market TEXT NOT NULL,
        strategy TEXT NOT NULL,
        reason TEXT NOT NULL,
        {_int("shares")},
        {_int("entry_price")},
        {_int("exit_price")},
        {_int("realized")},
        {_int("fee")}
    )""",
    f"""CREATE TABLE settlements (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        at REAL NOT NULL,
        asset_id TEXT NOT NULL,
        market TEXT NOT NULL,
        {_int("shares")},
        {_int("payout_price")},
        {_int("cash")},
        {_int("realized")}
    )""",
    """CREATE TABLE signals (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        at REAL NOT NULL,
        strategy TEXT NOT NULL,
        asset_id TEXT NOT NULL,
        side TEXT NOT NULL,
        strength REAL NOT NULL,
        reason TEXT NOT NULL,
        is_exit INTEGER NOT NULL,
        decision TEXT NOT NULL
    )""",
    f"""CREATE TABLE risk_events (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        at REAL NOT NULL,
        asset_id TEXT NOT NULL,
        side TEXT NOT NULL,
        strategy TEXT NOT NULL,
        reason TEXT NOT NULL,
        {_int("wanted")},
        {_int("approved")}
    )""",
    """CREATE TABLE errors (
        id INTEGER PRIMARY KEY,
        run_id INTEGER REFERENCES runs(id),
        at REAL NOT NULL,
        source TEXT NOT NULL,
        message TEXT NOT NULL
    )""",
    "CREATE INDEX orders_run ON orders(run_id)",
    "CREATE INDEX order_events_order ON order_events(order_id)",
    "CREATE INDEX fills_run ON fills(run_id)",
    "CREATE INDEX exits_run ON exits(run_id)",
    "CREATE INDEX signals_run ON signals(run_id)",
    "CREATE INDEX risk_events_run ON risk_events(run_id)",
)


def _create_v2(conn: sqlite3.Connection) -> None:
    for statement in V2_DDL:
        conn.execute(statement)


# Schema 3 adds the kill switch: one row per KillSwitchChanged, append-only, so the latest
# row is the state a restart restores (latch, baseline, trip time, cooldown expiry).
# ``loss_limit`` is the event's ``limit`` (LIMIT is an SQL keyword).
V3_DDL: tuple[str, ...] = (
    f"""CREATE TABLE kill_switch (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        at REAL NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('armed', 'tripped', 'cooldown', 'recovering')),
        day_start REAL NOT NULL,
        {_int("baseline")},
        {_int("loss")},
        {_int("loss_limit")},
        tripped_at REAL,
        cooldown_until REAL,
        recovery_scale REAL NOT NULL,
        reason TEXT NOT NULL,
        who TEXT NOT NULL
    )""",
    "CREATE INDEX kill_switch_run ON kill_switch(run_id)",
)


def _v2_to_v3(conn: sqlite3.Connection) -> None:
    for statement in V3_DDL:
        conn.execute(statement)


# Schema 4 adds what execution telemetry and exit analytics need: each fill's mid at the
# decision and its slippage against it; each exit's holding time, MAE and MFE (price units
# per share) and slippage. Older rows keep NULL: they were never measured.
V4_DDL: tuple[str, ...] = (
    "ALTER TABLE fills ADD COLUMN decision_mid INTEGER"
    " CHECK (decision_mid IS NULL OR typeof(decision_mid) = 'integer')",
    "ALTER TABLE fills ADD COLUMN slippage_bps REAL",
    "ALTER TABLE exits ADD COLUMN holding_s REAL",
    "ALTER TABLE exits ADD COLUMN mae INTEGER CHECK (mae IS NULL OR typeof(mae) = 'integer')",
    "ALTER TABLE exits ADD COLUMN mfe INTEGER CHECK (mfe IS NULL OR typeof(mfe) = 'integer')",
    "ALTER TABLE exits ADD COLUMN slippage_bps REAL",
)


def _v3_to_v4(conn: sqlite3.Connection) -> None:
    for statement in V4_DDL:
        conn.execute(statement)


# Schema 5 adds the strategies' audit trail: each signal row's expected edge, the inputs
# it was decided on (JSON), the sentiment source behind it, the latency from the frame
# (or headline) that triggered it to its order, and that order's id; every scored
# headline (`sentiment`); and every basket (YES/NO pair or neg-risk event) detected or
# traded, with its legs and what one-leg-fill protection did (`baskets`). Older signal
# rows keep NULL / '': they were never measured.
V5_DDL: tuple[str, ...] = (
    "ALTER TABLE signals ADD COLUMN edge_bps REAL",
    "ALTER TABLE signals ADD COLUMN inputs_json TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE signals ADD COLUMN sentiment_source TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE signals ADD COLUMN latency_us REAL",
    "ALTER TABLE signals ADD COLUMN order_id TEXT",
    """CREATE TABLE sentiment (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        at REAL NOT NULL,
        headline TEXT NOT NULL,
        provider TEXT NOT NULL,
        source TEXT NOT NULL,
        url TEXT NOT NULL,
        published_at REAL NOT NULL,
        score REAL NOT NULL,
        confidence REAL NOT NULL,
        markets_json TEXT NOT NULL
    )""",
    f"""CREATE TABLE baskets (
        id TEXT PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        at REAL NOT NULL,
        strategy TEXT NOT NULL,
        kind TEXT NOT NULL,
        event_id TEXT NOT NULL,
        legs_json TEXT NOT NULL,
        {_int("cost")},
        {_int("payout")},
        edge_bps REAL NOT NULL,
        reason TEXT NOT NULL,
        decision TEXT NOT NULL,
        outcome TEXT,
        outcome_at REAL
    )""",
    "CREATE INDEX sentiment_run ON sentiment(run_id)",
    "CREATE INDEX baskets_run ON baskets(run_id)",
)


def _v4_to_v5(conn: sqlite3.Connection) -> None:
    for statement in V5_DDL:
        conn.execute(statement)


# Schema 6: every exit row names its reason's id (`exits.kind`, one of
# engine.exit_reasons.ExitReason; rows recorded before it are classified from their text);
# a fill whose trade failed on chain is undone by a row of its own (`fill_reversals`, with
# the exact cash and cost it moved back); and what the venue's reports said that needs a
# person or the reconciliation (`venue_events`: a fill for an unknown order, a repeated
# fill, a fill after its order closed, a failed trade, trading blocked and unblocked).
V6_DDL: tuple[str, ...] = (
    "ALTER TABLE exits ADD COLUMN kind TEXT",
    f"""CREATE TABLE fill_reversals (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        at REAL NOT NULL,
        fill_id TEXT NOT NULL UNIQUE,
        order_id TEXT NOT NULL,
        asset_id TEXT NOT NULL,
        market TEXT NOT NULL,
        side TEXT NOT NULL,
        {_int("price")},
        {_int("size")},
        {_int("fee")},
        strategy TEXT NOT NULL,
        reason TEXT NOT NULL,
        {_int("cash")},
        {_int("cost")},
        {_int("realized")}
    )""",
    """CREATE TABLE venue_events (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        at REAL NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL,
        order_id TEXT,
        fill_id TEXT
    )""",
    "CREATE INDEX fill_reversals_run ON fill_reversals(run_id)",
    "CREATE INDEX venue_events_run ON venue_events(run_id)",
)


def _v5_to_v6(conn: sqlite3.Connection) -> None:
    for statement in V6_DDL:
        conn.execute(statement)
    rows = conn.execute("SELECT id, reason FROM exits").fetchall()
    conn.executemany(
        "UPDATE exits SET kind = ? WHERE id = ?",
        [(str(classify(reason)), row_id) for row_id, reason in rows],
    )


# Schema 7 (live trading): each order's latest venue status (live, matched, mined,
# confirmed, failed, cancelled) beside its lifecycle status, the step by step in
# ``order_events``; the paper shadow of every live order in tables of its own (never
# ``orders``/``fills``: the account is the venue's); resolved positions redeemed on chain.
V7_DDL: tuple[str, ...] = (
    "ALTER TABLE orders ADD COLUMN venue_status TEXT",
    f"""CREATE TABLE shadow_orders (
        order_id TEXT PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        at REAL NOT NULL,
        status TEXT NOT NULL,
        {_int("filled")},
        reason TEXT,
        updated_at REAL NOT NULL
    )""",
    f"""CREATE TABLE shadow_fills (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        fill_id TEXT NOT NULL UNIQUE,
        order_id TEXT NOT NULL,
        at REAL NOT NULL,
        {_int("price")},
        {_int("size")},
        {_int("fee")},
        liquidity TEXT NOT NULL
    )""",
    f"""CREATE TABLE redemptions (
        id INTEGER PRIMARY KEY,
        run_id INTEGER REFERENCES runs(id),
        at REAL NOT NULL,
        market TEXT NOT NULL,
        asset_id TEXT NOT NULL,
        {_int("shares")},
        {_int("payout")},
        transaction_hash TEXT NOT NULL
    )""",
    "CREATE INDEX shadow_fills_order ON shadow_fills(order_id)",
)


def _v6_to_v7(conn: sqlite3.Connection) -> None:
    for statement in V7_DDL:
        conn.execute(statement)


# Schema 8: a signal or refusal row says how many records of its kind (the same token,
# strategy and rule) it stands for, as their latest (engine.repeats: a refusal that
# repeats while its rule holds is a row a minute with its count, not a row a decision).
# Rows written before it stand for themselves.
V8_DDL: tuple[str, ...] = tuple(
    f"ALTER TABLE {table} ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1"
    " CHECK (typeof(repeats) = 'integer' AND repeats >= 1)"
    for table in ("signals", "risk_events")
)


def _v7_to_v8(conn: sqlite3.Connection) -> None:
    for statement in V8_DDL:
        conn.execute(statement)


def _create_at(conn: sqlite3.Connection, version: int) -> None:
    """An empty schema at `version` (2 or later): the v2 tables, then every migration from
    v2 up to it, in order."""
    _create_v2(conn)
    for step in MIGRATIONS[2:version]:
        step(conn)


def _create_current(conn: sqlite3.Connection) -> None:
    """A new file: exactly the statements the migrations from v2 on run, in order."""
    _create_at(conn, SCHEMA_VERSION)


def _iso_to_unix(text: str | None) -> float | None:
    """A v1 ISO timestamp (always written in UTC) as unix seconds."""
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _v1_to_v2(conn: sqlite3.Connection) -> None:
    """Money TEXT -> INTEGER (exactly, via parse_fixed), ISO times -> unix seconds.

    v1 had no fill ids, no strategy on fills and no per-event fill size: fills get
    ``<order_id>#<n>`` (n counting that order id's fills from 1, as the gateways number
    them), strategy and reason come from their order, and each v1 order event (v1 wrote
    exactly one per order, with its final status) takes the order's filled size.
    """
    for index in ("fills_run", "orders_run", "order_events_order"):
        conn.execute(f"DROP INDEX IF EXISTS {index}")
    old_tables = ("runs", "markets", "orders", "order_events", "fills")
    for table in old_tables:
        conn.execute(f"ALTER TABLE {table} RENAME TO v1_{table}")
    _create_v2(conn)

    def price(text: str) -> int:
        return parse_fixed(text, PRICE_DIGITS)

    def size(text: str) -> int:
        return parse_fixed(text, SIZE_DIGITS)

    def cash(text: str) -> int:
        return parse_fixed(text, CASH_DIGITS)

    conn.executemany(
        "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (rid, _iso_to_unix(started), _iso_to_unix(ended), mode, venue, config, summary)
            for rid, started, ended, mode, venue, config, summary in conn.execute(
                "SELECT id, started_at, ended_at, mode, venue, config_json, summary_json "
                "FROM v1_runs ORDER BY id"
            )
        ],
    )
    conn.executemany(
        "INSERT INTO markets VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
        [
            (*row[:6], _iso_to_unix(row[6]))
            for row in conn.execute(
                "SELECT condition_id, question, slug, tokens_json, fee_rate, fee_exponent, "
                "updated_at FROM v1_markets ORDER BY rowid"
            )
        ],
    )
    conn.executemany(
        "INSERT INTO orders (id, run_id, venue_id, created_at, asset_id, market, side, price,"
        " size, order_type, post_only, expires_at, is_exit, status, filled, strategy, reason,"
        " status_reason, updated_at) "
        "VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, 0, NULL, 0, ?, ?, ?, ?, ?, ?)",
        [
            (
                oid,
                run_id,
                _iso_to_unix(created),
                asset,
                market,
                side,
                price(p),
                size(s),
                otype,
                status,
                size(filled),
                strategy,
                reason,
                reject,
                _iso_to_unix(updated or created),
            )
            for (
                oid,
                run_id,
                created,
                asset,
                market,
                side,
                p,
                s,
                otype,
                status,
                filled,
                strategy,
                reason,
                reject,
                updated,
            ) in conn.execute(
                "SELECT o.id, o.run_id, o.created_at, o.asset_id, o.market, o.side, o.price,"
                " o.size, o.order_type, o.status, o.filled, o.strategy, o.reason,"
                " o.reject_reason,"
                " (SELECT max(e.at) FROM v1_order_events e WHERE e.order_id = o.id) "
                "FROM v1_orders o ORDER BY o.rowid"
            )
        ],
    )
    conn.executemany(
        "INSERT INTO order_events (id, order_id, at, status, filled, detail) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (eid, oid, _iso_to_unix(at), status, size(filled or "0"), detail)
            for eid, oid, at, status, filled, detail in conn.execute(
                "SELECT e.id, e.order_id, e.at, e.status, o.filled, e.detail "
                "FROM v1_order_events e LEFT JOIN v1_orders o ON o.id = e.order_id "
                "ORDER BY e.id"
            )
        ],
    )
    per_order: dict[str, int] = {}
    fills = []
    for fid, run_id, oid, at, asset, market, side, p, s, fee, liq, strategy, reason in conn.execute(
        "SELECT f.id, f.run_id, f.order_id, f.at, f.asset_id, f.market, f.side, f.price,"
        " f.size, f.fee, f.liquidity, o.strategy, o.reason "
        "FROM v1_fills f LEFT JOIN v1_orders o ON o.id = f.order_id ORDER BY f.id"
    ):
        n = per_order[oid] = per_order.get(oid, 0) + 1
        fills.append(
            (
                fid,
                f"{oid}#{n}",
                run_id,
                oid,
                _iso_to_unix(at),
                asset,
                market,
                side,
                price(p),
                size(s),
                cash(fee),
                liq,
                strategy or "",
                reason or "",
            )
        )
    conn.executemany("INSERT INTO fills VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", fills)
    # Children before their parent, so no foreign key is left dangling mid-way.
    for table in ("fills", "order_events", "orders", "markets", "runs"):
        conn.execute(f"DROP TABLE v1_{table}")


# MIGRATIONS[v] moves a file from schema v to v + 1. Schema 0 is an empty file, which gets
# the current schema directly (the same DDL every migration ends at).
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _create_current,  # 0 -> SCHEMA_VERSION (see migrate)
    _v1_to_v2,  # 1 -> 2
    _v2_to_v3,  # 2 -> 3
    _v3_to_v4,  # 3 -> 4
    _v4_to_v5,  # 4 -> 5
    _v5_to_v6,  # 5 -> 6
    _v6_to_v7,  # 6 -> 7
    _v7_to_v8,  # 7 -> 8
)


def schema_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0]) if row else 0


def has_tables(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone() is not None


def migrate(conn: sqlite3.Connection, path: Path) -> int:
    """Bring the schema to SCHEMA_VERSION; returns the version found.

    `conn` must be in autocommit mode (``isolation_level=None``): each step runs in its
    own explicit transaction, with foreign keys off while tables are rebuilt.
    """
    found = schema_version(conn)
    if found > SCHEMA_VERSION:
        raise LedgerError(
            f"{path} was written by a newer polyterm (schema {found} > {SCHEMA_VERSION}); "
            "upgrade polyterm or pass another --ledger"
        )
    if found == SCHEMA_VERSION:
        return found
    if found == 0 and has_tables(conn):
        raise LedgerError(
            f"{path} is a database but not a polyterm ledger (it has tables and no schema "
            "version); pass another --ledger"
        )
    conn.execute("PRAGMA foreign_keys=OFF")  # only takes effect outside a transaction
    try:
        version = found
        while version < SCHEMA_VERSION:
            target = SCHEMA_VERSION if version == 0 else version + 1
            conn.execute("BEGIN IMMEDIATE")
            try:
                MIGRATIONS[version](conn)
                conn.execute(f"PRAGMA user_version = {target}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            version = target
    finally:
        conn.execute("PRAGMA foreign_keys=ON")
    return found


def create_v1(conn: sqlite3.Connection) -> None:
    """Build an empty schema-1 ledger (for tests of the migration)."""
    for statement in V1_DDL:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()


def create_v2(conn: sqlite3.Connection) -> None:
    """Build an empty schema-2 ledger (for tests of the migration)."""
    _create_for_tests(conn, 2)


def create_v4(conn: sqlite3.Connection) -> None:
    """Build an empty schema-4 ledger (for tests of the migration)."""
    _create_for_tests(conn, 4)


def create_v5(conn: sqlite3.Connection) -> None:
    """Build an empty schema-5 ledger (for tests of the migration)."""
    _create_for_tests(conn, 5)


def create_v7(conn: sqlite3.Connection) -> None:
    """Build an empty schema-7 ledger (for tests of the migration)."""
    _create_for_tests(conn, 7)


def _create_for_tests(conn: sqlite3.Connection, version: int) -> None:
    _create_at(conn, version)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()

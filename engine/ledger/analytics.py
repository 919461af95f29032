"""Aggregates over a ledger, computed in SQL: what reports are made of.

Every figure here is a query over one read-only snapshot (``LedgerReader.snapshot()``),
grouped and summed by SQLite, so a ledger of a million fills costs a few scans, never a
million Python objects. Money stays in the ledger's exact integer units (cash and fees
1e-10 USDC, prices 1e-4, shares 1e-6); only scores that are not money (returns, Brier) are
floats.

A *trade* is one ``exits`` row: a lot closed in part or whole, by a sell or by the
market's settlement. Its PnL is the row's ``realized`` (proceeds less the lot's average
cost less the exit fee). Entry fees are realised when paid, as the portfolio does, so the
scope's realised PnL is ``sum(exits.realized) - sum(fees of buy fills)`` and the
closed-trade equity curve steps down at each entry fee and moves at each exit.

Exit reasons are grouped by what ``reason_of(kind, reason)`` makes of each row's
``exits.kind`` (where the ledger has the column) and ``exits.reason``: the reports pass
the exit-reason ids' classifier (``engine.execution`` is not the ledger's to import); by
default the id where one was stored, else the detail text.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.fixed import ONE
from engine.ledger.figures import QUARTER_HOUR, DrawdownFigures, Sequence, TradeFigures

if TYPE_CHECKING:
    from engine.ledger.sequence import Columns

__all__ = [
    "QUARTER_HOUR",
    "DrawdownFigures",
    "DriftOrder",
    "Filled",
    "Sequence",
    "LedgerAnalytics",
    "RunRow",
    "Scope",
    "TradeFigures",
]


@dataclass(frozen=True, slots=True)
class Scope:
    """Which rows a report covers: every run (the default), one run, or a time window
    (unix seconds, ``start`` inclusive, ``end`` exclusive)."""

    run: int | None = None
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True, slots=True)
class RunRow:
    id: int
    started_at: float
    ended_at: float | None
    mode: str
    venue: str
    config_json: str
    summary: dict[str, Any] | None  # the run's own end-of-run summary (None: still open)


@dataclass(frozen=True, slots=True)
class Filled:
    """What one side (the venue, or the paper shadow) filled of an order."""

    shares: int  # 1e-6
    notional: int  # sum of price x size (1e-10 USDC)
    fees: int  # cash units
    first_at: float | None  # the first fill's time (None: nothing filled)


@dataclass(frozen=True, slots=True)
class DriftOrder:
    """A live order beside its paper shadow."""

    order_id: str
    run_id: int
    created_at: float
    asset_id: str
    market: str
    side: str
    price: int  # the limit (1e-4)
    size: int  # ordered shares (1e-6)
    strategy: str
    status: str  # the live order's status
    shadow_status: str
    venue: Filled
    shadow: Filled


@dataclass(slots=True)
class Outcomes:
    """What the ledger knows of resolutions: token -> payout (ONE or 0)."""

    payout: dict[str, int] = field(default_factory=dict)
    market_of: dict[str, str] = field(default_factory=dict)


class LedgerAnalytics:
    """Queries over one open read-only connection, for one scope."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        scope: Scope = Scope(),
        reason_of: Callable[[str | None, str | None], Hashable] | None = None,
    ) -> None:
        self.conn = conn
        self.scope = scope
        self.reason_of = reason_of or _as_stored
        self._columns: dict[str, frozenset[str]] = {}
        self._outcomes: Outcomes | None = None
        self._cols: Columns | None = None
        self._stats: (
            list[tuple[str, Any, int, int, float, float, float, int, float, int]] | None
        ) = None  # per strategy and exit reason, see _exit_stats

    # -- plumbing -----------------------------------------------------------------------
    def columns(self, table: str) -> frozenset[str]:
        known = self._columns.get(table)
        if known is None:
            known = frozenset(r[1] for r in self.conn.execute(f"PRAGMA table_info({table})"))
            self._columns[table] = known
        return known

    def where(self, at: str = "at", prefix: str = "") -> tuple[str, tuple[object, ...]]:
        """The scope as a WHERE clause (with its leading space) and its parameters."""
        clauses: list[str] = []
        params: list[object] = []
        if self.scope.run is not None:
            clauses.append(f"{prefix}run_id = ?")
            params.append(self.scope.run)
        if self.scope.start is not None:
            clauses.append(f"{prefix}{at} >= ?")
            params.append(self.scope.start)
        if self.scope.end is not None:
            clauses.append(f"{prefix}{at} < ?")
            params.append(self.scope.end)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)

    def _one(self, sql: str, params: tuple[object, ...] = ()) -> Any:
        return self.conn.execute(sql, params).fetchone()

    # -- runs and the account -----------------------------------------------------------
    def all_runs(self) -> list[RunRow]:
        rows = self.conn.execute(
            "SELECT id, started_at, ended_at, mode, venue, config_json, summary_json "
            "FROM runs ORDER BY id"
        ).fetchall()
        return [
            RunRow(rid, started, ended, mode, venue, config, _summary(summary))
            for rid, started, ended, mode, venue, config, summary in rows
        ]

    def runs(self) -> list[RunRow]:
        """The runs the scope touches (by id, or overlapping its time window)."""
        scope = self.scope
        out = []
        for run in self.all_runs():
            if scope.run is not None and run.id != scope.run:
                continue
            ended = run.ended_at if run.ended_at is not None else float("inf")
            if scope.start is not None and ended < scope.start:
                continue
            if scope.end is not None and run.started_at >= scope.end:
                continue
            out.append(run)
        return out

    def starting_cash(self) -> int | None:
        row = self._one("SELECT starting_cash FROM account WHERE id = 1")
        return int(row[0]) if row else None

    def realized_before(self) -> int:
        """Realised PnL recorded before the scope starts (earlier runs, earlier times)."""
        scope = self.scope
        params: tuple[object, ...]
        if scope.run is not None:
            clause, params = " WHERE run_id < ?", (scope.run,)
        elif scope.start is not None:
            clause, params = " WHERE at < ?", (scope.start,)
        else:
            return 0
        exits = self._one(f"SELECT coalesce(sum(realized), 0) FROM exits{clause}", params)[0]
        fees = self._one(
            f"SELECT coalesce(sum(fee), 0) FROM fills{clause} AND side = 'BUY'", params
        )[0]
        return int(exits) - int(fees)

    def span(self) -> tuple[float | None, float | None]:
        """First and last moment the scope covers: its runs' start and end, clipped to the
        window, extended to any fill or exit recorded outside them. Rows are appended as
        time moves on, so the first and last by id are found without a scan."""
        runs = self.runs()
        starts = [r.started_at for r in runs]
        ends = [r.ended_at for r in runs if r.ended_at is not None]
        where, params = self.where()
        for table in ("fills", "exits"):
            for pick, into in (("min", starts), ("max", ends)):
                row = self._one(
                    f"SELECT at FROM {table} WHERE id = (SELECT {pick}(id) FROM {table}{where})",
                    params,
                )
                if row is not None:
                    into.append(row[0])
        if not starts:
            return None, None
        first, last = min(starts), max(ends) if ends else max(starts)
        if self.scope.start is not None:
            first = max(first, self.scope.start)
        if self.scope.end is not None:
            last = min(last, self.scope.end)
        return first, max(first, last)

    # -- fills and fees -----------------------------------------------------------------
    def fill_totals(self) -> tuple[int, int, int, int]:
        """(fills, fees, fees of buys, traded notional), cash units (exact: an int64
        holds 922 million USDC of notional). The fees from the fee-paying fills' column
        (read for the sequence anyway), so the scan of every fill sums one product."""
        where, params = self.where()
        n, volume = self._one(
            f"SELECT count(*), coalesce(sum(price * size), 0) FROM fills{where}", params
        )
        cols = self.columns_in_order()
        fees = sum(cols.fee.tolist())
        buy_fees = sum(cols.fee[cols.buy].tolist())
        return int(n), fees, buy_fees, int(volume)

    def avg_slippage_bps(self, strategy: str | None = None) -> float | None:
        where, params = self.where()
        if strategy is not None:
            where += f"{' AND' if where else ' WHERE'} strategy = ?"
            params = (*params, strategy)
        (avg,) = self._one(f"SELECT avg(slippage_bps) FROM fills{where}", params)
        return None if avg is None else float(avg)

    # -- trades -------------------------------------------------------------------------
    def trade_figures(self, strategy: str | None = None) -> TradeFigures:
        """The scope's trades from its columns (read once for the summary's other
        figures too); one strategy's by a query of its own."""
        if strategy is None:
            from engine.ledger.sequence import trade_figures  # numpy: only when used

            return trade_figures(self.columns_in_order())
        return self.strategy_trade_figures(strategy)

    def strategy_trade_figures(self, strategy: str | None) -> TradeFigures:
        """The same sums in SQL (`strategy` None: every trade in scope)."""
        where, params = self.where()
        if strategy is not None:
            where += f"{' AND' if where else ' WHERE'} strategy = ?"
            params = (*params, strategy)
        row = self._one(
            "SELECT count(*), sum(realized > 0), sum(realized < 0),"
            " coalesce(sum(CASE WHEN realized > 0 THEN realized ELSE 0 END), 0),"
            " coalesce(sum(CASE WHEN realized < 0 THEN realized ELSE 0 END), 0),"
            " coalesce(sum(realized), 0), total((realized / 1e10) * (realized / 1e10)),"
            " max(realized), min(realized),"
            " avg(CASE WHEN realized > 0 THEN holding_s END),"
            " avg(CASE WHEN realized < 0 THEN holding_s END),"
            " count(NULLIF(entry_price * shares, 0)),"
            " total(realized * 1.0 / NULLIF(entry_price * shares, 0)),"
            " total(realized * 1.0 / NULLIF(entry_price * shares, 0)"
            "       * realized * 1.0 / NULLIF(entry_price * shares, 0)),"
            " total(CASE WHEN realized < 0 THEN realized * 1.0 / NULLIF(entry_price * shares, 0)"
            "       * realized * 1.0 / NULLIF(entry_price * shares, 0) END),"
            " total(entry_price * 1.0 * shares / 1e10 * holding_s)"
            f" FROM exits{where}",
            params,
        )
        n = int(row[0])
        if not n:
            return TradeFigures()
        return TradeFigures(
            trades=n,
            wins=int(row[1] or 0),
            losses=int(row[2] or 0),
            gross_profit=int(row[3]),
            gross_loss=int(row[4]),
            pnl=int(row[5]),
            pnl_sq=float(row[6]),
            best=row[7],
            worst=row[8],
            win_holding_s=row[9],
            loss_holding_s=row[10],
            returns=int(row[11]),
            ret_sum=float(row[12]),
            ret_sq=float(row[13]),
            ret_down_sq=float(row[14]),
            cost_seconds=float(row[15]),
        )

    def sequence(self, curve_points: int = 0) -> Sequence:
        """The order-dependent figures (drawdown, streaks, time in market, a chart's
        curve), walked over the scope's columns (:mod:`engine.ledger.sequence` says why
        not in SQL)."""
        from engine.ledger.sequence import walk_columns

        return walk_columns(self.columns_in_order(), curve_points)

    def buckets(self) -> list[tuple[int, int, int, int, int]]:
        """Per quarter hour (unix seconds // 900): (bucket, PnL, trades, wins, fees), PnL
        (exits' less buy fees) and fees in cash units; faces group them into days in any
        time zone. From the same columns as the sequence: a GROUP BY here sorts every row."""
        from engine.ledger.sequence import quarter_buckets

        return quarter_buckets(self.columns_in_order())

    def columns_in_order(self) -> Columns:
        """The scope's exits (time, PnL, holding) and fee-paying fills (time, fee, buy) in
        commit order, read once per report in batches (no list of every row)."""
        if self._cols is None:
            from engine.ledger.sequence import Columns

            where, params = self.where()
            exits = self.conn.execute(
                "SELECT at, realized, coalesce(holding_s, -9e999), entry_price * shares"
                f" FROM exits{where} ORDER BY id",
                params,
            )
            fees = self.conn.execute(
                f"SELECT at, fee, side = 'BUY' FROM fills{where}"
                f"{' AND' if where else ' WHERE'} fee != 0 ORDER BY id",
                params,
            )
            self._cols = Columns.read(_batches(exits), _batches(fees))
        return self._cols

    def rejects(self) -> list[tuple[str, int]]:
        """Refused entries (risk events that approved nothing) by reason: the reason's
        text up to its first colon, so "order_rate_limit: global: 30/30 in 60s" and its
        siblings count together; a row counts the refusals it stands for (``repeats``)."""
        where, params = self.where()
        rows = self.conn.execute(
            "SELECT CASE WHEN instr(reason, ':') > 0 THEN substr(reason, 1, instr(reason, ':')"
            " - 1) ELSE reason END AS why, sum(repeats) AS n FROM risk_events"
            f"{where}{' AND' if where else ' WHERE'} approved = 0 GROUP BY why"
            " ORDER BY n DESC, why",
            params,
        ).fetchall()
        return [(str(w), int(n)) for w, n in rows]

    # -- exits --------------------------------------------------------------------------
    def _kind_sql(self) -> str:
        return "kind" if "kind" in self.columns("exits") else "NULL"

    def exit_groups(self, by_strategy: bool = False) -> list[tuple[str, Any, int, int]]:
        """(strategy or '', reason id, trades, PnL) per exit reason id (and strategy)."""
        merged: dict[tuple[str, Any], list[int]] = {}
        for owner, rid, n, pnl, *_ in self._exit_stats():
            cell = merged.setdefault((owner if by_strategy else "", rid), [0, 0])
            cell[0] += n
            cell[1] += pnl
        return [(s, r, n, p) for (s, r), (n, p) in merged.items()]

    def _exit_stats(self) -> list[tuple[str, Any, int, int, float, float, float, int, float, int]]:
        """Per strategy and exit reason id: (strategy, reason id, trades, PnL, sum MAE,
        sum MFE, sum MAE of losers, losers, sum MFE of winners, winners). One grouped
        scan serves the reason shares, the per-strategy table and the excursions (each
        GROUP BY over the exits sorts them all); grouped in SQL by the stored id, or by
        the detail text where no id was stored (few distinct texts), then classified."""
        if self._stats is not None:
            return self._stats
        where, params = self.where()
        kind = self._kind_sql()
        rows = self.conn.execute(
            f"SELECT strategy, {kind} AS k, CASE WHEN {kind} IS NULL THEN reason END AS r,"
            " count(*), coalesce(sum(realized), 0), total(mae), total(mfe),"
            " total(CASE WHEN realized < 0 THEN mae END), coalesce(sum(realized < 0), 0),"
            " total(CASE WHEN realized > 0 THEN mfe END), coalesce(sum(realized > 0), 0)"
            f" FROM exits{where} GROUP BY 1, k, r",
            params,
        ).fetchall()
        self._stats = [
            (str(s), self.reason_of(k, r), int(n), int(p), mae, mfe, lmae, int(lo), wmfe, int(wi))
            for s, k, r, n, p, mae, mfe, lmae, lo, wmfe, wi in rows
        ]
        return self._stats

    def exit_rows(
        self, order: str = "at, id", limit: int | None = None
    ) -> Iterator[tuple[Any, ...]]:
        """Exit rows: (id, run, at, asset, market, strategy, reason id, detail, shares,
        entry, exit, PnL, fee, holding_s, mae, mfe, slippage_bps)."""
        where, params = self.where()
        sql = (
            f"SELECT id, run_id, at, asset_id, market, strategy, {self._kind_sql()}, reason,"
            " shares, entry_price, exit_price, realized, fee, holding_s, mae, mfe, slippage_bps"
            f" FROM exits{where} ORDER BY {order}"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params = (*params, limit)
        for row in self.conn.execute(sql, params):
            yield (*row[:6], self.reason_of(row[6], row[7]), *row[7:])

    def sample_exits(self, points: int) -> list[tuple[Any, ...]]:
        """About `points` exit rows spread evenly over the scope (every k-th id: no
        window, no sort), for charts of very many trades: (PnL, mae, mfe, reason)."""
        where, params = self.where()
        (n,) = self._one(f"SELECT count(*) FROM exits{where}", params)
        step = max(1, -(-int(n) // max(1, points)))
        rows = self.conn.execute(
            f"SELECT realized, mae, mfe, {self._kind_sql()}, reason FROM exits{where}"
            f"{' AND' if where else ' WHERE'} id % ? = 0 ORDER BY id",
            (*params, step),
        ).fetchall()
        return [(p, mae, mfe, self.reason_of(kind, reason)) for p, mae, mfe, kind, reason in rows]

    def excursions(self) -> list[tuple[Any, int, float, float, float, float]]:
        """Per exit reason id: (trades, mean MAE, mean MFE, mean MAE of losers, mean MFE
        of winners), excursions in price units (1e-4) per share."""
        merged: dict[Any, list[float]] = {}
        for _, rid, n, _, mae, mfe, lmae, losers, wmfe, winners in self._exit_stats():
            cell = merged.setdefault(rid, [0, 0.0, 0.0, 0.0, 0, 0.0, 0])
            for i, v in enumerate((n, mae, mfe, lmae, losers, wmfe, winners)):
                cell[i] += v
        return [
            (
                r,
                int(c[0]),
                c[1] / c[0],
                c[2] / c[0],
                c[3] / c[4] if c[4] else 0.0,
                c[5] / c[6] if c[6] else 0.0,
            )
            for r, c in merged.items()
            if c[0]
        ]

    def counterfactual(self) -> tuple[int, int, int]:
        """Exits (not settlements) of tokens whose market resolved: (trades, their PnL,
        what holding each lot to settlement would have made: shares x (payout - entry)),
        cash units."""
        where, params = self.where(prefix="x.")
        self._outcome_table()
        try:
            row = self._one(
                "SELECT count(*), coalesce(sum(x.realized), 0),"
                " coalesce(sum((o.payout - x.entry_price) * x.shares), 0)"
                f" FROM exits x JOIN temp.outcome o ON o.asset_id = x.asset_id{where}"
                f"{' AND' if where else ' WHERE'} x.reason != 'settlement'"
                + (
                    " AND (x.kind IS NULL OR x.kind != 'settlement')"
                    if "kind" in self.columns("exits")
                    else ""
                ),
                params,
            )
        finally:
            self.conn.execute("DROP TABLE IF EXISTS temp.outcome")
        return int(row[0]), int(row[1]), int(row[2])

    def worst_markets(self, limit: int) -> list[tuple[str, int, int]]:
        """(market, trades, PnL) of the markets with the lowest trade PnL, losers only."""
        where, params = self.where()
        rows = self.conn.execute(
            f"SELECT market, count(*), sum(realized) AS p FROM exits{where} GROUP BY market"
            " HAVING p < 0 ORDER BY p, market LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [(str(m), int(n), int(p)) for m, n, p in rows]

    # -- markets ------------------------------------------------------------------------
    def market_names(self) -> dict[str, tuple[str, str, bool, dict[str, str]]]:
        """condition id -> (question, slug, neg_risk, {token: outcome name})."""
        out = {}
        for cid, question, slug, tokens, neg in self.conn.execute(
            "SELECT condition_id, question, slug, tokens_json, neg_risk FROM markets"
        ):
            out[str(cid)] = (
                str(question),
                str(slug),
                bool(neg),
                {str(t): str(n) for t, n in json.loads(tokens)},
            )
        return out

    def per_market(self) -> list[tuple[str, int, int, int, int, int, int]]:
        """(market, fills, trades, wins, trade PnL, fees, buy fees) per market traded."""
        where, params = self.where()
        rows = self.conn.execute(
            "SELECT market, sum(f), sum(t), sum(w), sum(p), sum(fee), sum(bf) FROM ("
            " SELECT market, count(*) AS f, 0 AS t, 0 AS w, 0 AS p, sum(fee) AS fee,"
            " sum(CASE WHEN side = 'BUY' THEN fee ELSE 0 END) AS bf"
            f" FROM fills{where} GROUP BY market UNION ALL"
            " SELECT market, 0, count(*), sum(realized > 0), sum(realized), 0, 0"
            f" FROM exits{where} GROUP BY market) GROUP BY market ORDER BY market",
            (*params, *params),
        ).fetchall()
        return [tuple(int(x) if i else str(x) for i, x in enumerate(r)) for r in rows]  # type: ignore[misc]

    def peak_cost(self) -> dict[str, int]:
        """market -> the most cost held there at once (cash units): buys add their
        notional, exits release the lot's cost basis (entry price x shares)."""
        where, params = self.where()
        rows = self.conn.execute(
            "WITH ev AS (SELECT market, at, 0 AS o, price * size AS d FROM fills"
            f"{where}{' AND' if where else ' WHERE'} side = 'BUY'"
            f" UNION ALL SELECT market, at, 1, -(entry_price * shares) FROM exits{where})"
            " SELECT market, max(held) FROM (SELECT market, sum(d) OVER (PARTITION BY market"
            " ORDER BY at, o ROWS UNBOUNDED PRECEDING) AS held FROM ev) GROUP BY market",
            (*params, *params),
        ).fetchall()
        return {str(m): max(0, int(h)) for m, h in rows}

    def neg_risk_events(self) -> dict[str, str]:
        """market -> neg-risk event id, from the baskets that named the event's legs."""
        out: dict[str, str] = {}
        for event_id, legs in self.conn.execute(
            "SELECT event_id, legs_json FROM baskets WHERE kind = 'neg_risk'"
        ):
            for leg in json.loads(legs):
                out.setdefault(str(leg[1]), str(event_id))
        return out

    # -- resolutions and calibration ----------------------------------------------------
    def outcomes(self) -> Outcomes:
        """Each token's payout where the ledger knows it: tokens settled here, and the
        other tokens of a market whose winner is known (they paid 0), or of a two-token
        market whose one token paid 0 (the other won)."""
        if self._outcomes is not None:
            return self._outcomes
        found = Outcomes()
        settled: dict[str, dict[str, int]] = {}
        for asset, market, payout in self.conn.execute(
            "SELECT DISTINCT asset_id, market, payout_price FROM settlements"
        ):
            settled.setdefault(str(market), {})[str(asset)] = int(payout)
        names = self.market_names()
        for market, tokens in settled.items():
            known = names.get(market)
            all_tokens = list(known[3]) if known else list(tokens)
            winners = [t for t, p in tokens.items() if p == ONE]
            if not winners and len(all_tokens) == 2 and len(tokens) == 1:
                winners = [t for t in all_tokens if t not in tokens]
            for token in all_tokens:
                if token in tokens:
                    found.payout[token] = tokens[token]
                elif winners:
                    found.payout[token] = ONE if token in winners else 0
                else:
                    continue
                found.market_of[token] = market
        self._outcomes = found
        return found

    def _outcome_table(self) -> None:
        self.conn.execute("DROP TABLE IF EXISTS temp.outcome")
        self.conn.execute("CREATE TEMP TABLE outcome (asset_id TEXT PRIMARY KEY, payout INT)")
        self.conn.executemany(
            "INSERT INTO temp.outcome VALUES (?, ?)", self.outcomes().payout.items()
        )

    def calibration(self, bucket: int) -> list[tuple[str, int, int, float, float, float, float]]:
        """Buy fills in resolved markets, share-weighted, per (strategy, price bucket):
        (strategy, bucket index, fills, shares, sum shares x price, sum shares x outcome,
        sum shares x (price - outcome)^2); price and outcome as probabilities (0..1),
        shares in whole shares. `bucket` is the bucket width in price units."""
        where, params = self.where(prefix="f.")
        self._outcome_table()
        try:
            rows = self.conn.execute(
                f"SELECT f.strategy, min(f.price / ?, {ONE // bucket - 1}) AS b, count(*),"
                " total(f.size / 1e6), total(f.size / 1e6 * f.price / 1e4),"
                " total(f.size / 1e6 * o.payout / 1e4),"
                " total(f.size / 1e6 * ((f.price - o.payout) / 1e4)"
                " * ((f.price - o.payout) / 1e4))"
                f" FROM fills f JOIN temp.outcome o ON o.asset_id = f.asset_id{where}"
                f"{' AND' if where else ' WHERE'} f.side = 'BUY' GROUP BY 1, 2 ORDER BY 1, 2",
                (bucket, *params),
            ).fetchall()
        finally:
            self.conn.execute("DROP TABLE IF EXISTS temp.outcome")
        return [
            (str(s), int(b), int(n), float(w), float(p), float(o), float(e))
            for s, b, n, w, p, o, e in rows
        ]

    # -- live against the paper shadow ---------------------------------------------------
    def drift_orders(self) -> list[DriftOrder]:
        """Every live order the paper model shadowed (schema 7 on), in creation order, with
        the venue's fills and the shadow's summed: shares, notional (price x size units),
        fees, first fill time. A ledger without shadow tables has none."""
        if not self.columns("shadow_orders"):
            return []
        where, params = self.where(at="created_at", prefix="o.")
        sums = (
            "SELECT order_id, sum(size) AS n, sum(price * size) AS v, sum(fee) AS fee,"
            " min(at) AS first FROM {table}"
            " WHERE order_id IN (SELECT order_id FROM shadow_orders) GROUP BY order_id"
        )
        rows = self.conn.execute(
            "SELECT o.id, o.run_id, o.created_at, o.asset_id, o.market, o.side, o.price,"
            " o.size, o.strategy, o.status, s.status,"
            " coalesce(v.n, 0), coalesce(v.v, 0), coalesce(v.fee, 0), v.first,"
            " coalesce(p.n, 0), coalesce(p.v, 0), coalesce(p.fee, 0), p.first"
            " FROM shadow_orders s JOIN orders o ON o.id = s.order_id"
            f" LEFT JOIN ({sums.format(table='fills')}) v ON v.order_id = o.id"
            f" LEFT JOIN ({sums.format(table='shadow_fills')}) p ON p.order_id = o.id"
            f"{where} ORDER BY o.created_at, o.id",
            params,
        ).fetchall()
        return [
            DriftOrder(
                str(r[0]),
                int(r[1]),
                float(r[2]),
                str(r[3]),
                str(r[4]),
                str(r[5]),
                int(r[6]),
                int(r[7]),
                str(r[8]),
                str(r[9]),
                str(r[10]),
                Filled(int(r[11]), int(r[12]), int(r[13]), r[14]),
                Filled(int(r[15]), int(r[16]), int(r[17]), r[18]),
            )
            for r in rows
        ]

    # -- raw rows -----------------------------------------------------------------------
    def raw(self, table: str, at: str = "at") -> tuple[list[str], Iterator[tuple[Any, ...]]]:
        """Every column of `table`'s rows in scope, in commit order."""
        if table not in ("orders", "fills"):
            raise ValueError(f"no raw export of {table}")
        names = [r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")]
        where, params = self.where(at=at)
        order = "rowid"
        return names, iter(
            self.conn.execute(f"SELECT * FROM {table}{where} ORDER BY {order}", params)
        )

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[Any]:
        """A read of the kinds' own (small, scoped) queries."""
        return self.conn.execute(sql, params).fetchall()


def _batches(cursor: sqlite3.Cursor, size: int = 65536) -> Iterator[list[Any]]:
    while batch := cursor.fetchmany(size):
        yield batch


def _as_stored(kind: str | None, reason: str | None) -> str:
    return kind or reason or ""


def _summary(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None

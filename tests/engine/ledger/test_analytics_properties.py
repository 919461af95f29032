"""The scope's trade figures from its columns (numpy, commit order) equal SQL's sums over
the same rows: the same integers, and floats added in the same order to the last bit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from engine.ledger.analytics import LedgerAnalytics
from engine.ledger.schema import migrate

exit_rows = st.lists(
    st.tuples(
        st.integers(-(10**13), 10**13),  # realised PnL (cash units)
        st.one_of(st.none(), st.floats(0, 10**6, allow_nan=False)),  # holding seconds
        st.integers(0, 10**4),  # entry price (0: no cost to divide by)
        st.integers(1, 10**9),  # shares
    ),
    max_size=40,
)


@given(exit_rows)
def test_trade_figures_from_columns_equal_sqls(
    rows: list[tuple[int, float | None, int, int]],
) -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrate(conn, Path(":memory:"))
    conn.execute("INSERT INTO runs VALUES (1, 0, NULL, 'paper', 't', '{}', NULL)")
    conn.executemany(
        "INSERT INTO exits (run_id, at, asset_id, market, strategy, reason, shares,"
        " entry_price, exit_price, realized, fee, holding_s) VALUES"
        " (1, ?, 'A', 'M', 's', 'r', ?, ?, 0, ?, 0, ?)",
        [(float(i), shares, entry, pnl, held) for i, (pnl, held, entry, shares) in enumerate(rows)],
    )
    a = LedgerAnalytics(conn)
    assert a.trade_figures() == a.strategy_trade_figures(None)
    assert a.trade_figures() == a.trade_figures("s")


def test_refusals_count_the_records_each_row_stands_for() -> None:
    """A folded refusal row (engine.repeats) counts as many refusals as it stands for; a
    resize (approved > 0) is not a refusal."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrate(conn, Path(":memory:"))
    conn.execute("INSERT INTO runs VALUES (1, 0, NULL, 'paper', 't', '{}', NULL)")
    conn.executemany(
        "INSERT INTO risk_events (run_id, at, asset_id, side, strategy, reason, wanted,"
        " approved, repeats) VALUES (1, 0, 'A', 'BUY', 's', ?, 5, ?, ?)",
        [
            ("order_rate_limit: global: 30/30 in 60s", 0, 1),
            ("order_rate_limit: global: 30/30 in 60s", 0, 41),
            ("stale_book: 3.2s old", 0, 2),
            ("resized: book depth -> 4", 4, 1),
        ],
    )
    assert LedgerAnalytics(conn).rejects() == [("order_rate_limit", 42), ("stale_book", 2)]

"""The one-pass order-dependent figures (engine/ledger/sequence.py) equal a plain loop's
on any stream of exits and fees: the drawdown, its times, streaks, time in market."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.ledger.sequence import DrawdownFigures, walk

times = st.integers(0, 50).map(float)
exit_rows = st.lists(
    st.tuples(times, st.integers(-100, 100), st.one_of(st.none(), st.floats(0, 20))), max_size=40
)
fee_rows = st.lists(st.tuples(times, st.integers(1, 10)), max_size=20)


def naive_drawdown(
    exits: list[tuple[float, int, float | None]], fees: list[tuple[float, int]]
) -> DrawdownFigures:
    per_time: dict[float, int] = {}
    for at, pnl, _ in exits:
        per_time[at] = per_time.get(at, 0) + pnl
    for at, fee in fees:
        per_time[at] = per_time.get(at, 0) - fee
    cum = peak = 0
    peak_at = None
    best = DrawdownFigures()
    curve = []
    for at in sorted(per_time):
        cum += per_time[at]
        curve.append((at, cum))
        if cum >= peak:
            peak, peak_at = cum, at
        if peak - cum > best.amount:
            best = DrawdownFigures(peak - cum, peak, peak_at, at, None)
    if best.end is not None:
        back = next((at for at, c in curve if at > best.end and c >= best.peak), None)
        best = DrawdownFigures(best.amount, best.peak, best.start, best.end, back)
    return best


def naive_streaks(pnl: list[int]) -> tuple[int, int]:
    wins = losses = best_w = best_l = 0
    for p in pnl:
        wins, losses = (wins + 1, 0) if p > 0 else (0, losses + 1) if p < 0 else (0, 0)
        best_w, best_l = max(best_w, wins), max(best_l, losses)
    return best_w, best_l


def naive_union(exits: list[tuple[float, int, float | None]]) -> float:
    # Held seconds on a fine grid (every bound here is a multiple of 1/64).
    marks = set()
    for at, _, held in exits:
        if held:
            start = at - held
            marks.update(i for i in range(int(start * 64), int(at * 64)))
    return len(marks) / 64


@given(exit_rows, fee_rows)
def test_walk_equals_a_plain_loop(
    exits: list[tuple[float, int, float | None]], fees: list[tuple[float, int]]
) -> None:
    exits = sorted(exits, key=lambda e: e[0])  # commit order is time order
    fees = sorted(fees, key=lambda f: f[0])
    seq = walk(exits, fees)
    assert seq.drawdown == naive_drawdown(exits, fees)
    assert (seq.max_win_streak, seq.max_loss_streak) == naive_streaks([p for _, p, _ in exits])


@given(
    st.lists(
        st.tuples(
            st.integers(0, 50).map(float), st.just(0), st.integers(0, 64 * 5).map(lambda n: n / 64)
        ),
        max_size=30,
    )
)
def test_time_in_market_is_the_union_of_holding_intervals(
    exits: list[tuple[float, int, float | None]],
) -> None:
    exits = sorted(exits, key=lambda e: e[0])
    assert walk(exits, []).in_market_s == naive_union(exits)


def test_rows_out_of_time_order_are_sorted_first() -> None:
    ordered = walk([(1.0, 5, None), (2.0, -8, None), (3.0, 4, None)], [])
    shuffled = walk([(2.0, -8, None), (1.0, 5, None), (3.0, 4, None)], [])
    assert shuffled.drawdown == ordered.drawdown == DrawdownFigures(8, 5, 1.0, 2.0, None)


huge = st.tuples(st.booleans(), st.integers(2**61, 2**62)).map(lambda s: s[1] if s[0] else -s[1])


@given(
    st.lists(st.tuples(times, huge, st.none()), min_size=1, max_size=20),
    st.lists(st.tuples(times, st.integers(2**61, 2**62)), max_size=10),
)
def test_cash_past_int64_stays_exact(
    exits: list[tuple[float, int, float | None]], fees: list[tuple[float, int]]
) -> None:
    # Running sums of such amounts leave int64: the walk must not wrap around.
    exits = sorted(exits, key=lambda e: e[0])
    fees = sorted(fees, key=lambda f: f[0])
    assert walk(exits, fees).drawdown == naive_drawdown(exits, fees)

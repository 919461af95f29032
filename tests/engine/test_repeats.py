"""RepeatFold: every record counted once, at most a row a minute per key, nothing lost."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.repeats import RECORD_EVERY_S, RepeatFold
from tests.kit.hypothesis import examples

# (key, seconds since the previous record): keys collide often, gaps straddle a minute.
records = st.lists(
    st.tuples(st.sampled_from("abc"), st.sampled_from((0.0, 0.5, 30.0, 59.9, 60.0, 61.0))),
    max_size=200,
)


@given(records)
@settings(max_examples=examples(200))
def test_rows_count_every_record_once_and_come_at_most_once_a_minute(
    offered: list[tuple[str, float]],
) -> None:
    fold: RepeatFold[str, int] = RepeatFold()
    at = 0.0
    counted: Counter[str] = Counter()
    rows: dict[str, list[float]] = {}
    for i, (key, gap) in enumerate(offered):
        at += gap
        n = fold.admit(key, at, i)
        if n:
            counted[key] += n
            rows.setdefault(key, []).append(at)
    held = fold.holding
    latest = {key: i for i, (key, _) in enumerate(offered)}
    for n, item in fold.drain():
        key = offered[item][0]
        assert item == latest[key]  # a held kind is written as its latest record
        counted[key] += n
        held -= n
    assert held == 0
    assert fold.holding == 0
    assert counted == Counter(key for key, _ in offered)
    for times in rows.values():
        assert all(b - a >= RECORD_EVERY_S for a, b in zip(times, times[1:], strict=False))


def test_the_first_record_of_a_key_is_written_at_once_and_the_next_minute_carries_the_held() -> (
    None
):
    fold: RepeatFold[str, str] = RepeatFold()
    assert fold.admit("k", 0.0, "first") == 1
    assert fold.admit("k", 1.0, "held") == 0
    assert fold.admit("k", 2.0, "held") == 0
    assert fold.admit("other", 2.0, "x") == 1  # keys are independent
    assert fold.admit("k", 60.0, "next") == 3  # itself and the two held before it
    assert fold.drain() == []

"""RepeatFold: every record counted once, at most a row a minute per key, nothing lost,
and a count written within a minute of its records."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.repeats import RECORD_EVERY_S, RepeatFold
from tests.kit.hypothesis import examples

# (key or None for a housekeeping tick, seconds since the previous step): keys collide
# often, gaps straddle a minute.
steps = st.lists(
    st.tuples(
        st.sampled_from(("a", "b", "c", None)),
        st.sampled_from((0.0, 0.1, 0.5, 30.0, 59.9, 60.0, 61.0, 600.0)),
    ),
    max_size=200,
)


@given(steps)
@settings(max_examples=examples(300))
def test_rows_count_every_record_once_come_at_most_once_a_minute_and_never_late(
    script: list[tuple[str | None, float]],
) -> None:
    fold: RepeatFold[str, tuple[str, float]] = RepeatFold()
    now = 0.0
    offered: Counter[str] = Counter()
    counted: Counter[str] = Counter()
    writes: dict[str, list[float]] = {}
    oldest_unwritten: dict[str, float] = {}  # key -> its oldest record not yet in a row

    def wrote(key: str, n: int) -> None:
        counted[key] += n
        writes.setdefault(key, []).append(now)
        oldest_unwritten.pop(key, None)

    for key, gap in script:
        now += gap
        for n, (held_key, _) in fold.due(now):
            wrote(held_key, n)
        # Nothing held outlives its key's minute (so no count is more than a minute late).
        for held_key, since in oldest_unwritten.items():
            assert now < writes[held_key][-1] + RECORD_EVERY_S, held_key
            assert now < since + RECORD_EVERY_S, held_key
        if key is None:
            continue
        offered[key] += 1
        n = fold.admit(key, now, (key, now))
        if n:
            wrote(key, n)
        else:
            oldest_unwritten.setdefault(key, now)
    held = fold.holding
    latest = dict(_records(script))
    for n, (key, at) in fold.drain():
        assert at == latest[key]  # a held kind is written as its latest record
        counted[key] += n
        held -= n
    assert held == 0
    assert fold.holding == 0
    assert counted == offered
    for times in writes.values():
        assert all(b >= a + RECORD_EVERY_S for a, b in zip(times, times[1:], strict=False))


def _records(script: list[tuple[str | None, float]]) -> list[tuple[str, float]]:
    now, out = 0.0, []
    for key, gap in script:
        now += gap
        if key is not None:
            out.append((key, now))
    return out


def test_the_first_record_is_a_row_at_once_and_the_held_ones_a_row_when_the_minute_ends() -> None:
    fold: RepeatFold[str, str] = RepeatFold()
    assert fold.admit("k", 0.0, "first") == 1
    assert fold.admit("k", 1.0, "held") == 0
    assert fold.admit("k", 2.0, "latest") == 0
    assert fold.admit("other", 2.0, "x") == 1  # keys are independent
    assert fold.due(59.9) == []
    assert fold.due(60.0) == [(2, "latest")]  # the minute is over: the held, as one row
    assert fold.admit("k", 61.0, "held again") == 0  # within a minute of that row
    assert fold.admit("k", 120.0, "a row") == 2  # itself and the one held before it
    assert fold.due(1000.0) == []  # nothing held; both keys idle: forgotten
    assert fold.admit("k", 1001.0, "after a quiet minute") == 1
    assert fold.drain() == []

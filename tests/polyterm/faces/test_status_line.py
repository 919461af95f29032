"""The headless face's status line: while the feed starts it says what start-up is doing,
not ``books=0``."""

from __future__ import annotations

from dataclasses import replace

from polyterm.faces.headless import status_line
from tests.kit.snapshots import blank_snapshot


def test_the_status_line_says_what_start_up_is_doing() -> None:
    snap = blank_snapshot()
    feed = replace(snap.feed, startup="loading books 120/400", books_expected=400)
    line = status_line(replace(snap, feed=feed))
    assert "loading books 120/400" in line
    assert "books=0" not in line
    assert "books=0" in status_line(snap)  # once started: the count of books

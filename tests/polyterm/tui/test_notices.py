"""The notice board behind the notice line: at most one change per period, what arrives
meanwhile coalesced into the next (the most severe shown, the count said), an error at
once; every notice kept for the log."""

from __future__ import annotations

from polyterm.tui.notices import Notice, NoticeBoard


def test_notices_in_one_period_are_coalesced_into_the_next() -> None:
    board = NoticeBoard(every_s=3.0)
    board.post(Notice("first"), now=0.0)
    assert board.current is not None
    assert board.current.message == "first"
    board.post(Notice("second"), now=0.5)
    board.post(Notice("third", severity="warning"), now=1.0)
    board.post(Notice("fourth"), now=2.0)
    assert board.current.message == "first"  # the line stays put within the period
    board.tick(3.1)
    assert board.current.message == "third"  # the most severe of those waiting
    assert board.current.more == 2
    assert "(+2 more in the log)" in board.current.line
    assert [n.message for n in board.posted] == ["first", "second", "third", "fourth"]
    assert len(board.shown) == 2


def test_an_error_shows_at_once() -> None:
    board = NoticeBoard(every_s=3.0)
    board.post(Notice("a fill"), now=0.0)
    board.post(Notice("the engine failed", title="Engine", severity="error"), now=0.1)
    assert board.current is not None
    assert board.current.severity == "error"
    assert board.current.line == "Engine: the engine failed"


def test_a_notice_is_fresh_for_its_timeout_then_stays_dimmed() -> None:
    board = NoticeBoard()
    board.post(Notice("x", timeout=4.0), now=10.0)
    assert board.fresh(13.9)
    assert not board.fresh(14.1)
    assert board.current is not None  # still there to read

"""The logbook: a line at once outside a decision pass, in order after it inside one."""

from __future__ import annotations

from engine.logbook import Logbook


def test_a_line_outside_a_pass_is_written_at_once() -> None:
    book = Logbook()
    written: list[str] = []
    book.write(lambda: written.append("a"))
    assert written == ["a"]


def test_held_lines_wait_for_the_pass_and_keep_their_order() -> None:
    book = Logbook()
    written: list[str] = []
    book.hold()
    book.hold()  # holding twice is holding
    for text in "abc":
        book.write(lambda text=text: written.append(text))
    assert written == []
    book.release()
    assert written == ["a", "b", "c"]
    book.write(lambda: written.append("d"))  # released: at once again
    assert written == ["a", "b", "c", "d"]
    book.release()  # nothing held: nothing to do
    assert written == ["a", "b", "c", "d"]

"""The notice board behind the notice line: at most one change per period, what arrives
meanwhile coalesced into the next (the most severe shown, the count said), an error at
once; every notice kept for the log. On the console, a steady stream of fills changes the
line at most once a period."""

from __future__ import annotations

from pathlib import Path

import pytest

from polyterm.tui.notices import Notice, NoticeBoard
from tests.kit.console import SIZE, console, plain, replayed


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


@pytest.mark.integration  # the whole console on a replay
async def test_a_steady_stream_of_fills_changes_the_notice_line_at_most_once_per_period(
    tape: Path, tmp_path: Path
) -> None:
    # A busy run fills on every refresh. Toasts over the panes hid the Sentiment pane most
    # of the time; the notice line hides nothing, and changes at most once every
    # EVERY_S seconds, the fills in between summed up into the next notice.
    import time

    from engine.events import Filled
    from engine.orders import Fill, Liquidity, Side
    from polyterm.tui.notices import EVERY_S

    app = console(tape, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        before = len(app.notices.shown)
        asset = app.bridge.latest.markets[0].asset_id
        market = app.bridge.latest.markets[0].market
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < 2 * EVERY_S - 0.3:
            n += 1
            fill = Fill(
                f"o{n}#1",
                f"o{n}",
                asset,
                market,
                Side.BUY,
                5000,
                10_000_000,
                0,
                Liquidity.TAKER,
                0.0,
            )
            app.bridge.events.append(Filled(0.0, fill, "mean_reversion", "entry"))
            await pilot.pause(app.refresh_s)
        await pilot.pause()
        shown = list(app.notices.shown)[before:]
        # The window holds two starts of a period: at most two changes of the line.
        assert 1 <= len(shown) <= 2, f"{len(shown)} notices for {n} refreshes with fills"
        assert any(s.more for s in shown), "the fills in between were not summed up"
        assert "fill" in plain(app.screen.query_one("#notice")).lower()

"""Data intake: frames into the books, and when the feed last vouched for each book."""

from __future__ import annotations

import json
from pathlib import Path

from tests.kit.engine import OPEN, T0, level
from tests.kit.engine import open_rig as rig


async def test_a_book_the_feed_no_longer_streams_ages_from_its_own_frames(
    tmp_path: Path,
) -> None:
    """A message on a live WebSocket vouches for the books that connection carries, not
    for a book the hot-asset registry dropped from the subscription: that one ages from
    its own last frame, so no order is priced off it once older than max_book_age_s."""
    r = await rig(tmp_path / "l.sqlite", [])
    r.frame(*OPEN)
    r.clock.advance_to(T0 + 10.0)
    r.core.on_frame(json.dumps([level("N", "0.56", "90", "BUY")]), r.clock.time(), "ws")
    health = r.core.intake.health
    assert r.core.book_age("Y") == 0.0  # one source vouches for every book (a tape)
    # Sharded: only the connection carrying a book vouches for it; Y is carried by none
    # (dropped from the subscription), N by one that spoke just now.
    now = r.clock.monotonic()
    health.last_message_for = lambda asset: now if asset == "N" else None
    assert r.core.book_age("Y") == 10.0
    assert r.core.book_age("N") == 0.0
    await r.ledger.close()

"""Review of issue 9: "a well-paced client never sees the venue's 429" (pacing.py).
The window limiter stamps a request when it takes its place in the window, but the
request goes out only once it gets one of the client's concurrency slots; the venue
counts it when it arrives. When the slots are busy with other endpoints' requests, a
window's requests go out late and the next window's go out at once, so the venue sees
more than its limit in one of its windows and answers 429."""

from __future__ import annotations

import asyncio

import pytest

import engine.adapters.net.pacing as client_pacing
import polyterm.emulator.pacing as venue_pacing
from engine.adapters.net.http import PacedHttp
from engine.clock import SystemClock
from engine.market.health import FeedHealth
from polyterm.emulator.server import ExchangeEmulator

pytestmark = pytest.mark.integration

WINDOW = 2.0  # the venue's 10 s window, scaled down (both sides) so the test is quick


@pytest.mark.emulator(rate_limits={"POST /books": 4}, faults={"latency_ms": 100})
async def test_requests_paced_by_the_venue_table_are_never_answered_429(
    emulator: ExchangeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_pacing, "WINDOW_S", WINDOW)
    monkeypatch.setattr(venue_pacing, "WINDOW_S", WINDOW)
    assert emulator.urls is not None
    clob = emulator.urls.clob
    health = FeedHealth()
    http = PacedHttp(
        SystemClock(),
        health,
        max_concurrency=1,
        limits={"POST /books": 4},  # the same table the venue enforces
        hosts={"CLOB": clob},
        max_retries=0,
    )
    token = emulator.exchange.markets[0].yes.asset_id
    cid = emulator.exchange.markets[0].info.condition_id
    try:
        # Other work holds the one slot for a while (market details, say)...
        others = [
            asyncio.create_task(http.get_json(f"{clob}/clob-markets/{cid}")) for _ in range(8)
        ]
        await asyncio.sleep(0)
        # ...while the feed asks for books: 4 now, 4 in the next window.
        books = [
            asyncio.create_task(
                http.request("POST", f"{clob}/books", json_body=[{"token_id": token}])
            )
            for _ in range(8)
        ]
        results = await asyncio.gather(*others, *books, return_exceptions=True)
    finally:
        await http.aclose()
    failures = [r for r in results if isinstance(r, BaseException)]
    assert health.rest_429 == 0, f"{health.rest_429} answered 429: {failures[:1]}"

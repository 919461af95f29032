"""Review of issue 9: "a well-paced client never sees the venue's 429" (pacing.py).
The window limiter stamps a request when it takes its place in the window, but the
request goes out only once it gets one of the client's concurrency slots; the venue
counts it when it arrives. When the slots are busy with other endpoints' requests, a
window's requests go out late and the next window's go out at once, so the venue sees
more than its limit in one of its windows and answers 429."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import engine.adapters.net.pacing as client_pacing
import polyterm.emulator.pacing as venue_pacing
from engine.adapters.net.http import PacedHttp, VenueError
from engine.clock import SystemClock
from engine.market.health import FeedHealth
from polyterm.emulator.server import ExchangeEmulator

pytestmark = pytest.mark.integration

WINDOW = 2.0  # the venue's 10 s window, scaled down (both sides) so the test is quick


def paced(
    emulator: ExchangeEmulator,
    monkeypatch: pytest.MonkeyPatch,
    limits: dict[str, int],
    **options: Any,
) -> tuple[PacedHttp, FeedHealth, str]:
    """A client pacing by `limits` against the emulator, both on the short window, no
    retries (a 429 must show)."""
    monkeypatch.setattr(client_pacing, "WINDOW_S", WINDOW)
    monkeypatch.setattr(venue_pacing, "WINDOW_S", WINDOW)
    assert emulator.urls is not None
    clob = emulator.urls.clob
    health = FeedHealth()
    http = PacedHttp(
        SystemClock(), health, limits=limits, hosts={"CLOB": clob}, max_retries=0, **options
    )
    return http, health, clob


@pytest.mark.emulator(rate_limits={"POST /books": 4}, faults={"latency_ms": 100})
async def test_requests_paced_by_the_venue_table_are_never_answered_429(
    emulator: ExchangeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same table the venue enforces.
    http, health, clob = paced(emulator, monkeypatch, {"POST /books": 4}, max_concurrency=1)
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


@pytest.mark.parametrize("how", ["client timeout", "cancelled"])
@pytest.mark.emulator(rate_limits={"POST /books": 1})
async def test_an_attempt_given_up_unanswered_still_holds_its_place(
    how: str, emulator: ExchangeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review of the fix above: an attempt that ends without an answer (our timeout, a
    cancel) may still reach the venue and count there, later than we gave up. Its place
    must outlast that, or the next window's request meets a 429."""
    http, health, clob = paced(
        emulator,
        monkeypatch,
        {"POST /books": 1},
        timeout_s=0.05 if how == "client timeout" else 10.0,
    )
    body = [{"token_id": emulator.exchange.markets[0].yes.asset_id}]
    try:
        emulator.faults.latency_ms = 300  # the venue reaches (counts) the first one late
        first = asyncio.create_task(http.request("POST", f"{clob}/books", json_body=body))
        if how == "cancelled":
            await asyncio.sleep(0.05)
            first.cancel()
        outcome = (await asyncio.gather(first, return_exceptions=True))[0]
        assert isinstance(outcome, VenueError | asyncio.CancelledError), outcome
        emulator.faults.latency_ms = 0
        assert await http.request("POST", f"{clob}/books", json_body=body)
    finally:
        await http.aclose()
    assert health.rest_429 == 0

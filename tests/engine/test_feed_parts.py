"""Feed building blocks with a fake clock: pacing, backoff, hot assets, health, guard."""

import asyncio
import random
from typing import Any, cast

import httpx
import pytest
import websockets.asyncio.server
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.server import ServerConnection

from engine.adapters.net.http import PacedHttp, VenueError
from engine.adapters.net.loopback import OfflineViolation, ensure_loopback, is_loopback_host
from engine.adapters.net.pacing import Backoff, RateLimiter
from engine.adapters.polymarket.feed import PolymarketFeed
from engine.adapters.polymarket.hot_assets import HotAssetRegistry, HotAssetSettings
from engine.adapters.polymarket.market_ws import MarketWebSocket
from engine.clock import SystemClock
from engine.config import FeedConfig, HotAssetConfig
from engine.market.health import FeedHealth, FeedSource
from tests.conftest import FakeClock


async def test_rate_limiter_paces_after_the_burst(fake_clock: FakeClock) -> None:
    limiter = RateLimiter(fake_clock, rate=10, burst=3)
    start = fake_clock.monotonic()
    for _ in range(13):
        await limiter.acquire()
    # 3 free, then 10 more at 10/s: about one second of waiting.
    assert fake_clock.monotonic() - start == pytest.approx(1.0, abs=0.01)


def test_backoff_grows_with_jitter_and_caps() -> None:
    b = Backoff(0.5, 4.0, random.Random(1))
    delays = [b.next_delay() for _ in range(8)]
    assert all(0.25 <= d <= 4.0 for d in delays)
    assert max(delays[4:]) > max(delays[:1])
    assert len(set(delays)) == len(delays)  # jittered
    b.reset()
    assert b.next_delay() <= 0.5


def test_hot_assets_pins_limit_ttl_sticky() -> None:
    reg = HotAssetRegistry(
        HotAssetSettings(
            asset_limit=3, static_assets=("pin",), min_score=1.0, sticky_s=10, ttl_s=5, hit_boost=10
        )
    )
    for i, asset in enumerate(["a", "b", "c", "d"]):
        reg.set_base(asset, float(4 - i))
    assert reg.select(0.0) == ["pin", "a", "b"]
    reg.hit("d", 1.0)
    assert reg.select(1.0) == ["pin", "a", "b"]  # a and b are sticky for 10 s
    assert reg.select(11.0) == ["pin", "a", "b"]  # d's hit expired at 6 s (TTL 5)
    reg.hit("d", 12.0)
    assert reg.select(12.0) == ["pin", "d", "a"]  # stickiness over: the boosted d wins
    assert reg.select(18.0)[:2] == ["pin", "d"]  # hit gone, but d is sticky until 22 s
    low = HotAssetRegistry(HotAssetSettings(min_score=2.5))
    low.set_base("x", 2.0)
    assert low.select(0.0) == []


def test_health_transitions_and_snapshot() -> None:
    h = FeedHealth()
    assert h.source is FeedSource.WS_INITIALISING
    h.set_source(FeedSource.REST_ONLY, 1.0, "WS closed")
    h.last_rest_fetch = 1.5
    h.record_latency(10.0)
    h.record_latency(20.0)
    snap = h.snapshot(2.0)
    assert snap.current_source == "rest_only"
    assert snap.fallback_reason == "WS closed"
    assert snap.rest_age_s == 0.5
    assert snap.rest_latency_ms == 20.0
    assert snap.rest_latency_avg_ms == 11.0
    h.set_source(FeedSource.WS_LIVE, 3.0)
    assert h.snapshot(3.0).fallback_reason is None
    assert [t[1] for t in h.transitions] == ["rest_only", "ws_live"]


def test_loopback_guard() -> None:
    for host in ("127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost"):
        assert is_loopback_host(host)
    for host in ("10.0.0.1", "192.168.1.1", "clob.polymarket.com", "0.0.0.0", ""):
        assert not is_loopback_host(host)
    with pytest.raises(OfflineViolation, match="not a loopback address"):
        ensure_loopback("https://clob.polymarket.com/book")


def test_offline_feed_refuses_real_urls(fake_clock: FakeClock) -> None:
    with pytest.raises(OfflineViolation, match="clob_rest_url"):
        PolymarketFeed(FeedConfig(offline=True), HotAssetConfig(), fake_clock)


async def test_offline_http_never_sends_off_box(fake_clock: FakeClock) -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    transport = httpx.MockTransport(answer)
    http = PacedHttp(fake_clock, FeedHealth(), offline=True, transport=transport)
    with pytest.raises(OfflineViolation):
        await http.get_json("http://93.184.216.34/markets")
    assert sent == []
    await http.aclose()


async def test_retries_on_429_and_5xx_then_succeeds(fake_clock: FakeClock) -> None:
    answers = iter([429, 503, 200])
    transport = httpx.MockTransport(
        lambda r: httpx.Response(next(answers), json={"ok": True}, headers={"Retry-After": "0"})
    )
    health = FeedHealth()
    http = PacedHttp(fake_clock, health, transport=transport, backoff_base_s=0.1, backoff_cap_s=1)
    assert await http.get_json("http://127.0.0.1/x") == {"ok": True}
    assert (health.rest_429, health.rest_5xx, health.rest_requests) == (1, 1, 3)
    assert health.rest_latency_ms is not None
    await http.aclose()


async def test_gives_up_after_retries_and_does_not_retry_4xx(fake_clock: FakeClock) -> None:
    transport = httpx.MockTransport(
        lambda r: httpx.Response(503 if r.url.path == "/a" else 404, text="nope")
    )
    health = FeedHealth()
    http = PacedHttp(fake_clock, health, transport=transport, max_retries=2)
    with pytest.raises(VenueError, match="failed after retries: HTTP 503"):
        await http.get_json("http://127.0.0.1/a")
    with pytest.raises(VenueError, match="answered 404") as info:
        await http.get_json("http://127.0.0.1/b")
    assert info.value.status == 404
    assert health.rest_requests == 4
    await http.aclose()


def test_bad_urls_are_named() -> None:
    with pytest.raises(ValueError, match="clob_rest_url"):
        FeedConfig(clob_rest_url="ftp://nowhere")


# -- the market WebSocket: a cancel is never lost, and loopback skips deflate -----------


class _CancelAsFrameArrives:
    """A connection whose first ``recv`` completes in the very step that cancels the
    receiving task: the race ``asyncio.wait_for`` loses on Python 3.11."""

    def __init__(self) -> None:
        self.receiver: asyncio.Task[str] | None = None
        self.calls = 0

    async def recv(self) -> str:
        self.calls += 1
        if self.calls == 1:
            assert self.receiver is not None
            self.receiver.cancel()
            return '{"event_type": "last_trade_price"}'
        await asyncio.Event().wait()  # silence, for ever
        raise AssertionError("unreachable")


def _market_ws(url: str, frames: list[str | bytes], **kwargs: Any) -> MarketWebSocket:
    return MarketWebSocket(
        url, SystemClock(), FeedHealth(), lambda raw, ts: frames.append(raw), **kwargs
    )


async def test_receive_honours_a_cancel_that_lands_as_a_frame_arrives() -> None:
    frames: list[str | bytes] = []
    ws = _market_ws("ws://127.0.0.1:1/ws/market", frames, stale_after_s=30)
    conn = _CancelAsFrameArrives()
    task = asyncio.create_task(ws._receive(cast(ClientConnection, conn)))
    conn.receiver = task
    done, _ = await asyncio.wait({task}, timeout=2)
    assert task in done, "the cancel was swallowed: the receive loop is still waiting"
    assert task.cancelled()
    assert frames == ['{"event_type": "last_trade_price"}']  # the frame was still handed on


class _Trickle:
    """Five frames 30 ms apart, then silence."""

    def __init__(self) -> None:
        self.sent = 0

    async def recv(self) -> str:
        if self.sent == 5:
            await asyncio.Event().wait()
        await asyncio.sleep(0.03)
        self.sent += 1
        return f'{{"n": {self.sent}}}'


async def test_every_message_pushes_the_stale_deadline() -> None:
    frames: list[str | bytes] = []
    ws = _market_ws("ws://127.0.0.1:1/ws/market", frames, stale_after_s=0.05)
    reason = await ws._receive(cast(ClientConnection, _Trickle()))
    assert reason == "no WS message for 0.05s"
    assert len(frames) == 5  # 150 ms of traffic, never 50 ms of silence until the end


async def test_a_cancel_while_the_pinger_winds_down_stops_the_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def subscribe_then_close(conn: ServerConnection) -> None:
        await conn.recv()
        await conn.close()

    async with websockets.asyncio.server.serve(subscribe_then_close, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        ws = _market_ws(
            f"ws://127.0.0.1:{port}/ws/market", [], reconnect_base_s=0.01, reconnect_cap_s=0.02
        )
        winding_down = asyncio.Event()

        async def slow_to_stop(conn: ClientConnection) -> None:
            try:
                await asyncio.Event().wait()
            finally:  # like a PING send in flight when the session ends
                winding_down.set()
                await asyncio.sleep(0.2)

        monkeypatch.setattr(ws, "_ping", slow_to_stop)
        task = asyncio.create_task(ws.run())
        await winding_down.wait()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2)
        assert task in done, "the cancel was swallowed: the socket reconnects instead"
        assert task.cancelled()
        await asyncio.sleep(0.25)  # let the pinger finish winding down


async def test_loopback_connections_skip_deflate_and_the_venue_keeps_it() -> None:
    offered: list[str | None] = []

    async def note_extensions(conn: ServerConnection) -> None:
        assert conn.request is not None
        offered.append(conn.request.headers.get("Sec-WebSocket-Extensions"))
        await conn.recv()  # the subscription
        await conn.close()

    async with websockets.asyncio.server.serve(note_extensions, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        ws = _market_ws(f"ws://127.0.0.1:{port}/ws/market", [])
        reason = await ws._session()
    assert reason.startswith("WS closed")
    assert offered == [None]  # no permessage-deflate offered on loopback
    venue = _market_ws("wss://ws-subscriptions-clob.polymarket.com/ws/market", [])
    assert venue._compression == "deflate"

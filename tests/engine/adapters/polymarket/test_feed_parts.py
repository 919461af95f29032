"""Feed building blocks with a fake clock: pacing, backoff, hot assets, health, guard."""

import asyncio
import random

import httpx
import pytest

from engine.adapters.net.http import PacedHttp, VenueError
from engine.adapters.net.loopback import OfflineViolation, ensure_loopback, is_loopback_host
from engine.adapters.net.pacing import (
    WINDOW_S,
    Backoff,
    RateLimiter,
    WindowLimiter,
    endpoint_key,
)
from engine.adapters.polymarket.feed import PolymarketFeed
from engine.adapters.polymarket.hot_assets import HotAssetRegistry, HotAssetSettings
from engine.config import FeedConfig, HotAssetConfig
from engine.market.health import FeedHealth, FeedSource
from tests.kit.clock import FakeClock


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


# -- the venue's per-endpoint limits ------------------------------------------------------


def test_endpoint_keys_take_the_longest_route_that_covers_the_path() -> None:
    table = {"CLOB": 1, "GET /book": 1, "POST /books": 1, "GET /data/order": 1, "GET /data": 1}
    assert endpoint_key("GET", "/book", table) == "GET /book"
    assert endpoint_key("GET", "/books", table) is None  # /books is not under /book
    assert endpoint_key("POST", "/books", table) == "POST /books"
    assert endpoint_key("GET", "/data/order/0xab", table) == "GET /data/order"
    assert endpoint_key("GET", "/data/trades", table) == "GET /data"
    assert endpoint_key("get", "/clob-markets/0x1", table) is None
    gamma = {"GAMMA GET /markets": 1, "GET /markets": 1}
    assert endpoint_key("GET", "/markets", gamma, "GAMMA") == "GAMMA GET /markets"
    assert endpoint_key("GET", "/markets", gamma) == "GET /markets"


async def test_window_limiter_holds_each_endpoint_and_its_host_to_its_table(
    fake_clock: FakeClock,
) -> None:
    limiter = WindowLimiter(fake_clock, {"CLOB": 5, "POST /books": 2, "GET /book": 0})
    start = fake_clock.monotonic()
    books = limiter.keys_for("CLOB", "POST", "/books")
    assert books == ("CLOB", "POST /books")
    assert limiter.keys_for("CLOB", "GET", "/book") == ("CLOB",)  # 0 lifts a limit
    for _ in range(2):
        assert await limiter.acquire(books) == 0
    # The third POST /books waits for the first to leave its 10 s window...
    assert await limiter.acquire(books) == pytest.approx(WINDOW_S)
    assert fake_clock.monotonic() - start == pytest.approx(WINDOW_S, abs=1e-3)
    # ...while other endpoints only count against the host (5 per window).
    other = limiter.keys_for("CLOB", "GET", "/clob-markets/0x1")
    for _ in range(4):
        assert await limiter.acquire(other) == 0
    assert await limiter.acquire(other) > 0
    assert await limiter.acquire(()) == 0  # nothing limits an unlisted host


async def test_window_limiter_starts_a_window_when_the_answer_arrives(
    fake_clock: FakeClock,
) -> None:
    """The venue counts a request when it arrives, which we cannot see; its answer is the
    first moment we know came after. A request slow to be answered (queued for a
    connection slot, a slow network) must not leave our window before it can have left
    the venue's, or the next window's requests arrive while it still counts there."""
    limiter = WindowLimiter(fake_clock, {"POST /books": 1})
    books = limiter.keys_for("CLOB", "POST", "/books")
    start = fake_clock.monotonic()
    assert await limiter.admit(books) == 0
    await fake_clock.sleep(WINDOW_S + 3)  # in flight longer than a whole window
    second = asyncio.ensure_future(limiter.admit(books))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not second.done()  # still in flight: it holds its place
    answered = fake_clock.monotonic()
    limiter.done(books)
    assert await second == pytest.approx(WINDOW_S, abs=1e-3)  # from when it asked
    assert fake_clock.monotonic() == pytest.approx(answered + WINDOW_S, abs=1e-3)
    assert fake_clock.monotonic() - start == pytest.approx(WINDOW_S * 2 + 3, abs=1e-3)


async def test_paced_http_counts_gamma_and_clob_requests_against_their_own_tables(
    fake_clock: FakeClock,
) -> None:
    seen: list[tuple[float, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((fake_clock.monotonic(), request.url.path))
        return httpx.Response(200, json=[])

    http = PacedHttp(
        fake_clock,
        FeedHealth(),
        limits={"CLOB": 100, "GAMMA GET /markets": 1, "GET /markets": 100},
        hosts={"CLOB": "http://127.0.0.1:9", "GAMMA": "http://127.0.0.1:9/gamma"},
        transport=httpx.MockTransport(answer),
    )
    for _ in range(2):
        await http.get_json("http://127.0.0.1:9/gamma/markets", {"limit": "5"})
    for _ in range(3):
        await http.get_json("http://127.0.0.1:9/markets")
    await http.aclose()
    times = [t for t, _ in seen]
    assert times[1] - times[0] == pytest.approx(WINDOW_S, abs=1e-3)  # Gamma's 1 per 10 s
    assert times[4] == times[2]  # the CLOB's /markets is not Gamma's


def test_rate_limits_merge_over_the_venue_table_and_bad_keys_are_named() -> None:
    from engine.config.feed import VENUE_RATE_LIMITS

    config = FeedConfig(rate_limits={"GET /book": 10, "GAMMA": 0})
    assert config.rate_limits["GET /book"] == 10
    assert config.rate_limits["GAMMA"] == 0
    assert config.rate_limits["POST /books"] == VENUE_RATE_LIMITS["POST /books"]
    assert FeedConfig().rate_limits == VENUE_RATE_LIMITS
    assert FeedConfig().rest_rate_per_s is None  # no global cap of our own by default
    with pytest.raises(ValueError, match="'books' is not a limit key"):
        FeedConfig(rate_limits={"books": 5})
    with pytest.raises(ValueError, match="whole number of requests per 10 s"):
        FeedConfig(rate_limits={"GET /book": -1})
    with pytest.raises(ValueError, match="ws_shard_size"):
        FeedConfig(ws_shard_size=501)  # past ~500 tokens the venue stops updating


def test_every_selected_token_streams_until_the_cap_then_the_registry_ranks() -> None:
    tokens = [f"t{i:03d}" for i in range(400)]
    reg = HotAssetRegistry(HotAssetSettings())  # the defaults
    for rank, token in enumerate(tokens):
        reg.set_base(token, float(400 - rank))
    assert sorted(reg.select(0.0)) == tokens  # 200 markets' 400 tokens: all stream
    capped = HotAssetRegistry(HotAssetSettings(asset_limit=100))
    for rank, token in enumerate(tokens):
        capped.set_base(token, float(400 - rank))
    assert capped.select(0.0) == tokens[:100]  # asked for fewer: the best-ranked
    capped.remove("t000")
    assert "t000" not in capped.select(1000.0)

"""The market WebSocket's receive path against small local servers: slicing long frames,
the stale watchdog, cancels that always land, fragments, compression, failing sinks."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import msgspec
import pytest
import websockets
import websockets.asyncio.server
from websockets.asyncio.server import ServerConnection

from engine.adapters.net.ws import open_connection
from engine.adapters.polymarket.books import BookStore
from engine.adapters.polymarket.market_ws import MarketShard, MarketStream, split_frame
from engine.clock import SystemClock
from engine.market.health import FeedHealth, FeedSource

Handler = Callable[[ServerConnection], Awaitable[None]]


@asynccontextmanager
async def serve(handler: Handler, **kwargs: object) -> AsyncIterator[str]:
    async with websockets.asyncio.server.serve(handler, "127.0.0.1", 0, **kwargs) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/ws/market"


async def wait_for(cond: Callable[[], bool], within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not cond():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def stream_to(url: str, frames: list[bytes | str], **kwargs: object) -> MarketStream:
    options: dict[str, object] = {"reconnect_base_s": 0.01, "reconnect_cap_s": 0.02} | kwargs
    return MarketStream(
        url,
        SystemClock(),
        FeedHealth(),
        lambda raw, ts, src: frames.append(raw),
        **options,  # type: ignore[arg-type]
    )


def price_changes(n: int, asset: str = "1", start_ts: int = 1000) -> list[dict[str, object]]:
    """A book's worth of level changes (sizes vary so every event matters)."""
    return [
        {
            "event_type": "price_change",
            "market": "0xm",
            "timestamp": str(start_ts + i),
            "price_changes": [
                {
                    "asset_id": asset,
                    "price": f"0.{10 + i % 40}",
                    "size": str(i % 7 * 10),
                    "side": "BUY" if i % 40 < 20 else "SELL",
                    "hash": f"h{i}",
                }
            ],
        }
        for i in range(n)
    ]


# -- slicing ------------------------------------------------------------------------------


def test_split_frame_regroups_whole_events_in_order() -> None:
    events = price_changes(300)
    payload = msgspec.json.encode(events)
    parts = split_frame(payload, 4096)
    assert len(parts) > 5
    assert all(len(p) < 4096 + 400 for p in parts)  # a slice closes once it passes the size
    rebuilt = [e for p in parts for e in json.loads(p)]
    assert rebuilt == events
    single = msgspec.json.encode(events[0])
    assert split_frame(single, 10) == [single]  # one object cannot be split
    assert split_frame(b"[{not json", 10) == [b"[{not json"]  # the book store reports it
    assert split_frame(b"[]", 10) == [b"[]"]


async def test_a_long_frame_is_applied_in_slices_that_yield_and_books_do_not_change() -> None:
    snapshot = {
        "event_type": "book",
        "asset_id": "1",
        "market": "0xm",
        "timestamp": "999",
        "bids": [{"price": "0.1", "size": "5"}],
        "asks": [{"price": "0.9", "size": "5"}],
    }
    events = price_changes(3000)
    long_frame = msgspec.json.encode(events)
    tail = msgspec.json.encode(price_changes(1, start_ts=9000)[0])

    async def send_all(conn: ServerConnection) -> None:
        await conn.recv()  # the subscription
        await conn.send(json.dumps(snapshot))
        await conn.send(long_frame)
        await conn.send(tail)  # behind the long frame: must not overtake it
        await conn.wait_closed()

    frames: list[bytes | str] = []
    turns = 0
    turn_at: list[int] = []

    async def ticker() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    async with serve(send_all) as url:
        stream = stream_to(url, frames, slice_bytes=8192)
        original = stream.on_frame
        stream.on_frame = lambda raw, ts, src: (turn_at.append(turns), original(raw, ts, src))
        await stream.update_assets(["1"])
        tick = asyncio.create_task(ticker())
        task = asyncio.create_task(stream.run())
        try:
            await wait_for(lambda: bool(frames) and frames[-1] == tail)
        finally:
            task.cancel()
            tick.cancel()
            await asyncio.gather(task, tick, return_exceptions=True)
    slices = frames[1:-1]
    assert len(slices) > 10
    assert stream.health.ws_sliced_frames == 1
    # Other work ran between slices: the loop never blocked for the whole frame.
    assert len(set(turn_at[1:-1])) == len(slices)
    sliced, whole = BookStore(), BookStore()
    for frame in frames:
        sliced.apply_frame(frame)
    for frame in (json.dumps(snapshot), long_frame, tail):
        whole.apply_frame(frame)
    ours, theirs = sliced.books["1"], whole.books["1"]
    assert (ours.bid_sizes, ours.ask_sizes, ours.hash, ours.timestamp_ms) == (
        theirs.bid_sizes,
        theirs.ask_sizes,
        theirs.hash,
        theirs.timestamp_ms,
    )
    assert sliced.counts["price_change"] == whole.counts["price_change"] == 3001
    assert sliced.problems == whole.problems


# -- the watchdog and cancels ---------------------------------------------------------------


async def test_every_message_pushes_the_stale_deadline() -> None:
    connections = 0

    async def trickle(conn: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        with contextlib.suppress(websockets.ConnectionClosed):
            await conn.recv()
            if connections == 1:  # a reconnect gets silence only
                for n in range(8):
                    await asyncio.sleep(0.1)
                    await conn.send(json.dumps({"n": n}))
            await conn.wait_closed()  # then silence

    frames: list[bytes | str] = []
    async with serve(trickle) as url:
        stream = stream_to(url, frames, stale_after_s=0.5, ping_interval_s=10)
        await stream.update_assets(["1"])
        task = asyncio.create_task(stream.run())
        try:
            await wait_for(lambda: stream.health.source is FeedSource.WS_STALE)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    # 800 ms of traffic, never 500 ms apart: stale only once the trickle stopped.
    assert len(frames) == 8
    assert stream.health.fallback_reason == "no WS message for 0.5s"


async def test_pings_keep_a_quiet_stream_live() -> None:
    pings = 0

    async def pong(conn: ServerConnection) -> None:
        nonlocal pings
        with contextlib.suppress(websockets.ConnectionClosed):
            await conn.recv()
            await conn.send("[]")
            async for message in conn:
                if message == "PING":
                    pings += 1
                    await conn.send("PONG")

    frames: list[bytes | str] = []
    async with serve(pong) as url:
        stream = stream_to(url, frames, stale_after_s=0.6, ping_interval_s=0.1)
        await stream.update_assets(["1"])
        task = asyncio.create_task(stream.run())
        try:
            # Three stale windows' worth of quiet, with only PONGs coming back.
            await wait_for(lambda: pings >= 18)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert stream.health.source is FeedSource.WS_LIVE  # PONGs count as life
    assert frames == [b"[]"]  # and are never handed on as data
    assert stream.health.ws_reconnects == 0


async def test_a_cancel_while_the_watchdog_winds_down_stops_the_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def subscribe_then_close(conn: ServerConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            await conn.recv()
            await conn.close()

    winding_down = asyncio.Event()

    async def slow_to_stop(self: MarketShard, conn: object) -> None:
        try:
            await asyncio.Event().wait()
        finally:  # like a PING send in flight when the session ends
            winding_down.set()
            await asyncio.sleep(0.2)

    monkeypatch.setattr(MarketShard, "_watchdog", slow_to_stop)
    async with serve(subscribe_then_close) as url:
        stream = stream_to(url, [])
        await stream.update_assets(["1"])
        task = asyncio.create_task(stream.run())
        await winding_down.wait()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2)
        assert task in done, "the cancel was swallowed: the socket reconnects instead"
        assert task.cancelled()
        await asyncio.sleep(0.25)  # let the watchdog finish winding down


async def test_a_cancel_at_any_moment_of_a_busy_stream_lands() -> None:
    async def firehose(conn: ServerConnection) -> None:
        await conn.recv()
        body = json.dumps(price_changes(5))
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await conn.send(body)
                await asyncio.sleep(0)

    async with serve(firehose) as url:
        for attempt in range(30):
            frames: list[bytes | str] = []
            stream = stream_to(url, frames)
            await stream.update_assets(["1"])
            task = asyncio.create_task(stream.run())
            enough = attempt % 7
            await wait_for(lambda frames=frames, enough=enough: len(frames) > enough)  # type: ignore[misc]
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=2)
            assert task in done, f"cancel #{attempt} was lost after {len(frames)} frames"
            assert task.cancelled()


async def test_a_sink_that_raises_fails_the_stream_instead_of_reconnecting() -> None:
    async def one_frame(conn: ServerConnection) -> None:
        await conn.recv()
        await conn.send('{"event_type": "book"}')
        await conn.wait_closed()

    def broken(raw: bytes | str, ts: float, source: str) -> None:
        raise RuntimeError("a bug in the engine")

    async with serve(one_frame) as url:
        stream = MarketStream(url, SystemClock(), FeedHealth(), broken)
        await stream.update_assets(["1"])
        with pytest.raises(ExceptionGroup) as info:
            async with asyncio.timeout(5):
                await stream.run()
    assert info.group_contains(RuntimeError, match="a bug in the engine")
    assert stream.health.ws_reconnects == 0


# -- framing and compression ----------------------------------------------------------------


async def test_fragmented_messages_are_reassembled() -> None:
    async def fragments(conn: ServerConnection) -> None:
        await conn.recv()
        await conn.send(['{"event_type": ', '"book", "asset_id": ', '"1"}'])
        await conn.send('{"event_type": "book", "asset_id": "2"}')
        await conn.wait_closed()

    frames: list[bytes | str] = []
    async with serve(fragments) as url:
        stream = stream_to(url, frames)
        await stream.update_assets(["1", "2"])
        task = asyncio.create_task(stream.run())
        try:
            await wait_for(lambda: len(frames) == 2)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert [json.loads(f)["asset_id"] for f in frames] == ["1", "2"]


async def test_deflate_only_when_asked_and_never_on_loopback() -> None:
    offered: list[str | None] = []

    async def note(conn: ServerConnection) -> None:
        assert conn.request is not None
        offered.append(conn.request.headers.get("Sec-WebSocket-Extensions"))
        await conn.send("hello")
        await conn.wait_closed()

    got: list[bytes] = []
    async with serve(note) as url:
        for n, compression in enumerate((False, True)):
            conn = await open_connection(
                url, lambda p, last: got.append(p), compression=compression
            )
            await wait_for(lambda n=n: len(got) > n)  # type: ignore[misc]
            await conn.aclose()
    assert offered[0] is None
    assert "permessage-deflate" in (offered[1] or "")
    assert got == [b"hello", b"hello"]
    assert not stream_to(url, [], compression=True).compression  # loopback: never
    venue = "wss://ws-subscriptions-clob.polymarket.com/ws/market"
    assert stream_to(venue, [], compression=True).compression
    assert not stream_to(venue, []).compression  # off unless asked (feed.ws_compression)


async def test_subscriptions_carry_custom_features_and_change_live() -> None:
    received: list[dict[str, object]] = []

    async def record(conn: ServerConnection) -> None:
        async for message in conn:
            if message != "PING":
                received.append(json.loads(message))

    async with serve(record) as url:
        stream = stream_to(url, [], shard_size=3)
        await stream.update_assets(["a", "b", "c", "d"])
        assert [list(s.assets) for s in stream.shards] == [["a", "b", "c"], ["d"]]
        task = asyncio.create_task(stream.run())
        try:
            await wait_for(lambda: len(received) == 2)
            assert sorted(map(str, (r["assets_ids"] for r in received))) == [
                "['a', 'b', 'c']",
                "['d']",
            ]
            assert all(r["type"] == "market" and r["custom_feature_enabled"] for r in received)
            await wait_for(lambda: all(s.connected for s in stream.shards))
            await stream.update_assets(["a", "c", "d", "e", "f"])
            await wait_for(lambda: len(received) == 5)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    # b left the first shard, which had room for e then; f joined d on the second.
    ops = sorted((str(r["operation"]), str(r["assets_ids"])) for r in received[2:])
    assert ops == [("subscribe", "['e']"), ("subscribe", "['f']"), ("unsubscribe", "['b']")]
    assert all(r["custom_feature_enabled"] for r in received[2:])
    assert [sorted(s.assets) for s in stream.shards] == [["a", "c", "e"], ["d", "f"]]
    assert stream.health.subscribed_assets == 5

"""Tapes: raw frames with their receive times, as JSON lines (zstd when named .zst).

A tape line is ``{"t": unix_seconds, "src": "ws" | "rest", "frame": "<raw text>"}``; a
``{"t": ..., "src": "markets", "markets": [...]}`` line tells a replay which markets it
is looking at. :class:`TapeFeed` replays a tape through the same sink interface as the
live feed, so books are rebuilt by exactly the same code.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import msgspec

from engine.clock import Clock
from engine.market.health import FeedHealth, FeedSource
from engine.market.markets import MarketInfo, market_from_json, market_to_json
from engine.ports import MarketDataSink

_encoder = msgspec.json.Encoder()


class TapeError(ValueError):
    """A tape or message file cannot be read; the message names the line and the fix."""


class TapeRecord(msgspec.Struct, frozen=True):
    t: float
    src: str
    frame: str | None = None
    markets: list[dict[str, Any]] | None = None


def _open_write(path: Path) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".zst":
        import zstandard

        return zstandard.ZstdCompressor(level=6).stream_writer(path.open("wb"), closefd=True)
    return path.open("wb")


def _open_read(path: Path) -> IO[bytes]:
    if path.suffix == ".zst":
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(path.open("rb"), closefd=True)
    return path.open("rb")


class TapeWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = _open_write(path)
        self.frames = 0

    def write_markets(self, markets: Sequence[MarketInfo], t: float) -> None:
        self._write(TapeRecord(t, "markets", markets=[market_to_json(m) for m in markets]))

    def write_frame(self, raw: bytes | str, t: float, src: str) -> None:
        text = raw.decode() if isinstance(raw, bytes) else raw
        self._write(TapeRecord(t, src, frame=text))
        self.frames += 1

    def _write(self, record: TapeRecord) -> None:
        self._fh.write(_encoder.encode(record) + b"\n")

    def close(self) -> None:
        self._fh.close()


class RecordingSink:
    """Writes everything a feed delivers to a tape, then passes it on (if anywhere)."""

    def __init__(self, writer: TapeWriter, inner: MarketDataSink | None = None) -> None:
        self.writer = writer
        self.inner = inner
        self.markets: list[MarketInfo] = []

    def on_markets(self, markets: Sequence[MarketInfo]) -> None:
        self.markets = list(markets)
        self.writer.write_markets(markets, time.time())
        if self.inner is not None:
            self.inner.on_markets(markets)

    def on_frame(self, raw: bytes | str, recv_ts: float, source: str) -> None:
        self.writer.write_frame(raw, recv_ts, source)
        if self.inner is not None:
            self.inner.on_frame(raw, recv_ts, source)


def read_tape(path: Path) -> Iterator[TapeRecord]:
    decoder = msgspec.json.Decoder(TapeRecord)
    with _open_read(path) as raw_fh:
        text = io.TextIOWrapper(raw_fh, encoding="utf-8")
        for number, line in enumerate(text, 1):
            if not line.strip():
                continue
            try:
                yield decoder.decode(line)
            except msgspec.DecodeError as exc:
                raise TapeError(f"{path}:{number}: not a tape record ({exc})") from exc


def read_frames(path: Path) -> Iterator[str | bytes]:
    """Frames from a tape, a JSONL file of messages, or a JSON file (object or list).

    Used by ``polyterm book``: anything that holds recorded market messages works.
    """
    if not path.is_file():
        raise TapeError(f"{path}: no such file (pass a tape, .jsonl or .json of market messages)")
    if path.suffix == ".zst":
        for record in read_tape(path):
            if record.frame is not None:
                yield record.frame
        return
    data = path.read_bytes()
    stripped = data.lstrip()
    if not stripped:
        return
    if path.suffix == ".json" or stripped[:1] == b"[":
        try:
            json.loads(data)
        except ValueError:
            pass  # not one JSON document: fall through to lines
        else:
            yield data
            return
    for number, line in enumerate(data.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise TapeError(f"{path}:{number}: not JSON ({exc.args[0]})") from exc
        if isinstance(obj, dict) and "src" in obj and "t" in obj:
            if obj.get("frame") is not None:
                yield obj["frame"]
        else:
            yield line


class TapeFeed:
    """Replays a tape into a sink, paced by its receive times (speed 0 = flat out)."""

    def __init__(self, path: Path, clock: Clock, speed: float = 1.0) -> None:
        self.path = path
        self.clock = clock
        self.speed = speed
        self.health = FeedHealth()
        self.health.set_source(FeedSource.REPLAY, clock.monotonic())
        self.frames = 0

    def want_snapshot(self, asset_ids: Iterable[str]) -> None:
        """A tape cannot be asked again; the gap stays flagged until the next book."""

    def hit(self, asset_id: str) -> None:
        """Subscriptions are fixed by what was recorded."""

    async def run(self, sink: MarketDataSink) -> None:
        first_t: float | None = None
        started = self.clock.monotonic()
        for record in read_tape(self.path):
            if first_t is None:
                first_t = record.t
            if self.speed > 0:
                due = started + (record.t - first_t) / self.speed
                delay = due - self.clock.monotonic()
                if delay > 0:
                    await self.clock.sleep(delay)
            if record.markets is not None:
                sink.on_markets([market_from_json(m) for m in record.markets])
            elif record.frame is not None:
                self.frames += 1
                self.health.ws_messages += 1
                self.health.last_ws_message = self.clock.monotonic()
                sink.on_frame(record.frame, record.t, record.src)

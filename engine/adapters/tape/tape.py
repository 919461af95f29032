"""Tapes: raw frames with their receive times, as JSON lines (zstd when named .zst).

A tape line is ``{"t": unix_seconds, "src": "ws" | "rest", "frame": "<raw text>"}``; a
``{"t": ..., "src": "markets", "markets": [...]}`` line tells a replay which markets it
is looking at. :class:`TapeFeed` replays a tape through the same sink interface as the
live feed, so books are rebuilt by exactly the same code.

A tape cut short (a recorder killed mid-write) is not an empty tape: readers deliver
every whole record before the cut, then raise :class:`TapeTruncated` saying where.
"""

from __future__ import annotations

import json
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


class TapeTruncated(TapeError):
    """The tape ends part-way through (a recording cut short); raised after every frame
    before the cut was delivered, so a reader can keep what it got and warn."""

    def __init__(self, path: Path, offset: int, frames: int) -> None:
        super().__init__(
            f"{path}: truncated at byte {offset} after {frames} frames "
            "(the recording was cut short; the frames before it replayed)"
        )
        self.path = path
        self.offset = offset
        self.frames = frames


class TapeRecord(msgspec.Struct, frozen=True):
    t: float
    src: str
    frame: str | None = None
    markets: list[dict[str, Any]] | None = None


_CHUNK = 1 << 16


def _open_write(path: Path) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".zst":
        import zstandard

        # The content checksum lets a reader tell a damaged tape from a good one.
        compressor = zstandard.ZstdCompressor(level=6, write_checksum=True)
        return compressor.stream_writer(path.open("wb"), closefd=True)
    return path.open("wb")


class TapeWriter:
    """Appends tape lines; :meth:`close` ends the zstd frame, so close it on every path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = _open_write(path)
        self._closed = False
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
        """Flush and end the tape (a complete zstd frame); a second call does nothing."""
        if self._closed:
            return
        self._closed = True
        self._fh.close()


class RecordingSink:
    """Writes everything a feed delivers to a tape, then passes it on (if anywhere)."""

    def __init__(
        self, writer: TapeWriter, clock: Clock, inner: MarketDataSink | None = None
    ) -> None:
        self.writer = writer
        self.clock = clock
        self.inner = inner
        self.markets: list[MarketInfo] = []

    def on_markets(self, markets: Sequence[MarketInfo]) -> None:
        self.markets = list(markets)
        self.writer.write_markets(markets, self.clock.time())
        if self.inner is not None:
            self.inner.on_markets(markets)

    def on_frame(self, raw: bytes | str, recv_ts: float, source: str) -> None:
        self.writer.write_frame(raw, recv_ts, source)
        if self.inner is not None:
            self.inner.on_frame(raw, recv_ts, source)


class _Cut(Exception):
    """Internal: the bytes end part-way through (zstd frame or last line) at `offset`."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


class _Corrupt(Exception):
    """Internal: undecodable zstd data at about `offset` (0: not zstd at all)."""

    def __init__(self, offset: int, detail: str) -> None:
        super().__init__(offset, detail)
        self.offset = offset
        self.detail = detail


def _read_chunks(path: Path, fh: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := fh.read(_CHUNK):
            yield chunk
    except OSError as exc:
        raise TapeError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def _zstd_chunks(path: Path, fh: IO[bytes]) -> Iterator[bytes]:
    """Decompressed bytes of every zstd frame in `fh`; :class:`_Cut` if the last is short.

    ``ZstdDecompressor.stream_reader`` simply stops at a cut frame, so a truncated tape
    looked empty or short with no sign of it; a ``decompressobj`` says whether its frame
    reached its end (``eof``). Concatenated frames are read one after the other.
    """
    import zstandard

    dctx = zstandard.ZstdDecompressor()
    obj = dctx.decompressobj()
    offset = 0  # compressed bytes fed so far
    fed = False  # `obj` has been given input
    for chunk in _read_chunks(path, fh):
        pending = chunk
        while pending:
            if obj.eof:
                obj = dctx.decompressobj()
            try:
                out = obj.decompress(pending)
            except zstandard.ZstdError as exc:
                raise _Corrupt(offset, str(exc)) from exc
            fed = True
            if out:
                yield out
            pending = obj.unused_data if obj.eof else b""
        offset += len(chunk)
    if not (fed and obj.eof):
        raise _Cut(offset)


def _lines(path: Path) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, line, is the unterminated last line) for a tape, plain or zstd.

    Raises :class:`_Cut` after the last whole line of a cut zstd stream (its partial last
    line is dropped) and :class:`_Corrupt` for bytes that are not zstd.
    """
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise TapeError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    with fh:
        chunks = _zstd_chunks(path, fh) if path.suffix == ".zst" else _read_chunks(path, fh)
        number = 0
        tail = b""
        for chunk in chunks:
            parts = chunk.split(b"\n")
            if tail:
                parts[0] = tail + parts[0]
            tail = parts.pop()
            for line in parts:
                number += 1
                yield number, line, False
        if tail:
            yield number + 1, tail, True


def read_tape(path: Path) -> Iterator[TapeRecord]:
    """The records of a tape, in order (a generator: a replay starts at once).

    Raises :class:`TapeTruncated` after the last whole record of a tape that was cut short,
    and :class:`TapeError` naming ``FILE:LINE`` for a line that is not a tape record or a
    ``.zst`` file that is not zstd.
    """
    decoder = msgspec.json.Decoder(TapeRecord)
    frames = 0
    try:
        for number, line, last in _lines(path):
            if not line.strip():
                continue
            try:
                record = decoder.decode(line)
            except msgspec.DecodeError as exc:
                if last:  # an unterminated, unreadable last line: the writer was cut off
                    raise _Cut(path.stat().st_size) from None
                raise TapeError(f"{path}:{number}: {_not_a_record(line, exc)}") from exc
            if record.frame is not None:
                frames += 1
            yield record
    except _Cut as cut:
        raise TapeTruncated(path, cut.offset, frames) from None
    except _Corrupt as bad:
        raise _zstd_error(path, bad, frames) from None


def _not_a_record(line: bytes, exc: msgspec.DecodeError) -> str:
    try:
        obj = json.loads(line)
    except ValueError:
        obj = None
    if isinstance(obj, dict) and obj.get("frame") is not None:
        frame = obj["frame"]
        if not isinstance(frame, str):
            return _frame_not_a_string(frame)
    return (
        f"not a tape record ({exc}); each line is "
        '{"t": unix_seconds, "src": "ws"|"rest", "frame": "<raw message text>"}'
    )


def _frame_not_a_string(frame: object) -> str:
    return f'"frame" must be a string (the raw message text), not {_json_kind(frame)}'


def _zstd_error(path: Path, bad: _Corrupt, frames: int) -> TapeError:
    if bad.offset == 0 and frames == 0:
        return TapeError(
            f"{path}: not a zstd file ({bad.detail}); a .zst tape is what `polyterm record` "
            "writes, a plain tape is named .jsonl"
        )
    return TapeError(
        f"{path}: corrupt zstd data after byte {bad.offset} and {frames} frames "
        f"({bad.detail}); the frames before it replayed"
    )


def read_frames(path: Path) -> Iterator[str | bytes]:
    """Frames from a tape, a JSONL file of messages, or a JSON file (object or list).

    Used by ``polyterm book``: anything that holds recorded market messages works. Like
    :func:`read_tape` it raises :class:`TapeTruncated` after the frames before a cut, and
    :class:`TapeError` naming ``FILE:LINE`` for what cannot be a frame.
    """
    if not path.is_file():
        raise TapeError(f"{path}: no such file (pass a tape, .jsonl or .json of market messages)")
    if path.suffix == ".zst":
        for record in read_tape(path):
            if record.frame is not None:
                yield record.frame
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TapeError(f"{path}: cannot read ({exc.strerror or exc})") from exc
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
    frames = 0
    lines = data.split(b"\n")
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            if number == len(lines):  # the unterminated last line: the writer was cut off
                raise TapeTruncated(path, len(data), frames) from exc
            raise TapeError(f"{path}:{number}: not JSON ({exc.args[0]})") from exc
        if isinstance(obj, dict) and "src" in obj and "t" in obj:
            frame = obj.get("frame")
            if frame is None:
                continue
            if not isinstance(frame, str):
                raise TapeError(f"{path}:{number}: {_frame_not_a_string(frame)}")
            frames += 1
            yield frame
        else:
            frames += 1
            yield line


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


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

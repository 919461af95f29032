"""Tapes: raw frames with their receive times, as JSON lines (zstd when named .zst).

Version 2 (what :class:`TapeWriter` writes) opens with ``{"t": T, "src": "tape",
"version": 2}`` and stores each frame as the JSON value it is: ``{"t": unix_seconds,
"src": "ws" | "rest", "frame": <the frame's JSON>}`` (one line: any line break between
its tokens is written as a space). A frame that is not a JSON object or list (not JSON,
not UTF-8, a bare string) is stored as a JSON string of its text. Version 1 (no header
line) stores every frame as a JSON string of its text; it is still read, as fast as
before. A ``{"t": ..., "src": "markets", "markets": [...]}`` line tells a replay which
markets it is looking at. :class:`TapeFeed` replays a tape through the same sink
interface as the live feed, so books are rebuilt by exactly the same code.

Reading is chunked (a megabyte at a time) and a line longer than a chunk is gathered in
pieces and joined once, so a 100 MB frame costs one copy, not one per chunk.

A tape cut short (a recorder killed mid-write) is not an empty tape: readers deliver
every whole record before the cut, then raise :class:`TapeTruncated` saying where.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import msgspec

from engine.adapters.polymarket.wire.market import NewMarketEvent
from engine.clock import Clock
from engine.files import open_private
from engine.market.health import FeedHealth, FeedSource
from engine.market.markets import MarketInfo, market_from_json, market_to_json
from engine.ports import MarketDataSink

_encoder = msgspec.json.Encoder()


class TapeError(ValueError):
    """A tape or message file cannot be read; the message names the line and the fix.

    Not ``fatal`` when it is about one frame (a replay counts it as a bad frame and
    goes on, as the live engine does)."""

    fatal = False


class TapeTruncated(TapeError):
    """The tape ends part-way through (a recording cut short); raised after every frame
    before the cut was delivered, so a reader can keep what it got and warn."""

    fatal = True

    def __init__(self, path: Path, offset: int, frames: int) -> None:
        super().__init__(
            f"{path}: truncated at byte {offset} after {frames} frames "
            "(the recording was cut short; the frames before it replayed)"
        )
        self.path = path
        self.offset = offset
        self.frames = frames


@dataclass(frozen=True, slots=True)
class TapeRecord:
    """One tape line: a frame (its text, or its JSON bytes from a version-2 tape) or the
    markets a replay looks at."""

    t: float
    src: str
    frame: str | bytes | None = None
    markets: list[dict[str, Any]] | None = None


class _Line(msgspec.Struct, frozen=True, omit_defaults=True):
    """A tape line as decoded (version 1's frame is a string; the header has `version`)."""

    t: float
    src: str
    frame: str | None = None
    markets: list[dict[str, Any]] | None = None
    version: int | None = None


class _RawLine(msgspec.Struct, frozen=True):
    """A version-2 frame line in any spelling (the writer's own is read without this)."""

    t: float
    src: str
    frame: msgspec.Raw = msgspec.Raw(b"null")


VERSION = 2
HEADER_SRC = "tape"
_CHUNK = 1 << 20
_ZSTD_CHUNK = 1 << 16
_LINE_DECODER = msgspec.json.Decoder(_Line)
_RAW_DECODER = msgspec.json.Decoder(_RawLine)
_STR_DECODER = msgspec.json.Decoder(str)
_FRAME_AT = b',"frame":'
_SOURCES = {b"ws": "ws", b"rest": "rest"}


def _raw_frame(line: bytes) -> tuple[float, str, bytes] | None:
    """(t, src, frame JSON) of a frame line exactly as the writer spells it, read without
    a parse (the frame's own decoder reads it next); None for any other line."""
    if not line.startswith(b'{"t":') or line[-1:] != b"}":
        return None
    comma = line.find(b',"src":"', 5)
    end = line.find(b'"' + _FRAME_AT, comma + 8) if comma > 0 else -1
    if end < 0:
        return None
    src = _SOURCES.get(line[comma + 8 : end])
    start = end + 10
    if src is None or line[start : start + 1] in (b'"', b"n", b""):
        return None  # another source, a string frame or none: the decoder's
    try:
        t = float(line[5:comma])
    except ValueError:
        return None
    return t, src, line[start:-1]


def _v2_record(line: bytes) -> TapeRecord | None:
    """A version-2 frame line in another spelling (spaces, field order); None if it is
    not one."""
    try:
        raw = _RAW_DECODER.decode(line)
    except (msgspec.DecodeError, RecursionError):
        return None
    value = bytes(raw.frame)
    if value == b"null":
        return TapeRecord(raw.t, raw.src)
    if value[:1] == b'"':
        return TapeRecord(raw.t, raw.src, _STR_DECODER.decode(value))
    return TapeRecord(raw.t, raw.src, value)


def frame_json(raw: bytes | str) -> bytes | None:
    """A frame as a version-2 tape stores it raw: its JSON object or list on one line;
    None when it must be stored as a string (not JSON, not UTF-8, not an object/list)."""
    data = raw.encode() if isinstance(raw, str) else raw
    try:
        if isinstance(raw, bytes):
            data.decode()  # the line must be UTF-8 (msgspec does not check inside strings)
        value = bytes(msgspec.json.decode(data, type=msgspec.Raw))
    except (UnicodeDecodeError, msgspec.DecodeError, RecursionError):
        return None
    if value[:1] not in (b"{", b"["):
        return None
    # A line break in valid JSON is whitespace between tokens (never inside a string).
    return value.replace(b"\n", b" ").replace(b"\r", b" ")


def _open_write(path: Path) -> IO[bytes]:
    raw = cast(IO[bytes], open_private(path, "wb"))  # 0600 in a 0700 directory
    if path.suffix == ".zst":
        import zstandard

        # The content checksum lets a reader tell a damaged tape from a good one.
        compressor = zstandard.ZstdCompressor(level=6, write_checksum=True)
        return compressor.stream_writer(raw, closefd=True)
    return raw


class TapeWriter:
    """Appends tape lines (version 2); :meth:`close` ends the zstd frame, so close it on
    every path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = _open_write(path)
        self._closed = False
        self._headed = False
        self.frames = 0

    def write_markets(self, markets: Sequence[MarketInfo], t: float) -> None:
        self._head(t)
        line = _Line(t, "markets", markets=[market_to_json(m) for m in markets])
        self._fh.write(_encoder.encode(line) + b"\n")

    def write_frame(self, raw: bytes | str, t: float, src: str) -> None:
        self._head(t)
        value = frame_json(raw)
        head = b'{"t":' + _encoder.encode(t) + b',"src":' + _encoder.encode(src)
        if value is None:  # stored as its text, as version 1 does
            text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
            self._fh.write(head + _FRAME_AT + _encoder.encode(text) + b"}\n")
        else:
            self._fh.write(head + _FRAME_AT + value + b"}\n")
        self.frames += 1

    def _head(self, t: float) -> None:
        if not self._headed:
            self._headed = True
            self._fh.write(_encoder.encode(_Line(t, HEADER_SRC, version=VERSION)) + b"\n")

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


def _read_chunks(path: Path, fh: IO[bytes], size: int = _CHUNK) -> Iterator[bytes]:
    try:
        while chunk := fh.read(size):
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
    # Compressed input in small steps: damage is then found after the frames before it.
    for chunk in _read_chunks(path, fh, _ZSTD_CHUNK):
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
    number = 0
    last: bytes | None = None
    for lines, tail in _batches(path):
        for line in lines:
            number += 1
            yield number, line, False
        last = tail
    if last:
        yield number + 1, last, True


def _batches(path: Path) -> Iterator[tuple[list[bytes], bytes | None]]:
    """The tape's whole lines a chunk at a time (no generator step per line), with the
    unterminated rest after the last chunk. A line longer than a chunk is kept in pieces
    and joined once when its end comes (no copy of the growing line per chunk)."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise TapeError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    with fh:
        chunks = _zstd_chunks(path, fh) if path.suffix == ".zst" else _read_chunks(path, fh)
        pieces: list[bytes] = []  # the line under way, when a chunk held no line end
        for chunk in chunks:
            if pieces:
                end = chunk.find(b"\n")
                if end < 0:
                    pieces.append(chunk)
                    continue
                pieces.append(chunk[:end])
                lines = [b"".join(pieces)]
                pieces = []
                rest = chunk[end + 1 :].split(b"\n")
            else:
                lines = []
                rest = chunk.split(b"\n")
            tail = rest.pop()
            if lines:
                lines.extend(rest)
            else:
                lines = rest
            if tail:
                pieces.append(tail)
            yield lines, None
        yield [], b"".join(pieces) if pieces else None


def read_tape(path: Path) -> Iterator[TapeRecord]:
    """The records of a tape, in order (a generator: a replay starts at once).

    A line that is no tape record (not JSON, a version-1 frame that is not a string,
    nested too deep) comes out as a frame holding the line itself, at the time of the
    record before it: whoever decodes it counts it as a bad frame and the replay goes
    on, as the live engine does with a hostile message. Raises :class:`TapeTruncated`
    after the last whole record of a tape that was cut short, and :class:`TapeError` for
    a ``.zst`` file that is not zstd.
    """
    decode = _LINE_DECODER.decode
    raw_frame = _raw_frame
    frames = 0
    t = 0.0
    version = 1
    try:
        for lines, tail in _batches(path):
            if tail is not None:  # the unterminated last line, if any
                lines = [tail]
            for line in lines:
                if version == 2 and tail is None:
                    fast = raw_frame(line)
                    if fast is not None:  # the writer's own frame line: no parse here
                        t = fast[0]
                        frames += 1
                        yield TapeRecord(t, fast[1], fast[2])
                        continue
                if not line.strip():
                    continue
                try:
                    decoded = decode(line)
                except (msgspec.DecodeError, RecursionError):
                    record = _v2_record(line) if version == 2 else None
                    if record is None:
                        if tail is not None:  # unreadable and unterminated: the writer was cut off
                            raise _Cut(path.stat().st_size) from None
                        record = TapeRecord(t, "ws", line.decode("utf-8", "replace"))
                else:
                    if decoded.src == HEADER_SRC:
                        version = decoded.version or 1
                        continue
                    record = TapeRecord(decoded.t, decoded.src, decoded.frame, decoded.markets)
                t = record.t
                if record.frame is not None:
                    frames += 1
                yield record
    except _Cut as cut:
        raise TapeTruncated(path, cut.offset, frames) from None
    except _Corrupt as bad:
        raise _zstd_error(path, bad, frames) from None


def check_tape(path: Path) -> None:
    """Refuse, with one line, a file no replay could use: missing, empty, holding no
    frame, or whose first line is no tape record (some other file given as a tape). Reads
    only as far as its first frame."""
    if not path.is_file():
        raise TapeError(f"{path}: no such file (record one with `polyterm record`)")
    try:
        for number, line, _ in _lines(path):
            if not line.strip():
                continue
            try:
                _LINE_DECODER.decode(line)
            except (msgspec.DecodeError, RecursionError):
                if _v2_record(line) is None:
                    raise TapeError(
                        f"{path}:{number}: not a tape (its first line is no tape record, "
                        '{"t": unix_seconds, "src": ..., "frame": ...}); record one with '
                        "`polyterm record`"
                    ) from None
            break
        for record in read_tape(path):
            if record.frame is not None:
                return
    except (_Cut, _Corrupt, TapeTruncated):
        pass  # no whole frame before it: said below
    raise TapeError(f"{path}: no frames (an empty recording?); record one with `polyterm record`")


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

    See :class:`FrameReader`: message lines are handed on unparsed, so whoever decodes
    them says when one is not JSON (``reader.bad_frame``). Raises :class:`TapeTruncated`
    after the frames before a cut, and :class:`TapeError` naming ``FILE:LINE`` for a tape
    record that cannot hold a frame.
    """
    return iter(FrameReader(path))


_OPENERS = (ord("{"), ord("["))
_CLOSERS = (ord("}"), ord("]"))
_RECORD_STARTS = (b'{"t"', b'{"src"', b'{ "t"', b'{ "src"')


class FrameReader:
    """The frames of a tape, a JSONL file of messages, or a JSON file (object or list).

    Used by ``polyterm book``: anything that holds recorded market messages works. Each
    frame is parsed once, by its consumer: a message line is yielded as the bytes it is
    (never sniffed with a JSON parse), a tape line is decoded as a record and its frame
    text yielded. A consumer whose decoder finds a frame is not JSON raises
    :meth:`bad_frame`, which names ``FILE:LINE`` (or the cut, for an unterminated last
    line: the recorder was killed mid-write).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.line = 0  # the line of the frame last yielded (0: the whole file)
        self.frames = 0
        self._last_line = -1  # the unterminated last line, if any
        self._size = 0
        self._split: list[bytes] | None = None  # the lines, when frames come as a list
        self._listed: list[bytes] = []
        # What a tape says it recorded (its "markets" lines), learnt as frames are read.
        self.markets: dict[str, MarketInfo] = {}

    def _learn(self, markets: list[dict[str, Any]]) -> None:
        for obj in markets:
            try:
                market = market_from_json(obj)
            except (KeyError, TypeError, ValueError):
                continue  # metadata is for titles only: a bad entry costs its title
            self.markets[market.condition_id] = market

    def bad_frame(self, detail: str, frame: bytes | str | None = None) -> TapeError:
        """What is wrong with `frame` (default: the frame last yielded), which its
        consumer could not parse, naming ``FILE:LINE``: a bad frame to count, or, for an
        unterminated last line, the cut (:class:`TapeTruncated`, ``fatal``)."""
        line, before = self.line, self.frames - 1
        if self._split is not None and frame is not None:
            line, before = self._locate(frame)
        if line == self._last_line:
            return TapeTruncated(self.path, self._size, before)
        where = f"{self.path}:{line}" if line else str(self.path)
        return TapeError(f"{where}: not JSON ({detail})")

    def _locate(self, frame: bytes | str) -> tuple[int, int]:
        """(line number, frames before it) of a listed frame; only on the error path."""
        assert self._split is not None
        index = next((i for i, f in enumerate(self._listed) if f is frame), -1)
        seen = 0
        for number, line in enumerate(self._split, 1):
            if line.strip():
                if seen == index:
                    return number, index
                seen += 1
        return 0, index

    def __iter__(self) -> Iterator[str | bytes]:
        # Not a generator itself: the generator it returns is the one a consumer resumes
        # per frame (no `yield from` layer on the replay path).
        path = self.path
        if not path.is_file():
            raise TapeError(
                f"{path}: no such file (pass a tape, .jsonl or .json of market messages)"
            )
        if path.suffix == ".zst":
            return self._records(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise TapeError(f"{path}: cannot read ({exc.strerror or exc})") from exc
        self._size = len(data)
        head = data[:4096].lstrip()
        if not head and not data.strip():
            return iter(())
        if _one_document(path, head[:1], data):
            self.frames = 1
            return iter((data,))
        if not head.startswith(_RECORD_STARTS):
            # A file of messages (its first line is no tape record): the frames are the
            # non-blank lines, handed over as a list (iterating a list costs far less than
            # resuming a generator per frame).
            return iter(self._list_lines(data))
        return self._lines(data)

    def _list_lines(self, data: bytes) -> list[bytes]:
        lines = self._split = data.split(b"\n")
        if lines[-1].strip():
            self._last_line = len(lines)
        o, c = _OPENERS, _CLOSERS
        framed = [
            line if line[0] in o and line[-1] in c else line.strip() for line in lines if line
        ]
        self._listed = [f for f in framed if f] if b"" in framed else framed
        self.frames = len(self._listed)
        return self._listed

    def _records(self, path: Path) -> Iterator[str | bytes]:
        for record in read_tape(path):
            if record.markets is not None:
                self._learn(record.markets)
            if record.frame is not None:
                self.frames += 1
                yield record.frame

    def _lines(self, data: bytes) -> Iterator[str | bytes]:
        decode = _LINE_DECODER.decode
        lines = data.split(b"\n")
        if lines[-1].strip():
            self._last_line = len(lines)
        starts = _RECORD_STARTS
        number = 0
        version = 1
        for line in lines:
            number += 1
            if not line:
                continue
            if line[0] not in _OPENERS or line[-1] not in _CLOSERS:
                line = line.strip()
                if not line:
                    continue
            frame: str | bytes | None
            fast = _raw_frame(line) if version == 2 and number != self._last_line else None
            if fast is not None:
                frame = fast[2]
            elif line.startswith(starts):
                try:
                    record = decode(line)
                except (msgspec.DecodeError, RecursionError) as exc:
                    v2 = _v2_record(line) if version == 2 else None
                    frame = (
                        v2.frame if v2 is not None else self._record_or_message(line, number, exc)
                    )
                else:
                    if record.src == HEADER_SRC:
                        version = record.version or 1
                        continue
                    frame = record.frame
                    if record.markets is not None:
                        self._learn(record.markets)
                if frame is None:
                    continue
            else:
                frame = line
            self.line = number
            self.frames += 1
            yield frame

    def _record_or_message(
        self, line: bytes, number: int, exc: msgspec.DecodeError | RecursionError
    ) -> str | bytes | None:
        """A line that looked like a tape record but is not a valid one (the slow path):
        a record without a frame is skipped; anything else is handed on as the frame it
        is, for the decoder to count as bad (naming this line) or to read as a message
        that happens to have a "t" or "src" field."""
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as bad:
            if number == self._last_line:  # the writer was cut off mid-line
                raise TapeTruncated(self.path, self._size, self.frames) from bad
            return line
        if isinstance(obj, dict) and "src" in obj and "t" in obj and obj.get("frame") is None:
            return None
        return line


def _one_document(path: Path, first: bytes, data: bytes) -> bool:
    """Whether a file is one JSON document (a .json file, or a list spread over lines)
    rather than JSON lines. Only the first line of a JSONL file is looked at."""
    if path.suffix != ".json" and first != b"[":
        return False
    if path.suffix != ".json":
        line, newline, rest = data.lstrip().partition(b"\n")
        if newline and rest.strip():
            try:
                msgspec.json.decode(line, type=msgspec.Raw)
            except (msgspec.DecodeError, RecursionError):
                return True  # the first line is not a whole value: one document over lines
            return False
    try:
        msgspec.json.decode(data, type=msgspec.Raw)
    except (msgspec.DecodeError, RecursionError):
        return False  # not one JSON document: read it as lines
    return True


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

    def market_listed(self, event: NewMarketEvent) -> None:
        """A tape's markets are what was recorded (its markets lines)."""

    def market_resolved(self, condition_id: str) -> None:
        """Nothing to unsubscribe from a tape."""

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

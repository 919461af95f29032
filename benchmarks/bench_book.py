"""Book reconstruction throughput against NautilusTrader, three ways.

- ``depth``: decode + book + best bid/ask + top-5 depth, in process, over >= 100k
  messages (``book`` snapshots and ``price_change`` frames) from the emulator's seeded
  flow model;
- ``bbo``: decode + apply + best bid/ask only (no depth reads), same messages;
- ``process``: the whole path a user runs, ``polyterm book FILE --json`` on a 200k-frame
  JSONL file of ``price_change`` frames (1-3 changes each, a ``tick_size_change`` midway),
  timed as a whole process minus start-up (the same command on an empty file).

NautilusTrader runs the same work on the same bytes in the same run (its msgspec
Polymarket schemas + Rust L2 ``OrderBook.apply_deltas`` + best bid/ask): in process when
``nautilus_trader`` is importable here, else in a subprocess of the interpreter named by
``--nautilus-python`` or ``$NAUTILUS_PYTHON`` (a venv with ``nautilus_trader`` and
``py_clob_client``; it only needs those, not polyterm).

    python benchmarks/bench_book.py [--mode all|depth|bbo|process] [--messages N]
        [--frames N] [--repeat R] [--nautilus-python PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec

from engine.adapters.polymarket.books import BookStore
from polyterm.emulator.server import EmulatorOptions, build_exchange
from polyterm.settings.locations import recorded_dir

ROOT = Path(__file__).resolve().parent.parent

# The Nautilus side, run in process (exec) or as a script in another interpreter. It reads
# one frame per line; `depth` and `bbo` time the loop only, `process` is timed from outside.
NAUTILUS_WORKER = r"""
import sys, time, msgspec
from nautilus_trader.adapters.polymarket.schemas.book import (
    PolymarketBookSnapshot, PolymarketQuotes, PolymarketTickSizeChange)
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.enums import BookType
from nautilus_trader.test_kit.providers import TestInstrumentProvider

def replay(frames, depth):
    decoder = msgspec.json.Decoder(
        PolymarketBookSnapshot | PolymarketQuotes | PolymarketTickSizeChange)
    instrument = TestInstrumentProvider.binary_option()
    books = {}
    for raw in frames:
        msg = decoder.decode(raw)
        if isinstance(msg, PolymarketBookSnapshot):
            deltas = msg.parse_to_snapshot(instrument=instrument, ts_init=0)
            asset = msg.asset_id
        elif isinstance(msg, PolymarketQuotes):
            deltas = msg.parse_to_deltas(instrument=instrument, ts_init=0)
            asset = msg.price_changes[0].asset_id
        else:
            continue  # a tick change: Nautilus re-grids in its instrument, not its book
        if deltas is None:
            continue
        # One instrument stands in for every token, so keep one Nautilus book per asset.
        book = books.get(asset)
        if book is None:
            book = books[asset] = OrderBook(instrument.id, BookType.L2_MBP)
        book.apply_deltas(deltas)
        book.best_bid_price()
        book.best_ask_price()
        if depth:
            book.bids()[:5]
            book.asks()[:5]
    return len(books)

if __name__ == "__main__":
    mode, path = sys.argv[1], sys.argv[2]
    with open(path, "rb") as fh:
        if mode == "process":
            replay((line for line in fh if line.strip()), False)
        else:
            frames = [line for line in fh.read().split(b"\n") if line]
            started = time.perf_counter()
            replay(frames, mode == "depth")
            print(time.perf_counter() - started)
"""


# -- inputs --------------------------------------------------------------------------
def make_messages(
    count: int, seed: int = 3, markets: int = 8
) -> tuple[list[bytes], dict[str, str]]:
    exchange, flow = build_exchange(
        EmulatorOptions(seed=seed, markets=markets, recorded=recorded_dir())
    )
    encoder = msgspec.json.Encoder()
    frames: list[bytes] = []
    tokens: dict[str, str] = {}
    for m in exchange.markets:
        for book in (m.yes, m.no):
            frames.append(encoder.encode(m.book_message(book)))
            tokens[book.asset_id] = m.info.condition_id
    step = 0
    while len(frames) < count:
        flow.step(0.1)
        step += 1
        for event in exchange.market_outbox:
            if event["event_type"] == "price_change":
                frames.append(encoder.encode(event))
        exchange.market_outbox.clear()
        if step % 200 == 0:  # a fresh snapshot now and then, as after a reconnect
            m = exchange.markets[step // 200 % len(exchange.markets)]
            frames.append(encoder.encode(m.book_message(m.yes)))
    return frames[:count], tokens


def make_price_change_file(path: Path, frames: int = 200_000, seed: int = 7) -> None:
    """A JSONL file of `frames` price_change frames (1-3 changes each) over 8 tokens,
    opening books first and a tick_size_change midway; reported bests match the book."""
    rng = random.Random(seed)
    tokens = [str(10**76 + rng.randrange(10**76)) for _ in range(8)]
    encoder = msgspec.json.Encoder()
    bids: dict[str, dict[int, int]] = {}
    asks: dict[str, dict[int, int]] = {}
    lines: list[bytes] = []
    ts = 1_760_000_000_000

    def price(p: int) -> str:
        return f"{p / 100:.2f}"

    for token in tokens:
        mid = rng.randrange(20, 80)
        bids[token] = {p: rng.randrange(1, 5000) for p in range(mid - 15, mid)}
        asks[token] = {p: rng.randrange(1, 5000) for p in range(mid + 1, mid + 16)}
        lines.append(
            encoder.encode(
                {
                    "event_type": "book",
                    "asset_id": token,
                    "market": "0xbench",
                    "timestamp": str(ts),
                    "hash": "0",
                    "bids": [{"price": price(p), "size": str(s)} for p, s in bids[token].items()],
                    "asks": [{"price": price(p), "size": str(s)} for p, s in asks[token].items()],
                }
            )
        )
    while len(lines) < frames + len(tokens):
        ts += rng.randrange(1, 5)
        if len(lines) == frames // 2:
            lines.append(
                encoder.encode(
                    {
                        "event_type": "tick_size_change",
                        "asset_id": tokens[0],
                        "market": "0xbench",
                        "old_tick_size": "0.01",
                        "new_tick_size": "0.001",
                        "timestamp": str(ts),
                    }
                )
            )
            continue
        changes = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            token = rng.choice(tokens)
            b, a = bids[token], asks[token]
            best_bid, best_ask = max(b), min(a)
            is_bid = rng.random() < 0.5
            side = b if is_bid else a
            # Move a level near the top: resize, remove (never the last) or add inside.
            if rng.random() < 0.2 and len(side) > 3:
                p = rng.choice(sorted(side, reverse=is_bid)[1:4])
                del side[p]
                size = 0
            else:
                lo, hi = (best_bid - 5, best_ask - 1) if is_bid else (best_bid + 1, best_ask + 5)
                p = rng.randrange(max(1, lo), min(99, hi) + 1)
                size = rng.randrange(1, 5000)
                side[p] = size
            changes.append(
                {
                    "asset_id": token,
                    "price": price(p),
                    "size": str(size),
                    "side": "BUY" if is_bid else "SELL",
                    "hash": f"{rng.getrandbits(40):x}",
                    "best_bid": price(max(b)),
                    "best_ask": price(min(a)),
                }
            )
        lines.append(
            encoder.encode(
                {
                    "event_type": "price_change",
                    "market": "0xbench",
                    "timestamp": str(ts),
                    "price_changes": changes,
                }
            )
        )
    path.write_bytes(b"\n".join(lines) + b"\n")


# -- polyterm ------------------------------------------------------------------------
def run_polyterm(frames: list[bytes], depth: bool = True) -> float:
    store = BookStore()
    books = store.books
    started = time.perf_counter()
    for raw in frames:
        store.apply_frame(raw)
        for asset in store.dirty:
            book = books[asset]
            book.best_bid, book.best_ask  # noqa: B018 - the work being measured
            if depth:
                book.top_bids(5)
                book.top_asks(5)
        store.dirty.clear()
    return time.perf_counter() - started


def timed_process(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - started


# -- nautilus ------------------------------------------------------------------------
class Nautilus:
    """Runs the Nautilus worker in process or in another interpreter."""

    def __init__(self, python: str | None, workdir: Path) -> None:
        self.in_process = importlib.util.find_spec("nautilus_trader") is not None
        self.python = python
        self.script = workdir / "nautilus_worker.py"
        self.script.write_text(NAUTILUS_WORKER)
        self.namespace: dict[str, object] = {}
        if self.in_process:
            exec(compile(NAUTILUS_WORKER, str(self.script), "exec"), self.namespace)  # noqa: S102

    @property
    def available(self) -> bool:
        return self.in_process or self.python is not None

    def loop(self, frames_file: Path, frames: list[bytes], depth: bool) -> float:
        if self.in_process:
            replay = self.namespace["replay"]
            started = time.perf_counter()
            replay(frames, depth)  # type: ignore[operator]
            return time.perf_counter() - started
        assert self.python is not None
        out = subprocess.run(
            [self.python, str(self.script), "depth" if depth else "bbo", str(frames_file)],
            check=True,
            capture_output=True,
            text=True,
        )
        return float(out.stdout.split()[-1])

    def process(self, path: Path) -> float:
        python = sys.executable if self.in_process else self.python
        assert python is not None
        return timed_process([python, str(self.script), "process", str(path)])


# -- modes ---------------------------------------------------------------------------
def in_process(mode: str, frames: list[bytes], nautilus: Nautilus, repeat: int) -> None:
    depth = mode == "depth"
    label = "decode + apply + best bid/ask + top-5 depth" if depth else "decode + apply + BBO"
    print(f"\n[{mode}] {label}")
    ours = [run_polyterm(frames, depth) for _ in range(repeat)]
    ours_med = statistics.median(ours)
    print(
        f"  polyterm: {len(frames) / ours_med:,.0f} msg/s (median of {repeat}; "
        f"best {len(frames) / min(ours):,.0f})"
    )
    if not nautilus.available:
        print("  nautilus_trader: not importable, comparison skipped")
        return
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as fh:
        fh.write(b"\n".join(frames) + b"\n")
        fh.flush()
        theirs = [nautilus.loop(Path(fh.name), frames, depth) for _ in range(repeat)]
    theirs_med = statistics.median(theirs)
    print(f"  nautilus: {len(frames) / theirs_med:,.0f} msg/s (median of {repeat})")
    print(f"  ratio polyterm/nautilus: {theirs_med / ours_med:.2f}x")


def whole_process(frames: int, nautilus: Nautilus, repeat: int, workdir: Path) -> None:
    path = workdir / "price_changes.jsonl"
    # Start-up: the same command on a file of one frame (an empty file is refused).
    empty = workdir / "one.jsonl"
    make_price_change_file(path, frames)
    empty.write_bytes(b'{"event_type": "book", "asset_id": "1", "bids": [], "asks": []}\n')
    print(
        f"\n[process] `polyterm book FILE --json`, {frames:,} price_change frames "
        f"({path.stat().st_size / 1e6:.1f} MB), whole process minus start-up"
    )
    polyterm = [sys.executable, "-m", "polyterm", "book"]
    ours = statistics.median(
        timed_process([*polyterm, str(path), "--json"])
        - timed_process([*polyterm, str(empty), "--json"])
        for _ in range(repeat)
    )
    print(f"  polyterm: {frames / ours:,.0f} frames/s (median of {repeat}, {ours:.2f} s)")
    if not nautilus.available:
        print("  nautilus_trader: not importable, comparison skipped")
        return
    theirs = statistics.median(
        nautilus.process(path) - nautilus.process(empty) for _ in range(repeat)
    )
    print(f"  nautilus: {frames / theirs:,.0f} frames/s (median of {repeat}, {theirs:.2f} s)")
    print(f"  ratio polyterm/nautilus: {theirs / ours:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("all", "depth", "bbo", "process"), default="all")
    parser.add_argument("--messages", type=int, default=120_000)
    parser.add_argument("--frames", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--nautilus-python",
        default=os.environ.get("NAUTILUS_PYTHON"),
        help="an interpreter with nautilus_trader, when this one has none",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        nautilus = Nautilus(args.nautilus_python, workdir)
        if args.mode in ("all", "depth", "bbo"):
            frames, _ = make_messages(args.messages)
            changes = sum(1 for f in frames if b'"price_change"' in f)
            print(
                f"messages: {len(frames)} ({changes} price_change, {len(frames) - changes} "
                f"book), {sum(map(len, frames)) / 1e6:.1f} MB"
            )
            for mode in ("depth", "bbo"):
                if args.mode in ("all", mode):
                    in_process(mode, frames, nautilus, args.repeat)
        if args.mode in ("all", "process"):
            whole_process(args.frames, nautilus, args.repeat, workdir)


if __name__ == "__main__":
    main()

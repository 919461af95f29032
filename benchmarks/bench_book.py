"""Decode + book + best bid/ask + top-5 depth throughput, in messages per second.

Generates >= 100k market messages (``book`` snapshots and ``price_change`` frames) as
bytes from the emulator's seeded flow model, then replays them through polyterm's
decoder and book builder. When ``nautilus_trader`` is importable, it runs Nautilus's
Polymarket schemas and its Rust OrderBook over the very same bytes and prints the ratio.

    python benchmarks/bench_book.py [--messages N] [--repeat R]
"""

from __future__ import annotations

import argparse
import statistics
import time

import msgspec

from engine.adapters.polymarket.books import BookStore
from polyterm.emulator.server import EmulatorOptions, build_exchange
from polyterm.locations import recorded_dir


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


def run_polyterm(frames: list[bytes]) -> float:
    store = BookStore()
    books = store.books
    started = time.perf_counter()
    for raw in frames:
        store.apply_frame(raw)
        for asset in store.dirty:
            book = books[asset]
            book.best_bid, book.best_ask  # noqa: B018 - the work being measured
            book.top_bids(5)
            book.top_asks(5)
        store.dirty.clear()
    return time.perf_counter() - started


def run_nautilus(frames: list[bytes]) -> float | None:
    try:
        from nautilus_trader.adapters.polymarket.schemas.book import (
            PolymarketBookSnapshot,
            PolymarketQuotes,
        )
        from nautilus_trader.model.book import OrderBook
        from nautilus_trader.model.enums import BookType
        from nautilus_trader.test_kit.providers import TestInstrumentProvider
    except ImportError:
        return None
    decoder = msgspec.json.Decoder(PolymarketBookSnapshot | PolymarketQuotes)
    instrument = TestInstrumentProvider.binary_option()
    books: dict[str, OrderBook] = {}
    started = time.perf_counter()
    for raw in frames:
        msg = decoder.decode(raw)
        if isinstance(msg, PolymarketBookSnapshot):
            deltas = msg.parse_to_snapshot(instrument=instrument, ts_init=0)
            assets = [msg.asset_id]
        else:
            deltas = msg.parse_to_deltas(instrument=instrument, ts_init=0)
            assets = [c.asset_id for c in msg.price_changes]
        if deltas is None:
            continue
        # One instrument stands in for every token, so keep one Nautilus book per asset.
        book = books.get(assets[0])
        if book is None:
            book = books[assets[0]] = OrderBook(instrument.id, BookType.L2_MBP)
        book.apply_deltas(deltas)
        book.best_bid_price()
        book.best_ask_price()
        book.bids()[:5]
        book.asks()[:5]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=120_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    frames, _ = make_messages(args.messages)
    changes = sum(1 for f in frames if b'"price_change"' in f)
    print(
        f"messages: {len(frames)} ({changes} price_change, {len(frames) - changes} book), "
        f"{sum(map(len, frames)) / 1e6:.1f} MB"
    )
    ours = [run_polyterm(frames) for _ in range(args.repeat)]
    best = min(ours)
    print(
        f"polyterm: {len(frames) / best:,.0f} msg/s (best of {args.repeat}; "
        f"median {len(frames) / statistics.median(ours):,.0f})"
    )
    theirs = [run_nautilus(frames) for _ in range(args.repeat)]
    if theirs[0] is None:
        print("nautilus_trader: not importable, comparison skipped")
        return
    best_theirs = min(t for t in theirs if t is not None)
    print(f"nautilus: {len(frames) / best_theirs:,.0f} msg/s (best of {args.repeat})")
    print(f"ratio polyterm/nautilus: {best_theirs / best:.2f}x")


if __name__ == "__main__":
    main()

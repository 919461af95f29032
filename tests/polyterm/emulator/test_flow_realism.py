"""The offline market stays a market: spreads and depth near the recorded books' over a
long run (they used to drift from 8 cents to 85 within about two minutes)."""

from __future__ import annotations

import statistics

import pytest

from engine.clock import SimClock
from engine.fixed import ONE, SIZE_SCALE
from polyterm.emulator.server import EmulatorOptions, build_exchange


@pytest.mark.parametrize("seed", [3, 7])
def test_spreads_stay_narrow_and_books_deep_over_ten_model_minutes(seed: int) -> None:
    clock = SimClock(1_700_000_000.0)
    exchange, flow = build_exchange(EmulatorOptions(seed=seed, markets=8), clock)
    spreads: list[float] = []
    depths: list[float] = []
    for i in range(1, 6001):  # 10 minutes of 0.1 s steps
        clock.advance_to(clock.time() + 0.1)
        flow.step(0.1)
        exchange.market_outbox.clear()
        if i % 100 == 0 and i >= 1200:  # every 10 s after the first two minutes
            for market in exchange.markets:
                book = market.yes
                if book.best_bid is None or book.best_ask is None:
                    continue
                spreads.append((book.best_ask - book.best_bid) * 100 / ONE)
                low, high = book.best_bid - 500, book.best_ask + 500
                near = sum(s for p, s in book.bid_sizes.items() if p >= low)
                near += sum(s for p, s in book.ask_sizes.items() if p <= high)
                depths.append(near / SIZE_SCALE)
    assert statistics.median(spreads) <= 2.0  # cents; the recorded books: 0.3-4
    assert sum(s <= 4.0 for s in spreads) / len(spreads) >= 0.9
    assert statistics.median(depths) >= 840  # the thinnest recorded book near its mid

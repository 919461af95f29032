"""Synthetic tapes without recording: the emulator's seeded flow, written straight to a tape.

:func:`export_tape` builds the exchange on a ``SimClock``, writes what a recorder
(``polyterm record`` against the emulator) would have captured from a subscriber of every
token, and never opens a socket or waits: a tape of an hour takes as long as the CPU
needs to step the model. The tape holds, in order:

- one ``markets`` line (``TapeWriter.write_markets``) at ``start``;
- one ``rest`` frame per token at ``start``: the JSON ``POST /books`` answers (a list
  with that token's book), which the engine's book builder takes as a snapshot;
- one ``ws`` frame per model step that produced market events, framed and encoded as
  the market WebSocket sends them (a JSON list), stamped with the simulated time at the
  end of the step (``start + i * step_seconds``), which is also every wire timestamp in it.

Same arguments, same bytes (plain or ``.zst``).
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path
from typing import Any

from engine.adapters.tape.tape import TapeWriter
from engine.clock import SimClock
from polyterm.emulator.rest_api import book_snapshot, dumps
from polyterm.emulator.server import (
    EmulatorOptions,
    build_exchange,
    encode_frame,
    market_events_for,
)

DEFAULT_START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _partial_path(path: Path) -> Path:
    """A sibling to write to first; keeps the suffix so ``.zst`` still compresses."""
    return path.with_name(f".{path.stem}.partial{path.suffix}")


def export_tape(
    path: Path,
    *,
    seed: int,
    markets: int,
    duration_s: float,
    events_per_second: float = 12.0,
    step_seconds: float = 0.1,
    start: float = DEFAULT_START,
    recorded: Path | None = None,
    market_makers: bool = True,
) -> dict[str, Any]:
    """Write a synthetic tape of `duration_s` simulated seconds to `path`; no network.

    Returns ``{"tape", "frames", "messages", "markets", "seconds", "seed"}``: `frames`
    counts frame lines (book snapshots and WebSocket frames, not the markets line),
    `messages` the wire events inside them. The file appears only when complete.
    """
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise ValueError(f"duration_s must be a positive number of seconds, not {duration_s}")
    if not (math.isfinite(step_seconds) and step_seconds > 0):
        raise ValueError(f"step_seconds must be a positive number of seconds, not {step_seconds}")
    if markets < 1:
        raise ValueError(f"markets must be at least 1, not {markets}")
    if not math.isfinite(start):
        raise ValueError(f"start must be a finite unix time, not {start}")
    options = EmulatorOptions(
        seed=seed,
        markets=markets,
        events_per_second=events_per_second,
        step_seconds=step_seconds,
        recorded=recorded,
        market_makers=market_makers,
    )
    clock = SimClock(start)
    exchange, flow = build_exchange(options, clock)
    tokens = frozenset(exchange.by_token)
    steps = int(duration_s / step_seconds + 1e-9)  # 0.3 / 0.1 is 2.9999999999999996

    partial = _partial_path(path)
    writer = TapeWriter(partial)
    messages = 0
    try:
        writer.write_markets([m.info for m in exchange.markets], clock.time())
        for market in exchange.markets:
            for token in market.info.token_ids:
                writer.write_frame(dumps([book_snapshot(market, token)]), clock.time(), "rest")
                messages += 1
        for i in range(1, steps + 1):
            # Each step ends at start + i * step; rounding keeps the times on the step grid
            # instead of accumulating float error.
            clock.advance_to(round(start + i * step_seconds, 6))
            flow.step(step_seconds)
            events = exchange.market_outbox
            exchange.market_outbox = []
            out = market_events_for(events, tokens)
            if out:
                writer.write_frame(encode_frame(out), clock.time(), "ws")
                messages += len(out)
        writer.close()
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError, ValueError):  # may already be closed
            writer.close()
        partial.unlink(missing_ok=True)
        raise
    return {
        "tape": str(path),
        "frames": writer.frames,
        "messages": messages,
        "markets": len(exchange.markets),
        "seconds": duration_s,
        "seed": seed,
    }

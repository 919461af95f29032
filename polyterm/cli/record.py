"""``polyterm record``: raw market frames with receive times, to a tape."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import click

from engine.limits import MAX_MARKETS
from polyterm.cli.common import (
    STOP_WITHIN_S,
    check_writable,
    load_app,
    log,
    overrides,
    run_command,
    signal_exit,
    stop_signals,
)


@click.command()
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Tape file (.jsonl, or .jsonl.zst for zstd).",
)
@click.option(
    "--duration",
    default=60.0,
    type=click.FloatRange(min=0, min_open=True),
    show_default=True,
    help="Seconds to record.",
)
@click.option(
    "--offline/--online",
    default=None,
    help="Record the local emulator (default) or Polymarket's live feed.",
)
@click.option("--seed", type=int, help="Emulator seed (offline only).")
@click.option("--markets", type=click.IntRange(1, MAX_MARKETS), help="How many markets to record.")
@click.pass_context
def record(
    ctx: click.Context,
    out_path: Path,
    duration: float,
    offline: bool | None,
    seed: int | None,
    markets: int | None,
) -> None:
    """Record raw market frames with receive times to a tape.

    Ends after --duration, or at once on Ctrl-C / SIGTERM (exit 130 / 143). Either way
    the tape is closed whole and one JSON line is printed: tape, frames, markets, seconds,
    and what stopped it ("duration", "SIGINT" or "SIGTERM"). A recording that fails
    before its first frame (the venue unreachable) leaves no tape behind.
    """
    check_writable("--out", out_path, make_parents=True)
    app = load_app(None, overrides(offline, seed, markets))

    async def go() -> int:
        from engine.adapters.net.tasks import cancel_and_wait
        from engine.adapters.polymarket.feed import PolymarketFeed
        from engine.adapters.tape.tape import RecordingSink, TapeWriter
        from engine.clock import SystemClock
        from polyterm.faces.live_engine import venue

        with stop_signals() as stop:
            clock = SystemClock()
            writer = TapeWriter(out_path)
            sink = RecordingSink(writer, clock)
            started = clock.monotonic()
            try:
                async with venue(app) as (config, _):
                    feed = PolymarketFeed(config.feed, config.hot_assets, clock)
                    task = asyncio.create_task(feed.run(sink), name="record-feed")
                    stopping = asyncio.create_task(stop.wait(), name="record-stop")
                    try:
                        await asyncio.wait(
                            {task, stopping}, timeout=duration, return_when=asyncio.FIRST_COMPLETED
                        )
                    finally:
                        stopping.cancel()
                        # Stop the feed before the emulator under it goes, or it would
                        # reconnect to it for ever.
                        if not await cancel_and_wait(task, within=STOP_WITHIN_S):
                            log.warning(
                                "the feed did not stop in %gs; closing the tape", STOP_WITHIN_S
                            )
                    if task.done() and not task.cancelled():
                        task.result()  # the feed failed (or ended): say why
            except BaseException:
                writer.close()
                if writer.frames == 0:
                    # Nothing recorded (the venue unreachable, a bad URL): no empty tape
                    # is left for a replay to mistake for a recording.
                    os.unlink(out_path)
                raise
            finally:
                writer.close()
            seconds = clock.monotonic() - started
        click.echo(
            json.dumps(
                {
                    "tape": str(out_path),
                    "frames": writer.frames,
                    "markets": len(sink.markets),
                    "seconds": round(seconds, 1),
                    "stopped": stop.signal.name if stop.signal is not None else "duration",
                }
            )
        )
        sys.stdout.flush()
        if writer.frames == 0:
            click.echo(f"polyterm: warning: {out_path} holds no frames", err=True)
        return signal_exit(stop.signal) if stop.signal is not None else 0

    sys.exit(run_command(go, ctx.obj["verbose"]))

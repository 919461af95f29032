"""The console's responsiveness under load: the whole app, headless, on a busy feed.

The exchange emulator runs in a child process (the load source: ``EmulatorOptions(rate=
..., frame_messages=...)``, as ``polyterm exchange --rate``) over ``--markets`` markets
with every token subscribed; this process runs the real console (PolytermApp, the engine
in its worker, the bridge, the 10 Hz refresh) headless at 160x50 against it. While the
feed streams, a probe on the app's event loop sleeps 10 ms at a time and records how
late it wakes: that lateness is what a key press or a repaint waits for. Printed:

- ``loop lag p50/p99/max``: the probe's lateness (target p99 <= 50 ms);
- ``refresh/s``: refreshes that had something new to show (the cadence is 10/s);
- ``snapshots/s``: snapshots the engine published and the bridge took;
- ``cells/refresh``: markets-table cells rewritten per refresh (changed cells only);
- ``feed msg/s``: market messages the engine applied; ``sent msg/s``: what the emulator
  sent (its admin counter), both per wall second.

The machine's other load moves these figures: compare runs made side by side.

    python benchmarks/bench_console.py [--rate 20000] [--markets 200] [--frame 10]
        [--seconds 20] [--warmup 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def child(args: argparse.Namespace) -> None:
    """Serve the emulator; print its URLs as one JSON line; run until stdin closes."""
    from polyterm.emulator.server import EmulatorOptions, ExchangeEmulator
    from polyterm.settings.locations import recorded_dir

    async def serve() -> None:
        emu = ExchangeEmulator(
            EmulatorOptions(
                markets=args.markets,
                rate=args.rate,
                frame_messages=args.frame,
                recorded=recorded_dir(),
                rate_limits={},  # the load is the market channel, not REST pacing
            )
        )
        urls = await emu.start()
        print(json.dumps(urls.as_dict()), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await emu.stop()

    asyncio.run(serve())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(args: argparse.Namespace, urls: dict[str, str]) -> dict[str, float]:
    from engine.config import EngineConfig
    from polyterm.faces.session import open_live_session
    from polyterm.settings.config import AppConfig, load_config
    from polyterm.tui.app import PolytermApp
    from widgets.markets_table import MarketsTable

    base = load_config(None, env={})
    engine = base.engine
    feed = engine.feed.model_copy(
        update={
            "clob_rest_url": urls["clob"],
            "market_ws_url": urls["market_ws"],
            "user_ws_url": urls["user_ws"],
            "gamma_url": urls["gamma"],
            "news_url": urls["news"],
            "offline": True,
            "max_markets": args.markets,
            "rest_rate_per_s": 200.0,
            "rest_burst": 50,
        }
    )
    hot = engine.hot_assets.model_copy(update={"asset_limit": args.markets * 2})
    config = engine.model_copy(update={"feed": feed, "hot_assets": hot})

    @contextlib.asynccontextmanager
    async def emulator_process(app: AppConfig) -> AsyncIterator[tuple[EngineConfig, str]]:
        yield config, "emulator"

    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        ledger = Path(tmp) / "ledger.sqlite"
        app = PolytermApp(
            lambda: open_live_session(base, ledger, venue_for=emulator_process),
            venue="emulator",
        )
        async with (
            app.run_test(size=(160, 50)) as pilot,
            httpx.AsyncClient(headers={"Authorization": f"Bearer {urls['admin_token']}"}) as admin,
        ):

            def messages() -> int:
                snap = app.bridge.latest
                return snap.counters.messages if snap is not None else 0

            async with asyncio.timeout(args.warmup + 120):
                while messages() == 0:  # markets listed, books in, the stream flowing
                    await pilot.pause(0.1)
                await asyncio.sleep(args.warmup)
            lags: list[float] = []
            table = app.screen.query_one(MarketsTable)
            start = time.perf_counter()
            r0, s0, c0, m0 = app.refreshes, app.bridge.snapshots, table.cells_written, messages()
            sent0 = (await admin.get(f"{urls['admin']}/state")).json()["messages_sent"]
            while (now := time.perf_counter()) - start < args.seconds:
                await asyncio.sleep(0.01)
                lags.append((time.perf_counter() - now - 0.01) * 1000)
            wall = time.perf_counter() - start
            sent1 = (await admin.get(f"{urls['admin']}/state")).json()["messages_sent"]
            refreshes = app.refreshes - r0
            figures = {
                "loop_lag_p50_ms": round(statistics.median(lags), 2),
                "loop_lag_p99_ms": round(percentile(lags, 0.99), 2),
                "loop_lag_max_ms": round(max(lags), 2),
                "refresh_per_s": round(refreshes / wall, 2),
                "snapshots_per_s": round((app.bridge.snapshots - s0) / wall, 2),
                "cells_per_refresh": round((table.cells_written - c0) / max(1, refreshes), 1),
                "feed_msg_per_s": round((messages() - m0) / wall),
                "sent_msg_per_s": round((sent1 - sent0) / wall),
                "market_rows": table.row_count,
            }
            await pilot.press("q")
            async with asyncio.timeout(30):
                while app.is_running:
                    await pilot.pause(0.1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=20_000.0)
    parser.add_argument("--markets", type=int, default=200)
    parser.add_argument("--frame", type=int, default=10, help="messages per WS frame at most")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", "--rate", str(args.rate)]
        + ["--markets", str(args.markets), "--frame", str(args.frame)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        urls = json.loads(proc.stdout.readline())
        figures = asyncio.run(measure(args, urls))
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=30)
    print(
        f"console under load: target {args.rate:,.0f} msg/s over {args.markets} markets "
        f"(<= {args.frame} messages a frame), {args.seconds:.0f} s after {args.warmup:.0f} s"
    )
    for key, value in figures.items():
        print(f"  {key:<20} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

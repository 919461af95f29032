"""The emulator as a load source: market-channel messages generated and sent per second.

The emulator runs in a child process (one core: one event loop, one thread) in rate mode
at each target rate (``--rates``); plain ``websockets`` clients in this process
(``--clients``, each subscribed to its share of the markets, no compression) read
everything and count messages. The per-core figure is messages per emulator CPU-second:
a target the clients cannot drain would only measure the clients (the emulator drops a
reader that falls 32 MiB behind, as a venue would). Printed per run:

- ``made msg/s``: messages generated (flow model + churn) per wall second;
- ``sent msg/s``: messages written to the clients per wall second (emulator side);
- ``recv msg/s``: messages the clients counted per wall second;
- ``msg per emulator CPU-s``: messages sent per CPU second the emulator process used
  (``/proc``), the per-core figure that does not depend on how busy the box is;
- ``slow drops``: clients the emulator dropped for falling too far behind (should be 0).

    python benchmarks/bench_emulator.py [--rates 100000,200000] [--frames 1,10]
        [--markets 200] [--seconds 5]
        [--clients 2] [--repeat 3] [--loop asyncio|uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


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
                rate_limits={},
            )
        )
        urls = await emu.start()
        print(json.dumps(urls.as_dict()), flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)
        await emu.stop()

    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serve())
    else:
        asyncio.run(serve())


async def reader(url: str, tokens: list[str], counts: list[int], index: int) -> None:
    async with websockets.connect(url, compression=None, max_queue=None, max_size=None) as ws:
        await ws.send(json.dumps({"assets_ids": tokens, "type": "market"}))
        async for frame in ws:
            text = frame if isinstance(frame, str) else frame.decode()
            counts[index] += text.count('"event_type"')


def spawn(args: argparse.Namespace, frame: int, rate: float) -> tuple[subprocess.Popen[bytes], Any]:
    """Start the emulator child; return it with the URLs it printed."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        "--markets",
        str(args.markets),
        "--frame",
        str(frame),
        "--rate",
        str(rate),
        "--loop",
        args.loop,
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


async def measure(args: argparse.Namespace, frame: int, rate: float) -> dict[str, Any]:
    proc, urls = await asyncio.to_thread(spawn, args, frame, rate)
    assert proc.stdin is not None
    try:
        async with httpx.AsyncClient(base_url=urls["clob"]) as c:
            markets = (await c.get("/gamma/markets", params={"limit": 5000})).json()
        tokens = [t for m in markets for t in json.loads(m["clobTokenIds"])]
        # Whole markets per client (both tokens), so each message goes to one client.
        shares = [
            [t for m in markets[i :: args.clients] for t in json.loads(m["clobTokenIds"])]
            for i in range(args.clients)
        ]
        counts = [0] * args.clients
        tasks = [
            asyncio.create_task(reader(urls["market_ws"], share, counts, i))
            for i, share in enumerate(shares)
        ]
        await asyncio.sleep(1.0)  # connect, book dumps, warm up
        async with httpx.AsyncClient(
            base_url=urls["admin"],
            headers={"Authorization": f"Bearer {urls['admin_token']}"},
        ) as admin:
            before = (await admin.get("/state")).json()
            recv0, cpu0, t0 = sum(counts), cpu_seconds(proc.pid), time.perf_counter()
            await asyncio.sleep(args.seconds)
            state = (await admin.get("/state")).json()
            recv1, cpu1, t1 = sum(counts), cpu_seconds(proc.pid), time.perf_counter()
            sent0, sent1 = before["messages_sent"], state["messages_sent"]
            made = state["messages_generated"] - before["messages_generated"]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    wall = t1 - t0
    return {
        "made": made / wall,
        "sent": (sent1 - sent0) / wall,
        "recv": (recv1 - recv0) / wall,
        "per_cpu": (sent1 - sent0) / max(cpu1 - cpu0, 1e-9),
        "cpu_share": (cpu1 - cpu0) / wall,
        "slow": state["slow_disconnects"],
        "tokens": len(tokens),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--frame", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--frames", default="1,10", help="messages per frame to try")
    parser.add_argument("--markets", type=int, default=200)
    parser.add_argument("--rate", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--rates", default="100000,200000", help="target msg/s to try")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    print(
        f"emulator load source: {args.markets} markets, {args.clients} websockets clients, "
        f"{args.seconds:g} s per run, median of {args.repeat}, loop={args.loop}"
    )
    plan = [(float(r), int(f)) for r in args.rates.split(",") for f in args.frames.split(",")]
    for rate, frame in plan:
        runs = [asyncio.run(measure(args, frame, rate)) for _ in range(args.repeat)]

        def med(key: str, runs: list[dict[str, Any]] = runs) -> float:
            return statistics.median(r[key] for r in runs)

        print(
            f"rate={rate:>9,.0f} frame_messages={frame:<3} made {med('made'):>9,.0f} msg/s  "
            f"sent {med('sent'):>9,.0f} msg/s  "
            f"recv {med('recv'):>9,.0f} msg/s  "
            f"{med('per_cpu'):>9,.0f} msg per emulator CPU-s  "
            f"(emulator CPU {med('cpu_share'):.0%}, slow drops {max(r['slow'] for r in runs)})"
        )


if __name__ == "__main__":
    main()

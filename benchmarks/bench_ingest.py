"""The socket path at scale: the emulator at a fixed rate over loopback into the real
feed and engine, as ``polyterm --offline --no-ui`` runs them.

Two child processes per run: the emulator in rate mode (``--rate`` msg/s,
``--frame-messages`` per frame, the venue's pacing table on) and the engine (the
Polymarket feed with its sharded market WebSocket, the book store, every strategy
deciding, paper fills, the ledger, snapshots at 10 Hz). After start-up and a warm-up, a
window of ``--seconds`` is measured in the engine process:

- ``msg/s``: market messages applied by the engine per wall second (sustained: the
  emulator's per-connection backlog at the end of the window is printed next to it, and
  ``drops`` counts connections the emulator cut for falling 32 MiB behind: both must
  stay flat for the rate to count);
- ``engine CPU``: the engine process's CPU seconds per wall second (1.0 = one core);
- ``msg per engine CPU-s``: the per-core figure, which does not depend on how busy the
  box is;
- ``lag p50/p99/max``: event-loop lag, a 5 ms timer's lateness, over the window;
- ``start-up``: seconds from the feed starting to the first book, and to every book;
- ``RSS``: the engine's peak resident set (VmHWM).

``--client`` swaps the WebSocket client under the same feed to compare libraries on the
whole path: ``picows`` (what the feed uses), ``aiohttp``, ``websockets``. ``--sink books``
stops at the book store (the socket path alone: no strategies, ledger or snapshots).
``--rss-markets`` adds short low-rate runs that only report peak RSS and books.
``--deflate N`` measures permessage-deflate alone: CPU per message and bytes on the wire
with and without it (the trade-off behind ``feed.ws_compression``).

    python benchmarks/bench_ingest.py [--rates 50000,100000] [--frames 1,10]
        [--markets 200,1000] [--seconds 5] [--warmup 3] [--repeat 1]
        [--client picows|aiohttp|websockets] [--loop asyncio|uvloop] [--sink engine|books]
        [--rss-markets 250,1000] [--deflate N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")
LAG_PERIOD_S = 0.005


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_loop(main: Any, loop: str) -> Any:
    if loop == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


# -- the emulator child ------------------------------------------------------------------


def emulator_child(args: argparse.Namespace) -> None:
    from polyterm.emulator.server import EmulatorOptions, ExchangeEmulator
    from polyterm.settings.locations import recorded_dir

    async def serve() -> None:
        emu = ExchangeEmulator(
            EmulatorOptions(
                markets=args.markets,
                rate=args.rate,
                frame_messages=args.frame,
                recorded=recorded_dir(),
            )
        )
        urls = await emu.start()
        print(json.dumps(urls.as_dict()), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await emu.stop()

    run_loop(serve(), args.loop)


# -- other WebSocket clients, for --client ---------------------------------------------------


class _AiohttpConnection:
    """aiohttp's client WebSocket behind the feed's WsConnection interface."""

    def __init__(self, session: Any, ws: Any, on_message: Any) -> None:
        self._session, self._ws, self._on_message = session, ws, on_message
        self._reading = asyncio.Event()
        self._reading.set()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, on_message: Any, compression: bool = False) -> Any:
        import aiohttp

        session = aiohttp.ClientSession()
        ws = await session.ws_connect(url, compress=0, max_msg_size=1 << 24, autoping=False)
        return cls(session, ws, on_message)

    async def _read(self) -> str:
        import aiohttp

        ws, on_message, reading = self._ws, self._on_message, self._reading
        while True:
            if not reading.is_set():
                await reading.wait()
            msg = await ws.receive()
            if msg.type is aiohttp.WSMsgType.TEXT:
                on_message(msg.data.encode(), True)
            elif msg.type is aiohttp.WSMsgType.BINARY:
                on_message(msg.data, True)
            elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                return f"WS closed ({ws.close_code})"

    async def send_text(self, text: str) -> None:
        if not self._ws.closed:
            await self._ws.send_str(text)

    def pause_reading(self) -> None:
        self._reading.clear()

    def resume_reading(self) -> None:
        self._reading.set()

    async def closed(self) -> str:
        await asyncio.wait({self._reader})
        return str(self._reader.result())

    async def aclose(self) -> None:
        self._reader.cancel()
        await asyncio.wait({self._reader})
        await self._ws.close()
        await self._session.close()


def use_client(name: str) -> None:
    """Swap the feed's WebSocket client (the default is picows)."""
    from engine.adapters.net import ws
    from engine.adapters.polymarket import market_ws

    if name == "picows":
        return
    if name == "websockets":
        # The same class the feed uses for deflate, here without compression.
        async def opener(url: str, on_message: Any, **kw: Any) -> Any:
            import websockets

            conn = await websockets.connect(
                url, ping_interval=None, max_size=1 << 24, proxy=None, compression=None
            )
            return ws._WebsocketsConnection(conn, on_message)

        market_ws.open_connection = opener  # type: ignore[assignment]
    elif name == "aiohttp":

        async def aiohttp_open(url: str, on_message: Any, **kw: Any) -> Any:
            return await _AiohttpConnection.open(url, on_message)

        market_ws.open_connection = aiohttp_open  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown --client {name!r}")


# -- the engine child ----------------------------------------------------------------------


class BookSink:
    """``--sink books``: the feed into a book store alone (no strategies, no ledger)."""

    def __init__(self) -> None:
        from engine.adapters.polymarket.books import BookStore

        self.store = BookStore()
        self.messages = 0

    def on_markets(self, markets: Any) -> None:
        return None

    def on_frame(self, raw: bytes | str, recv_ts: float, source: str) -> None:
        self.messages += self.store.apply_frame(raw)
        self.store.dirty.clear()

    def applied(self) -> int:
        return self.messages


def engine_child(args: argparse.Namespace) -> None:
    use_client(args.client)
    print(json.dumps(run_loop(measure_engine(args), args.loop)), flush=True)


async def measure_engine(args: argparse.Namespace) -> dict[str, Any]:
    import httpx

    from engine.adapters.polymarket.feed import PolymarketFeed
    from engine.clock import SystemClock
    from engine.config import EngineConfig, FeedConfig
    from engine.ledger.writer import SqliteLedger
    from engine.runtime.kernel import build_engine
    from engine.runtime.live import LiveRunner

    urls = json.loads(args.urls)
    config = EngineConfig(
        feed=FeedConfig(
            clob_rest_url=urls["clob"],
            market_ws_url=urls["market_ws"],
            user_ws_url=urls["user_ws"],
            gamma_url=urls["gamma"],
            news_url=urls["news"],
            offline=True,
            max_markets=args.markets,
        )
    )
    clock = SystemClock()
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory() as tmp:
        ledger = await SqliteLedger(Path(tmp) / "ledger.sqlite").open()
        feed = PolymarketFeed(config.feed, config.hot_assets, clock)
        health = feed.health
        runner: LiveRunner | None = None
        if args.sink == "engine":
            parts = build_engine(config, clock, ledger, venue="emulator", feed=feed, health=health)
            runner = parts.live_runner(feed, ledger)
            store = parts.core.intake.books

            def applied() -> int:
                return int(parts.core.intake.counts["messages"])

            feeding = runner.run(None, starting_cash=parts.starting_cash)
        else:
            sink = BookSink()
            store = sink.store
            applied = sink.applied
            feeding = feed.run(sink)
        lags: list[float] = []

        async def probe() -> None:
            while True:
                start = loop.time()
                await asyncio.sleep(LAG_PERIOD_S)
                lags.append(loop.time() - start - LAG_PERIOD_S)

        pauses: list[tuple[int, float]] = []  # (generation, seconds) of each collection
        gc_started = [0.0]

        def on_gc(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                gc_started[0] = time.perf_counter()
            else:
                pauses.append((info["generation"], time.perf_counter() - gc_started[0]))

        gc.callbacks.append(on_gc)
        started = time.perf_counter()
        run = asyncio.create_task(feeding)
        lag_task = asyncio.create_task(probe())
        first_book = all_books = None
        async with asyncio.timeout(120):
            while all_books is None:
                await asyncio.sleep(0.005)
                if run.done():
                    run.result()
                    raise RuntimeError("the engine stopped during start-up")
                if first_book is None and any(b.has_snapshot for b in store.books.values()):
                    first_book = time.perf_counter() - started
                loaded = health.startup is None and health.books_expected
                if loaded and health.ws_shards_live and health.ws_shards_live == health.ws_shards:
                    all_books = time.perf_counter() - started
        await asyncio.sleep(args.warmup)
        async with httpx.AsyncClient(
            base_url=urls["admin"],
            headers={"Authorization": f"Bearer {urls['admin_token']}"},
        ) as admin:
            state0 = (await admin.get("/state")).json()
            msgs0, frames0 = applied(), health.ws_messages
            cpu0, wall0 = time.process_time(), time.perf_counter()
            lags.clear()
            pauses.clear()
            await asyncio.sleep(args.seconds)
            msgs1, frames1 = applied(), health.ws_messages
            cpu1, wall1 = time.process_time(), time.perf_counter()
            window = sorted(lags)
            full = [p for g, p in pauses if g == 2]
            conns = (await admin.get("/connections")).json()
            state1 = (await admin.get("/state")).json()
        lag_task.cancel()
        if runner is not None:
            runner.stop()
        else:
            run.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await run
        await ledger.close()
    wall, cpu = wall1 - wall0, cpu1 - cpu0
    msgs = msgs1 - msgs0

    def pct(q: float) -> float:
        return window[min(len(window) - 1, int(q * len(window)))] * 1000 if window else 0.0

    return {
        "msg_s": msgs / wall,
        "frames_s": (frames1 - frames0) / wall,
        "cpu_share": cpu / wall,
        "per_cpu": msgs / cpu if cpu else 0.0,
        "lag_p50": pct(0.50),
        "lag_p99": pct(0.99),
        "lag_max": window[-1] * 1000 if window else 0.0,
        "first_book": first_book,
        "all_books": all_books,
        "rss_mb": peak_rss_mb(),
        "books": sum(1 for b in store.books.values() if b.has_snapshot),
        "shards": health.ws_shards,
        "sent_s": (state1["messages_sent"] - state0["messages_sent"]) / wall,
        "backlog_kb": sum(c["backlog_bytes"] for c in conns) / 1024,
        "drops": state1["slow_disconnects"],
        "gaps": dict(store.problems),
        "gc_full": len(full),
        "gc_full_max_ms": max(full, default=0.0) * 1000,
        "gc_all_ms": sum(p for _, p in pauses) * 1000,
    }


# -- the compression trade-off ---------------------------------------------------------------


DEFLATE_SERVER = r"""
import asyncio, sys
from websockets.asyncio.server import serve
from polyterm.emulator.churn import Churn
from polyterm.emulator.server import EmulatorOptions, build_exchange
from polyterm.settings.locations import recorded_dir

count, compression = int(sys.argv[1]), (None if sys.argv[2] == "off" else "deflate")
exchange, _ = build_exchange(EmulatorOptions(markets=200, recorded=recorded_dir()))
payloads = [m for _, m, _, _ in Churn(exchange.markets, 7).generate(count, 1)]

async def send_all(conn):
    await conn.recv()
    for payload in payloads:
        await conn.send(payload, text=True)
    await conn.close()

async def main():
    async with serve(send_all, "127.0.0.1", 0, compression=compression) as server:
        print(next(iter(server.sockets)).getsockname()[1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""


def _deflate_server(messages: int, mode: str) -> tuple[subprocess.Popen[bytes], int]:
    server = subprocess.Popen(
        [sys.executable, "-c", DEFLATE_SERVER, str(messages), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    assert server.stdout is not None
    return server, int(server.stdout.readline())


async def deflate_tradeoff(messages: int) -> list[tuple[str, float, float]]:
    """A websockets server in a child process sends `messages` churn messages, one per
    frame, to a websockets client here, with and without permessage-deflate; returns
    (mode, client CPU us per message, wire bytes per message). picows, the feed's default
    client, cannot inflate: ``feed.ws_compression = "deflate"`` switches the feed to
    websockets, so this is the cost of that choice on the receive side."""
    import websockets

    out = []
    for mode in ("off", "deflate"):
        server, port = await asyncio.to_thread(_deflate_server, messages, mode)
        assert server.stdin is not None
        try:
            wire = 0
            received = 0
            compression = None if mode == "off" else "deflate"
            url = f"ws://127.0.0.1:{port}"
            async with websockets.connect(url, compression=compression, max_size=None) as ws:
                protocol: Any = ws.transport.get_protocol()
                original = protocol.data_received

                def counting(data: bytes, original: Any = original) -> None:
                    nonlocal wire
                    wire += len(data)
                    original(data)

                protocol.data_received = counting
                await ws.send("subscribe")
                cpu0 = time.process_time()
                with contextlib.suppress(websockets.ConnectionClosed):
                    async for _ in ws:
                        received += 1
                cpu = time.process_time() - cpu0
        finally:
            server.stdin.close()
            await asyncio.to_thread(server.wait, 30)
        out.append((mode, cpu / max(received, 1) * 1e6, wire / max(received, 1)))
    return out


# -- the parent ------------------------------------------------------------------------------


def one_run(args: argparse.Namespace, markets: int, frame: int, rate: float) -> dict[str, Any]:
    script = str(Path(__file__).resolve())
    common = ["--markets", str(markets), "--loop", args.loop]
    emu = subprocess.Popen(
        [sys.executable, script, "--emulator-child", "--frame", str(frame), "--rate", str(rate)]
        + common,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    assert emu.stdin is not None
    assert emu.stdout is not None
    try:
        urls = emu.stdout.readline().decode()
        emu_cpu0, t0 = cpu_seconds(emu.pid), time.perf_counter()
        engine = subprocess.run(
            [sys.executable, script, "--engine-child", "--urls", urls, "--client", args.client]
            + ["--sink", args.sink]
            + ["--seconds", str(args.seconds), "--warmup", str(args.warmup)]
            + common,
            capture_output=True,
            cwd=ROOT,
            timeout=300,
            check=False,
        )
        emu_cpu = (cpu_seconds(emu.pid) - emu_cpu0) / (time.perf_counter() - t0)
    finally:
        emu.stdin.close()
        try:
            emu.wait(timeout=10)
        except subprocess.TimeoutExpired:
            emu.kill()
    if engine.returncode != 0:
        raise SystemExit(f"engine child failed:\n{engine.stderr.decode()[-3000:]}")
    result: dict[str, Any] = json.loads(engine.stdout.decode().strip().splitlines()[-1])
    result["emulator_cpu"] = emu_cpu
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emulator-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--engine-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--urls", help=argparse.SUPPRESS)
    parser.add_argument("--frame", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--markets", default="200,1000", help="markets to run with")
    parser.add_argument("--rates", default="50000,100000", help="emulator msg/s to try")
    parser.add_argument("--frames", default="1,10", help="messages per frame to try")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--client", default="picows", choices=("picows", "aiohttp", "websockets"))
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument(
        "--sink",
        choices=("engine", "books"),
        default="engine",
        help="the whole engine, or the feed into a book store alone",
    )
    parser.add_argument("--rss-markets", default="250,1000", help="'' skips the RSS runs")
    parser.add_argument(
        "--deflate",
        type=int,
        default=0,
        metavar="N",
        help="only measure permessage-deflate's cost and saving over N messages",
    )
    args = parser.parse_args()
    if args.emulator_child:
        args.markets = int(args.markets)
        emulator_child(args)
        return
    if args.engine_child:
        args.markets = int(args.markets)
        engine_child(args)
        return
    if args.deflate:
        for mode, cpu_us, size in asyncio.run(deflate_tradeoff(args.deflate)):
            print(
                f"websockets client, compression {mode:<8} {cpu_us:6.1f} us of CPU per "
                f"message received, {size:6.1f} bytes on the wire per message"
            )
        return
    print(
        f"ingest: emulator -> loopback -> feed ({args.client}) -> {args.sink}, loop={args.loop}, "
        f"{args.seconds:g} s windows after {args.warmup:g} s warm-up, median of {args.repeat}"
    )
    plan = [
        (int(m), float(r), int(f))
        for m in args.markets.split(",")
        for r in args.rates.split(",")
        for f in args.frames.split(",")
    ]
    for markets, rate, frame in plan:
        runs = [one_run(args, markets, frame, rate) for _ in range(args.repeat)]

        def med(key: str, runs: list[dict[str, Any]] = runs) -> float:
            return float(statistics.median(r[key] for r in runs))

        print(
            f"markets={markets:<5} rate={rate:>8,.0f} frame={frame:<3} "
            f"{med('msg_s'):>8,.0f} msg/s  engine CPU {med('cpu_share'):.2f}  "
            f"{med('per_cpu'):>8,.0f} msg per engine CPU-s  "
            f"lag p50/p99/max {med('lag_p50'):.1f}/{med('lag_p99'):.1f}/{med('lag_max'):.1f} ms  "
            f"start-up {med('first_book'):.2f}/{med('all_books'):.2f} s  "
            f"RSS {med('rss_mb'):.0f} MB  books {int(med('books'))} shards {int(med('shards'))}  "
            f"backlog {med('backlog_kb'):.0f} KiB drops {max(r['drops'] for r in runs)}  "
            f"GC {med('gc_all_ms'):.0f} ms, {int(med('gc_full'))} full (max "
            f"{med('gc_full_max_ms'):.0f} ms)  "
            f"(emulator CPU {med('emulator_cpu'):.2f})",
            flush=True,
        )
    for markets in [int(m) for m in args.rss_markets.split(",") if m]:
        short = argparse.Namespace(**{**vars(args), "seconds": 2.0, "warmup": 1.0})
        r = one_run(short, markets, 1, 10_000)
        print(
            f"peak RSS with {r['books']} books ({markets} markets, 10k msg/s): "
            f"{r['rss_mb']:.0f} MB; start-up to first book {r['first_book']:.2f} s, "
            f"every book {r['all_books']:.2f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()

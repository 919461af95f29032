"""Backtests against NautilusTrader, whole processes, interleaved; and the book replay on a
file of varied sizes.

1. ``polyterm backtest --tape T --json`` (all five strategies, the default configuration;
   and with every strategy off) on a synthetic tape of ``--markets`` markets over
   ``--seconds`` simulated seconds (``polyterm exchange --export-tape``: tape format v2),
   and on the same session written as a v1 tape.
2. A NautilusTrader ``BacktestEngine`` on the same tape: every frame decoded with
   Nautilus's own Polymarket schemas (``PolymarketBookSnapshot`` / ``PolymarketQuotes`` /
   ``PolymarketTrade``) into ``OrderBookDeltas`` and ``TradeTick`` data, one
   ``BinaryOption`` per token (``get_polymarket_instrument_id``), an L2 venue, and a
   strategy doing comparable work: it subscribes to every book and trade, reads the best
   bid and ask on each update, and sends an IOC limit order every ``--every`` updates.
   Timed as a whole process (reading and converting the tape included, as polyterm's
   command reads its own); the engine loop alone (``engine.run()``) is printed beside.
3. The whole-process book replay (``polyterm book FILE --json`` against Nautilus's
   Polymarket path, as ``bench_book.py --mode process`` runs it) on a JSONL file of
   ``price_change`` frames whose sizes vary (two decimals, rarely repeated: the size
   memo misses), plus the peak RSS of the polyterm backtest.

Runs are interleaved (polyterm, Nautilus, polyterm, ...) ``--repeat`` times and the
medians are printed, with the box's load average: on a shared machine the figures move.
Each rate is given per wall second and per CPU second (user + system of the process):
the CPU rate is the one a busy machine moves least.
Both sides run with cached bytecode (``PYTHONDONTWRITEBYTECODE`` unset), as an install
would. Prints figures; never fails on a number.

NautilusTrader is never a dependency of polyterm. Give the benchmark an interpreter that
has it (``--nautilus-python PATH`` or ``$NAUTILUS_PYTHON``)::

    python3.11 -m venv /tmp/nautilus
    /tmp/nautilus/bin/pip install nautilus_trader==1.221.0 py_clob_client  # its adapter imports it
    python benchmarks/bench_backtest.py --nautilus-python /tmp/nautilus/bin/python

Without one, the polyterm figures are printed and the comparison is skipped.

    python benchmarks/bench_backtest.py [--markets 200] [--seconds 300] [--repeat 3]
        [--tape T] [--every 100] [--book-frames 200000] [--nautilus-python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POLYTERM = [sys.executable, "-m", "polyterm"]
NAMES = (
    "mean_reversion",
    "momentum_scalping",
    "event_driven",
    "micro_arbitrage",
    "cross_market_arbitrage",
)

# The Nautilus side, run by the Nautilus interpreter: argv = tape, every. Prints one JSON
# line: messages, updates the strategy saw, orders it sent, engine-loop seconds.
NAUTILUS_BACKTEST = r"""
import json, sys, time
from decimal import Decimal
import msgspec
from nautilus_trader.adapters.polymarket.common.symbol import get_polymarket_instrument_id
from nautilus_trader.adapters.polymarket.schemas.book import (
    PolymarketBookSnapshot, PolymarketQuotes, PolymarketTickSizeChange, PolymarketTrade)
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.common.config import LoggingConfig
from nautilus_trader.model.currencies import USDC
from nautilus_trader.model.enums import (
    AccountType, AssetClass, BookType, OmsType, OrderSide, TimeInForce)
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.instruments import BinaryOption
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.trading.strategy import Strategy

tape, every = sys.argv[1], int(sys.argv[2])
EVENT = msgspec.json.Decoder(
    list[PolymarketBookSnapshot | PolymarketQuotes | PolymarketTrade | PolymarketTickSizeChange])
SNAPSHOTS = msgspec.json.Decoder(list[PolymarketBookSnapshot])

class Line(msgspec.Struct):
    t: float
    src: str
    frame: msgspec.Raw = msgspec.Raw(b"null")
    markets: list | None = None
    version: int | None = None

LINE = msgspec.json.Decoder(Line)
instruments = {}
def instrument(cid, token):
    inst = instruments.get(token)
    if inst is None:
        iid = get_polymarket_instrument_id(cid, token)
        inst = instruments[token] = BinaryOption(
            instrument_id=iid, raw_symbol=iid.symbol, outcome="Yes", description=token[:12],
            asset_class=AssetClass.ALTERNATIVE, currency=USDC, price_precision=4,
            price_increment=Price.from_str("0.0001"), size_precision=2,
            size_increment=Quantity.from_str("0.01"), activation_ns=0,
            expiration_ns=4_000_000_000 * 10**9, max_quantity=None,
            min_quantity=Quantity.from_int(1), maker_fee=Decimal(0), taker_fee=Decimal(0),
            ts_event=0, ts_init=0)
    return inst

data, messages = [], 0
with open(tape, "rb") as fh:
    for raw in fh:
        line = LINE.decode(raw)
        frame = bytes(line.frame)
        if frame == b"null":
            continue
        if frame[:1] == b'"':  # a v1 tape: the frame is a string of JSON
            frame = msgspec.json.decode(frame, type=str).encode()
        ts = int(line.t * 1e9)
        if line.src == "rest":  # POST /books answers: snapshots without event_type
            events = SNAPSHOTS.decode(frame)
        else:
            events = EVENT.decode(frame)
        for ev in events:
            if isinstance(ev, PolymarketQuotes):
                messages += 1
                by_asset = {}
                for change in ev.price_changes:
                    by_asset.setdefault(change.asset_id, []).append(change)
                for asset, changes in by_asset.items():
                    quotes = PolymarketQuotes(ev.market, changes, ev.timestamp)
                    data.append(quotes.parse_to_deltas(instrument(ev.market, asset), ts))
            elif isinstance(ev, PolymarketBookSnapshot):
                messages += 1
                deltas = ev.parse_to_snapshot(instrument(ev.market, ev.asset_id), ts)
                if deltas is not None:
                    data.append(deltas)
            elif isinstance(ev, PolymarketTrade):
                messages += 1
                data.append(ev.parse_to_trade_tick(instrument(ev.market, ev.asset_id), ts))

class Probe(Strategy):
    def __init__(self, ids, every):
        super().__init__()
        self.ids, self.every, self.updates, self.orders = ids, every, 0, 0
    def on_start(self):
        for iid in self.ids:
            self.subscribe_order_book_deltas(iid, book_type=BookType.L2_MBP)
            self.subscribe_trade_ticks(iid)
    def _update(self, iid):
        book = self.cache.order_book(iid)
        bid, ask = book.best_bid_price(), book.best_ask_price()
        self.updates += 1
        if self.updates % self.every == 0 and ask is not None and bid is not None:
            self.orders += 1
            self.submit_order(self.order_factory.limit(
                iid, OrderSide.BUY, Quantity.from_int(5), ask, time_in_force=TimeInForce.IOC))
    def on_order_book_deltas(self, deltas):
        self._update(deltas.instrument_id)
    def on_trade_tick(self, tick):
        self._update(tick.instrument_id)

engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR")))
engine.add_venue(Venue("POLYMARKET"), OmsType.NETTING, AccountType.CASH,
                 [Money(1_000_000, USDC)], base_currency=USDC, book_type=BookType.L2_MBP)
for inst in instruments.values():
    engine.add_instrument(inst)
engine.add_data(data)
probe = Probe([i.id for i in instruments.values()], every)
engine.add_strategy(probe)
started = time.perf_counter()
engine.run()
loop = time.perf_counter() - started
print(json.dumps({"messages": messages, "updates": probe.updates, "orders": probe.orders,
                  "loop_seconds": loop}))
engine.dispose()
"""


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (5 min {five:.2f}) on {os.cpu_count()} cores"


def env_for(root: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "POLYTERM_CONFIG_DIR": str(root / "cfg"),
        "POLYTERM_DATA_DIR": str(root / "data"),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # both sides with cached bytecode
    env.pop("PYTHONASYNCIODEBUG", None)
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, stdout) of `command`. The CPU time (user + system of
    the process and its children) is the figure a loaded machine moves least."""
    cpu = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command[:4])}... failed:\n{proc.stderr[-2000:]}")
    return seconds, _children_cpu() - cpu, proc.stdout


def make_tapes(root: Path, args: argparse.Namespace, env: dict[str, str]) -> tuple[Path, Path]:
    """The session as a v2 tape (the export's own) and as a v1 tape (frames as strings)."""
    v2 = args.tape or root / "tape.jsonl"
    if args.tape is None:
        command = [*POLYTERM, "exchange", "--export-tape", str(v2), "--seed", "7"]
        command += ["--markets", str(args.markets), "--duration", str(args.seconds)]
        timed(command, env)
    v1 = root / "tape.v1.jsonl"
    sys.path.insert(0, str(ROOT))
    from engine.adapters.tape.tape import read_tape

    with v1.open("w") as out:
        for record in read_tape(v2):
            if record.markets is not None:
                line = {"t": record.t, "src": record.src, "markets": record.markets}
            elif record.frame is not None:
                frame = record.frame
                text = frame.decode() if isinstance(frame, bytes) else frame
                line = {"t": record.t, "src": record.src, "frame": text}
            else:
                continue
            out.write(json.dumps(line, separators=(",", ":")) + "\n")
    return v2, v1


def polyterm_backtest(
    tape: Path, root: Path, env: dict[str, str], off: bool, i: int
) -> tuple[float, float, dict[str, Any]]:
    ledger = root / f"b-{tape.stem}-{'off' if off else 'on'}-{i}.sqlite"
    command = [*POLYTERM, "backtest", "--tape", str(tape), "--json", "--no-progress"]
    command += ["--ledger", str(ledger)]
    if off:
        command += ["--config", str(root / "off.toml")]
    seconds, cpu, out = timed(command, env)
    ledger.unlink(missing_ok=True)
    return seconds, cpu, json.loads(out.strip().splitlines()[-1])


def peak_rss_mb(command: list[str], env: dict[str, str]) -> float:
    """Peak RSS of `command` (a child of a fresh interpreter, so no other child counts;
    ru_maxrss is in KiB on Linux)."""
    probe = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
        "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *command], capture_output=True, text=True, env=env, check=True
    )
    return int(out.stdout.strip()) / 1024


def varied_sizes_file(path: Path, frames: int, seed: int = 11) -> None:
    """`frames` price_change frames over 8 tokens, 1-3 changes each, sizes with two
    decimals drawn from a wide range (few repeat), reported bests matching the book."""
    rng = random.Random(seed)
    tokens = [str(10**76 + rng.randrange(10**76)) for _ in range(8)]
    bids: dict[str, dict[int, str]] = {}
    asks: dict[str, dict[int, str]] = {}
    lines: list[str] = []
    ts = 1_760_000_000_000

    def size() -> str:
        return f"{rng.uniform(1, 20_000):.2f}"

    def price(p: int) -> str:
        return f"{p / 100:.2f}"

    for token in tokens:
        mid = rng.randrange(20, 80)
        bids[token] = {p: size() for p in range(mid - 15, mid)}
        asks[token] = {p: size() for p in range(mid + 1, mid + 16)}
        lines.append(
            json.dumps(
                {
                    "event_type": "book",
                    "asset_id": token,
                    "market": "0xm",
                    "bids": [
                        {"price": price(p), "size": s} for p, s in sorted(bids[token].items())
                    ],
                    "asks": [
                        {"price": price(p), "size": s} for p, s in sorted(asks[token].items())
                    ],
                    "timestamp": str(ts),
                    "hash": "h",
                }
            )
        )
    while len(lines) < frames:
        ts += 1
        token = rng.choice(tokens)
        changes = []
        for _ in range(rng.randint(1, 3)):
            side = rng.choice(("BUY", "SELL"))
            levels = bids[token] if side == "BUY" else asks[token]
            p = rng.choice(list(levels))
            if rng.random() < 0.1 and len(levels) > 3:
                del levels[p]
                s = "0"
            else:
                s = levels[p] = size()
            changes.append((side, p, s))
        best_bid, best_ask = max(bids[token]), min(asks[token])
        lines.append(
            json.dumps(
                {
                    "event_type": "price_change",
                    "market": "0xm",
                    "timestamp": str(ts),
                    "price_changes": [
                        {
                            "asset_id": token,
                            "price": price(p),
                            "size": s,
                            "side": side,
                            "hash": "h",
                            "best_bid": price(best_bid),
                            "best_ask": price(best_ask),
                        }
                        for side, p, s in changes
                    ],
                }
            )
        )
    path.write_text("\n".join(lines) + "\n")


def book_replay(
    root: Path, args: argparse.Namespace, env: dict[str, str], python: str | None
) -> None:
    path = root / "varied.jsonl"
    varied_sizes_file(path, args.book_frames)
    empty = root / "one.jsonl"  # start-up: the same command on a file of one frame
    empty.write_text('{"event_type": "book", "asset_id": "1", "bids": [], "asks": []}\n')
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_book import NAUTILUS_WORKER  # the same Nautilus replay as bench_book

    worker = root / "nautilus_book.py"
    worker.write_text(NAUTILUS_WORKER)
    ours: list[float] = []
    theirs: list[float] = []
    ours_cpu: list[float] = []
    theirs_cpu: list[float] = []
    frames = args.book_frames
    for _ in range(args.repeat):
        start, start_cpu, _ = timed([*POLYTERM, "book", str(empty), "--json"], env)
        whole, whole_cpu, _ = timed([*POLYTERM, "book", str(path), "--json"], env)
        ours.append(frames / max(1e-9, whole - start))
        ours_cpu.append(frames / max(1e-9, whole_cpu - start_cpu))
        if python:
            base, base_cpu, _ = timed([python, "-c", "import nautilus_trader.model.book"], env)
            whole, whole_cpu, _ = timed([python, str(worker), "process", str(path)], env)
            theirs.append(frames / max(1e-9, whole - base))
            theirs_cpu.append(frames / max(1e-9, whole_cpu - base_cpu))
    for what, mine_runs, peer_runs in (("wall", ours, theirs), ("CPU", ours_cpu, theirs_cpu)):
        mine = statistics.median(mine_runs)
        line = f"book replay, whole process, {frames:,} frames of varied sizes, {what}: "
        line += f"polyterm {mine:,.0f} frames/s"
        if peer_runs:
            peer = statistics.median(peer_runs)
            line += f", NautilusTrader {peer:,.0f} frames/s: {mine / peer:.2f}x"
        print(line + " (medians, start-up subtracted)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markets", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=300.0, help="simulated tape length")
    parser.add_argument("--tape", type=Path, help="a tape to use instead of exporting one")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--every", type=int, default=100, help="Nautilus: an order per N updates")
    parser.add_argument("--book-frames", type=int, default=200_000)
    parser.add_argument("--nautilus-python", default=os.environ.get("NAUTILUS_PYTHON"))
    args = parser.parse_args()
    python = args.nautilus_python
    if python:
        check = subprocess.run([python, "-c", "import nautilus_trader"], capture_output=True)
        if check.returncode != 0:
            print(f"{python} cannot import nautilus_trader: the comparison is skipped")
            python = None
    else:
        print("no NautilusTrader interpreter (--nautilus-python): polyterm figures only")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = env_for(root)
        off = "\n".join(f"[strategies.{n}]\nenabled = false" for n in NAMES)
        (root / "off.toml").write_text(off + "\n")
        v2, v1 = make_tapes(root, args, env)
        print(f"start: {load()}")
        start, _, _ = timed([*POLYTERM, "--help"], env)
        runs: dict[str, list[float]] = {}
        cpu_runs: dict[str, list[float]] = {}
        summaries: dict[str, dict[str, Any]] = {}
        nautilus_loop: list[float] = []
        messages = 0
        for i in range(args.repeat):
            for name, tape, strategies_off in (
                ("on v2", v2, False),
                ("off v2", v2, True),
                ("on v1", v1, False),
                ("off v1", v1, True),
            ):
                seconds, cpu, summary = polyterm_backtest(tape, root, env, strategies_off, i)
                summaries[name] = summary
                messages = int(summary["messages"])
                runs.setdefault(name, []).append(messages / seconds)
                cpu_runs.setdefault(name, []).append(messages / cpu)
                if name == "on v2" and python:
                    worker = root / "nautilus_backtest.py"
                    worker.write_text(NAUTILUS_BACKTEST)
                    command = [python, str(worker), str(v2), str(args.every)]
                    seconds, cpu, out = timed(command, env)
                    peer = json.loads(out.strip().splitlines()[-1])
                    runs.setdefault("nautilus", []).append(peer["messages"] / seconds)
                    cpu_runs.setdefault("nautilus", []).append(peer["messages"] / cpu)
                    nautilus_loop.append(peer["messages"] / peer["loop_seconds"])
        print(
            f"tape: {messages:,} messages, {args.markets} markets, {args.seconds:g} simulated s; "
            f"interpreter start-up {start:.2f}s (included below)"
        )
        for name in ("on v2", "on v1", "off v2", "off v1"):
            rate = statistics.median(runs[name])
            per_cpu = statistics.median(cpu_runs[name])
            what = "five strategies" if name.startswith("on") else "strategies off"
            print(
                f"polyterm backtest, whole command, {what}, tape {name[-2:]}: "
                f"{rate:,.0f} msg/s wall, {per_cpu:,.0f} msg/s of CPU"
            )
        if python:
            peer = statistics.median(runs["nautilus"])
            peer_cpu = statistics.median(cpu_runs["nautilus"])
            ours = statistics.median(runs["on v2"])
            ours_cpu = statistics.median(cpu_runs["on v2"])
            print(
                f"NautilusTrader BacktestEngine, whole process: {peer:,.0f} msg/s wall, "
                f"{peer_cpu:,.0f} msg/s of CPU "
                f"(engine.run() alone {statistics.median(nautilus_loop):,.0f} msg/s); "
                f"polyterm / NautilusTrader: {ours / peer:.2f}x wall, "
                f"{ours_cpu / peer_cpu:.2f}x CPU"
            )
        latency = summaries["on v2"].get("frame_to_order_us")
        print(f"frame->order (CPU time of a frame's pass, five strategies): {latency}")
        ledger = root / "rss.sqlite"
        command = [*POLYTERM, "backtest", "--tape", str(v2), "--json", "--no-progress"]
        rss = peak_rss_mb([*command, "--ledger", str(ledger)], env)
        print(f"peak RSS of the backtest ({messages:,} messages): {rss:.0f} MB")
        book_replay(root, args, env, python)
        print(f"end: {load()}")


if __name__ == "__main__":
    main()

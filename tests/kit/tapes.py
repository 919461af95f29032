"""Constructed tapes and the backtest runner over them: markets with fees, books and level
changes at given times, a scripted strategy, and a backtest of a tape into a new ledger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.adapters.tape.tape import TapeWriter
from engine.clock import SimClock
from engine.config import EngineConfig
from engine.ledger.writer import SqliteLedger
from engine.market.markets import MarketInfo, Outcome
from engine.orders import Side
from engine.runtime.backtest import replay_records
from engine.runtime.kernel import build_engine, replay_health
from engine.runtime.snapshot import EngineSnapshot
from engine.strategies.base import MarketContext, Signal, Strategy
from tests.kit.engine import FEES

FEE_MARKET = MarketInfo(
    "0xm", "Will it rain?", "rain", (Outcome("Y", "Yes"), Outcome("N", "No")), fees=FEES
)


class Scripted:
    """Buys once when flat, sells everything once the best bid reaches `exit_at`."""

    name = "scripted"
    weight = 1.0

    def __init__(self, exit_at: int = 5500, asset: str = "Y") -> None:
        self.exit_at = exit_at
        self.asset = asset
        self.bought = False

    def on_tick(self, ctx: MarketContext) -> Signal | None:
        if ctx.asset_id != self.asset:
            return None
        if ctx.position == 0 and not self.bought:
            self.bought = True
            return Signal(self.name, ctx.asset_id, Side.BUY, 1.0, "scripted entry")
        bid = ctx.book.best_bid
        if ctx.position > 0 and bid is not None and bid >= self.exit_at:
            return Signal(self.name, ctx.asset_id, Side.SELL, 1.0, "scripted exit", True)
        return None


def book_at(
    asset: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]], ts: int
) -> dict[str, Any]:
    """A ``book`` message with a timestamp and hash, as a recorder keeps them."""
    return {
        "event_type": "book",
        "asset_id": asset,
        "market": "0xm",
        "bids": [{"price": p, "size": s} for p, s in bids],
        "asks": [{"price": p, "size": s} for p, s in asks],
        "timestamp": str(ts),
        "hash": f"h{ts}",
    }


def change(ts: int, *entries: tuple[str, str, str, str]) -> dict[str, Any]:
    """A ``price_change`` of (asset, price, size, side) entries."""
    return {
        "event_type": "price_change",
        "market": "0xm",
        "timestamp": str(ts),
        "price_changes": [
            {"asset_id": a, "price": p, "size": s, "side": side} for a, p, s, side in entries
        ],
    }


def write_tape(
    path: Path, frames: list[tuple[float, object]], market: MarketInfo = FEE_MARKET
) -> Path:
    writer = TapeWriter(path)
    writer.write_markets([market], 1000.0)
    for t, frame in frames:
        writer.write_frame(json.dumps(frame), t, "ws")
    writer.close()
    return path


def opening_books(ts: int = 1_000_001_000) -> list[dict[str, Any]]:
    """YES: bids 0.48x100 | asks 0.50x20, 0.51x100; NO is its exact mirror."""
    return [
        book_at("Y", [("0.48", "100")], [("0.50", "20"), ("0.51", "100")], ts),
        book_at("N", [("0.50", "20"), ("0.49", "100")], [("0.52", "100")], ts),
    ]


EXIT_FRAME = change(
    1_000_003_000,
    ("Y", "0.50", "0", "SELL"),
    ("Y", "0.51", "0", "SELL"),
    ("Y", "0.56", "100", "SELL"),
    ("Y", "0.55", "50", "BUY"),
    ("N", "0.50", "0", "BUY"),
    ("N", "0.49", "0", "BUY"),
    ("N", "0.44", "100", "BUY"),
    ("N", "0.45", "50", "SELL"),
)


def runner_config(**strategy: object) -> EngineConfig:
    """Orders of 30 shares (caps 50), no entry cooldown, `strategy` keys on top."""
    return EngineConfig.model_validate(
        {
            "strategy": {"order_size": "30", "entry_cooldown_s": 0, **strategy},
            "risk": {"max_order_shares": "50", "max_position_shares": "50"},
        }
    )


async def backtest(
    tape: Path,
    ledger_path: Path,
    strategy: Strategy,
    cfg: EngineConfig | None = None,
) -> EngineSnapshot:
    """Replay `tape` through the kernel's engine with one strategy, into a new ledger."""
    clock = SimClock()
    ledger = await SqliteLedger(ledger_path, autocommit=False).open()
    try:
        engine = build_engine(
            cfg or runner_config(),
            clock,
            ledger,
            venue="backtest",
            health=replay_health(),
            strategies=[strategy],
        )
        runner = engine.backtest_runner(clock, ledger)
        return await runner.run(replay_records([tape]), starting_cash=engine.starting_cash)
    finally:
        await ledger.close()

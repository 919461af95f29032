"""Risk + execution cost per decision, with every cap on.

Builds the real core (as every face does, through the kernel) on a simulated clock
over 200 two-outcome markets, with the kill switch, the global and per-strategy /
per-market / per-side / per-market x side rate windows, the exposure caps and sizing all
configured, and times one decision: aggregation, the risk gate's screen, sizing, the
order's creation and its paper execution against the book, its fill into the portfolio,
and every event into the ledger's queue. Prints microseconds per decision for decisions
that become orders and for decisions the rate windows refuse.

    python benchmarks/bench_risk.py [--markets 200] [--decisions 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from engine.clock import SimClock
from engine.config import EngineConfig, Window
from engine.ledger.writer import SqliteLedger
from engine.market.health import FeedHealth, FeedSource
from engine.market.markets import MarketInfo, Outcome
from engine.orders import Side
from engine.runtime.kernel import build_engine
from engine.strategies.base import MarketContext, Signal


class _Nothing:
    name = "bench"
    weight = 1.0

    def on_tick(self, ctx: MarketContext) -> Signal | None:
        return None


async def main(markets: int, decisions: int) -> None:
    config = EngineConfig.model_validate(
        {
            "strategy": {"order_size": "5", "entry_cooldown_s": 0},
            "risk": {
                "max_order_shares": "10",
                "max_position_shares": "1000000",
                "max_market_exposure": "1000000",
                "max_event_exposure": "1000000",
                "max_total_exposure": "1000000",
                "bankroll_fraction": "1",
            },
            "paper": {"starting_cash": "100000000"},
            "trading": {
                "order_frequency": {"max_orders": 10**9, "interval_seconds": 60},
                "strategy_order_frequency": {
                    "bench": {
                        "max_orders": 10**9,
                        "interval_seconds": 60,
                        "per_market": True,
                        "per_side": True,
                        "per_market_side": True,
                    }
                },
            },
        }
    )
    infos = [
        MarketInfo(
            f"m{i}",
            f"Q{i}?",
            f"q{i}",
            (Outcome(f"y{i}", "Yes"), Outcome(f"n{i}", "No")),
            event_id=f"e{i // 4}",
        )
        for i in range(markets)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        clock = SimClock(1_000_000.0)
        health = FeedHealth()
        health.set_source(FeedSource.REPLAY, 0.0)
        ledger = await SqliteLedger(Path(tmp) / "b.sqlite", autocommit=False).open()
        parts = build_engine(
            config, clock, ledger, venue="bench", health=health, strategies=[_Nothing()]
        )
        core = parts.core
        parts.backtest_runner(clock, ledger)  # places each order on the paper exchange at once
        await ledger.start_run("paper", "bench", "{}", clock.time(), parts.starting_cash)
        core.start(1)
        core.on_markets(infos)
        for i, m in enumerate(infos):
            for token, (bid, ask) in zip(
                m.token_ids, (("0.48", "0.50"), ("0.50", "0.52")), strict=True
            ):
                core.on_frame(
                    json.dumps(
                        {
                            "event_type": "book",
                            "asset_id": token,
                            "market": m.condition_id,
                            "bids": [{"price": bid, "size": "1000000"}],
                            "asks": [{"price": ask, "size": "1000000"}],
                            "timestamp": str(1_000_000_000 + i),
                            "hash": "",
                        }
                    ),
                    clock.time(),
                )
        core.decide()
        books = core.intake.books.books

        def one(i: int) -> None:
            m = infos[i % markets]
            token = m.token_ids[0]
            signal = Signal("bench", token, Side.BUY, 1.0, "bench")
            core._on_signals([signal], m, books[token], clock.monotonic())

        for i in range(200):  # warm up
            one(i)
        started = time.perf_counter()
        for i in range(decisions):
            one(i)
        accepted = (time.perf_counter() - started) / decisions * 1e6
        orders = core.counts["entry_orders"]
        await ledger.flush()
        # Now make the per-market x side window refuse everything: the refusal path.
        gate = core.parts.screen.gate
        limiter = gate.limiter
        for m in infos:
            for _ in range(3):
                limiter.record("bench", m.condition_id, Side.BUY, clock.time())
        tight = config.trading.model_copy(
            update={
                "strategy_order_frequency": {
                    "bench": config.trading.strategy_order_frequency["bench"].model_copy(
                        update={"per_market_side": Window(max_orders=1, interval_seconds=60)}
                    )
                }
            }
        )
        from engine.risk.rate_limits import OrderRateLimiter

        refuser = OrderRateLimiter(tight)
        for m in infos:
            refuser.record("bench", m.condition_id, Side.BUY, clock.time())
        gate.limiter = refuser  # the refusal path, on the same warmed engine
        started = time.perf_counter()
        for i in range(decisions):
            one(i)
        refused = (time.perf_counter() - started) / decisions * 1e6
        await ledger.close()
    print(f"{markets} markets, all caps on; {decisions:,} decisions each way")
    print(
        f"decision -> order -> paper fill -> portfolio + events: {accepted:.1f} us "
        f"({orders:,} orders)"
    )
    print(f"decision refused by a rate window (screen + audit events): {refused:.1f} us")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--markets", type=int, default=200)
    parser.add_argument("--decisions", type=int, default=20_000)
    args = parser.parse_args()
    asyncio.run(main(args.markets, args.decisions))

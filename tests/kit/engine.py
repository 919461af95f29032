"""An engine on a bench: the kernel's engine on a simulated clock and a real SQLite ledger,
its orders answered at once by the paper exchange (as the backtest runner does with no
latency), frames fed as JSON messages.

    rig = await open_rig(tmp_path / "l.sqlite", [strategy])
    made = rig.frame(book(...), book(...))  # apply, then one decision pass
    rig.tick(5.0)  # time passes: housekeeping (exits, expiries, baskets, the kill switch)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.clock import SimClock
from engine.config import EngineConfig
from engine.fixed import ONE
from engine.ledger.writer import SqliteLedger
from engine.market.fees import FeeSchedule
from engine.market.markets import MarketInfo, Outcome
from engine.orders import OrderRequest, Side
from engine.ports import OrderGateway
from engine.runtime.kernel import Engine, Resume, build_engine, replay_health
from engine.strategies.base import Basket, Leg, MarketContext, Signal, Strategy

T0 = 1_700_000_000.0
MARKET = MarketInfo(
    "0xm", "Will it rain in Paris?", "rain", (Outcome("Y", "Yes"), Outcome("N", "No"))
)
FEES = FeeSchedule(Decimal("0.25"), Decimal("2"))


def engine_config(cfg: dict[str, Any] | None = None, *, sentiment: bool = False) -> EngineConfig:
    """Defaults with a 10-share order size and no entry cooldown, `cfg` merged on top
    (by section); sentiment off unless asked for."""
    base: dict[str, Any] = {"strategy": {"order_size": "10", "entry_cooldown_s": 0}}
    for section, values in (cfg or {}).items():
        if isinstance(values, dict) and isinstance(base.get(section), dict):
            base[section] = {**base[section], **values}
        else:
            base[section] = values
    config = EngineConfig.model_validate(base)
    if not sentiment:
        config = config.model_copy(
            update={"sentiment": config.sentiment.model_copy(update={"enabled": False})}
        )
    return config


def book(
    asset: str,
    bids: Sequence[tuple[str, str]],
    asks: Sequence[tuple[str, str]],
    market: str = "0xm",
    ts: int = 1,
) -> dict[str, Any]:
    """A market-channel ``book`` message."""
    return {
        "event_type": "book",
        "asset_id": asset,
        "market": market,
        "bids": [{"price": p, "size": s} for p, s in bids],
        "asks": [{"price": p, "size": s} for p, s in asks],
        "timestamp": str(ts),
    }


def level(asset: str, price: str, size: str, side: str, market: str = "0xm") -> dict[str, Any]:
    """A ``price_change`` message for one level."""
    return {
        "event_type": "price_change",
        "market": market,
        "timestamp": "2",
        "price_changes": [{"asset_id": asset, "price": price, "size": size, "side": side}],
    }


def trade(asset: str, price: str, size: str, side: str, market: str = "0xm") -> dict[str, Any]:
    """A ``last_trade_price`` message (a print; `side` is the taker's)."""
    return {
        "event_type": "last_trade_price",
        "asset_id": asset,
        "market": market,
        "price": price,
        "size": size,
        "side": side,
        "timestamp": "3",
    }


def resolved(market: str, winner: str) -> dict[str, Any]:
    return {
        "event_type": "market_resolved",
        "market": market,
        "winning_asset_id": winner,
        "winning_outcome": "Yes",
        "timestamp": "4",
    }


class Once:
    """A strategy that returns what `make` gives once (a signal or a basket), then nothing;
    it keeps every context it was shown."""

    def __init__(self, name: str, weight: float, make: Callable[[MarketContext], Any]) -> None:
        self.name = name
        self.weight = weight
        self.make = make
        self.seen: list[MarketContext] = []
        self.fired = False

    def on_tick(self, ctx: MarketContext) -> Signal | Basket | None:
        self.seen.append(ctx)
        if self.fired:
            return None
        out = self.make(ctx)
        if out is not None:
            self.fired = True
        return out  # type: ignore[no-any-return]


OPEN = (
    book("Y", [("0.40", "100")], [("0.42", "100")]),
    book("N", [("0.56", "100")], [("0.58", "100")]),
)


class Rig:
    """The engine, and the outbound its order manager sends through: each order is
    placed on the paper exchange at once (or held, with ``hold=True``, until
    :meth:`release`), each cancel answered at once."""

    def __init__(self, engine: Engine, clock: SimClock, ledger: SqliteLedger) -> None:
        self.engine = engine
        self.core = engine.core
        self.parts = engine.core.parts
        self.clock = clock
        self.ledger = ledger
        self.sent: list[OrderRequest] = []
        self.cancelled: list[str] = []
        self.hold = False
        self.held: list[OrderRequest] = []
        self.core.oms.bind(self)

    # -- the order manager's outbound -------------------------------------------------------
    def send(self, order: OrderRequest) -> None:
        self.sent.append(order)
        if self.hold:
            self.held.append(order)
            return
        self._place(order)

    def send_cancel(self, order_id: str, reason: str) -> None:
        self.cancelled.append(order_id)
        gateway = self.engine.gateway
        withdraw = getattr(gateway, "withdraw", None)
        if withdraw is not None:
            self.core.oms.on_reports(withdraw(order_id, self.clock.time(), reason))

    def release(self) -> None:
        """Orders held back reach the venue now."""
        held, self.held = self.held, []
        for order in held:
            self._place(order)

    def _place(self, order: OrderRequest) -> None:
        place = getattr(self.engine.gateway, "place", None)
        if place is not None:
            self.core.oms.on_reports(place(order, self.clock.time()))

    # -- driving it --------------------------------------------------------------------------
    def feed(self, *messages: dict[str, Any]) -> None:
        """Apply one frame of `messages` (no decision pass)."""
        self.core.on_frame(json.dumps(list(messages)), self.clock.time())

    def frame(self, *messages: dict[str, Any]) -> int:
        """Apply one frame, then a decision pass; returns the orders it made."""
        self.feed(*messages)
        return self.core.decide()

    def tick(self, seconds: float) -> None:
        """Let `seconds` pass, then run the core's housekeeping."""
        self.clock.advance_to(self.clock.time() + seconds)
        self.core.on_timer()

    # -- reading it --------------------------------------------------------------------------
    def position(self, asset_id: str) -> int:
        return self.core.accounting.portfolio.position(asset_id)

    @property
    def cash(self) -> int:
        return self.core.accounting.portfolio.cash

    def open_orders(self) -> list[str]:
        return self.core.oms.open_ids()

    async def close(self) -> None:
        await self.ledger.close()


async def open_rig(
    path: Path,
    strategies: list[Strategy] | None = None,
    cfg: dict[str, Any] | EngineConfig | None = None,
    *,
    sentiment: bool = False,
    markets: Sequence[MarketInfo] = (MARKET,),
    start: bool = True,
    gateway: OrderGateway | None = None,
    resume: Resume | None = None,
    t0: float = T0,
) -> Rig:
    """A rig on a new ledger at `path` (the ledger's run started, the markets listed)."""
    clock = SimClock(t0)
    ledger = await SqliteLedger(path, autocommit=False).open()
    config = cfg if isinstance(cfg, EngineConfig) else engine_config(cfg, sentiment=sentiment)
    engine = build_engine(
        config,
        clock,
        ledger,
        venue="t",
        health=replay_health(),
        gateway=gateway,
        strategies=strategies if strategies is not None else [],
        resume=resume,
    )
    rig = Rig(engine, clock, ledger)
    if start:
        run = await ledger.start_run("paper", "t", "{}", t0, engine.starting_cash)
        rig.core.start(run)
        if markets:
            rig.core.on_markets(list(markets))
    return rig


def pair(size: int, yes: int = 4200, no: int = 5200) -> Basket:
    cost = yes + no
    return Basket(
        "arb",
        "yes_no",
        "0xm",
        (Leg("Y", "0xm", Side.BUY, yes, size), Leg("N", "0xm", Side.BUY, no, size)),
        cost,
        ONE,
        (ONE - cost) * 10_000 / cost,
        "asks below 1",
    )


class BasketOnce:
    name = "arb"
    weight = 1.0

    def __init__(self, basket: Basket) -> None:
        self.basket = basket
        self.fired = False

    def on_tick(self, ctx: MarketContext) -> Basket | None:
        if self.fired or ctx.asset_id != "Y":
            return None
        self.fired = True
        return self.basket

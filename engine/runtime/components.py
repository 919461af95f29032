"""The parts the core drives, as the kernel hands them over, and the core's record of the
latest decision on each token."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from engine.decisions import Decision
from engine.execution.accounting import Accounting
from engine.execution.attribution import Attribution
from engine.execution.flatten import Flattener
from engine.execution.oms import OrderManager
from engine.logbook import Logbook
from engine.market.prints import RecentPrints
from engine.market.registry import MarketRegistry
from engine.orders import Side, StrategyId
from engine.risk.entry import EntryScreen
from engine.risk.refusals import Refusals
from engine.runtime.baskets import BasketDesk
from engine.runtime.contexts import ContextFactory
from engine.runtime.data import DataIntake
from engine.runtime.exits import ExitDesk
from engine.runtime.guard import KillSwitchWatch
from engine.runtime.manual import ManualDesk
from engine.runtime.restart import Restart
from engine.runtime.roster import Roster


class LastSignal(msgspec.Struct, frozen=True):
    """The latest decision on a token: who signalled, which way, and what came of it."""

    at: float
    strategies: StrategyId
    side: Side
    is_exit: bool
    decision: Decision
    order_id: str | None


@dataclass(frozen=True, slots=True)
class Components:
    """The parts the core drives (the kernel builds them)."""

    intake: DataIntake
    registry: MarketRegistry
    oms: OrderManager
    accounting: Accounting
    attribution: Attribution
    screen: EntryScreen
    refusals: Refusals
    exits: ExitDesk
    flattener: Flattener
    baskets: BasketDesk
    restart: Restart
    contexts: ContextFactory
    prints: RecentPrints
    manual: ManualDesk
    guard: KillSwitchWatch
    roster: Roster
    logbook: Logbook

"""What a face may send the engine, and what it gets back: the commands' value types.

Faces import these (and the snapshot types) and nothing deeper: the runners' commands
take and return only what is here.
"""

from __future__ import annotations

from engine.execution.flatten import FlattenPlan, FlattenReport, FlattenScope, PlannedClose
from engine.risk.kill_switch import KillSwitchState
from engine.runtime.manual import ManualOrder, ManualOutcome
from engine.runtime.state import EngineState

__all__ = [
    "EngineState",
    "KillSwitchState",
    "FlattenPlan",
    "FlattenReport",
    "FlattenScope",
    "ManualOrder",
    "ManualOutcome",
    "PlannedClose",
]

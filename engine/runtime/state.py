"""The engine's state: one enum every face compares against (never its text)."""

from __future__ import annotations

from enum import StrEnum


class EngineState(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"  # no new entries; exits, cancels and settlement go on
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"

    @property
    def trading(self) -> bool:
        """Orders may still be decided (running or paused)."""
        # By identity: the runner asks on every loop turn.
        return self is EngineState.RUNNING or self is EngineState.PAUSED

    @property
    def done(self) -> bool:
        return self in (EngineState.STOPPED, EngineState.FAILED)

"""The daily-loss kill switch: a pure, synchronous state machine the engine core drives.

The core calls :meth:`KillSwitch.update` with the account's equity (cash plus positions
marked at best bid, cash units) on its housekeeping timer and after fills; the switch
answers with the :class:`~engine.events.KillSwitchChanged` events of its transitions (at
most one per call, none when nothing changed), which the core records in the ledger. It
reads no clock: every time is an argument (unix seconds from the engine's Clock).

States (``KillSwitchState``)::

    ARMED --loss >= limit--> TRIPPED --next update--> COOLDOWN --expiry passed, loss < limit-->
      ^                        ^                                                     RECOVERING
      |                        +------- loss >= limit again (same day, same baseline) ---+
      +-- new trading day (any state but a kill: ARMED, new baseline), or reset() -------+

    kill(), from any state --> TRIPPED with no expiry: a latch that survives new days and
    restarts --> reset() --> ARMED

* ARMED: entries allowed at full size.
* TRIPPED: entries blocked and no expiry running. Either the trip itself (the state of the
  update that hit the limit, where a flatten is requested; the next update starts the
  cooldown), or a manual kill (``killed_by`` set, ``cooldown_until`` None) until reset.
* COOLDOWN: entries blocked, waiting for ``cooldown_until``. The cooldown ends once that
  time has passed *and* the loss is back under the limit: re-arming over the limit would
  only trip again on the same update (and flatten again, every cooldown period), so the
  switch holds here instead -- until the marks recover or the day ends. (A cooldown of
  0 minutes goes from TRIPPED straight to RECOVERING on the next update if it can.)
* RECOVERING: entries allowed, sizes scaled by ``daily_loss_recovery_ratio`` at the
  re-arm, ramping linearly to 1.0 at the end of the trading day (the next reset hour),
  when a new day re-arms it fully. The baseline is not reset: a loss that reaches the limit
  again the same day trips again (with a new trip time and cooldown).

The trading day begins at ``daily_loss_reset_hour`` UTC; its first update takes the
equity as the day's baseline (reason "start" on a fresh switch, "new day" after). The
limit is ``baseline * daily_loss_limit_pct / 100`` in cash units, rounded down, computed
exactly (no float touches money); the loss is ``max(0, baseline - equity)``. A trip needs
a loss of at least one cash unit, so a zero limit (a baseline of 0) does not trip on a
flat account. With ``daily_loss_enabled`` off the switch is always ARMED at scale 1 and
never trips, but still reports loss and limit; a manual kill still latches (it is a
command, not the daily-loss rule).

States change only in update(), kill() and reset(): ``allows_entries(now)``,
``entry_scale(now)`` and ``view(now)`` read the state as the last of those left it, and use
``now`` only for the recovery ramp. Before its first update a fresh switch is ARMED with
no baseline (loss and limit 0): it cannot trip until update() takes one, so the core
updates it once at start.

**Flatten on trip.** Every trip returns exactly one event with reason "trip" (state
"tripped"), so a core may flatten on that event when ``flatten_on_trip`` is set. The switch
also keeps the request itself: ``take_flatten()`` returns True once after a trip when
``flatten_on_trip`` is set, then False until the next trip (``flatten_pending`` reads it
without taking it). It survives a restart where the event could not: a switch restored
from the TRIPPED row of an automatic trip (the process stopped within an update of the
trip, perhaps before it flattened) requests the flatten again. Use one of the two, not
both. A manual kill is flatten + latch, but the flatten is the caller's: kill() is a
command, and whoever issues it flattens at once (it does not set take_flatten()).

**Restart.** ``KillSwitch(config, restored=<the ledger's latest KillSwitchChanged>)``
carries on where the row left off: same state, baseline and day, same trip time and
cooldown expiry, the kill latch and who set it, the recovery ramp (from the re-arm row's
time and scale). Only the limit is recomputed from the baseline with the current config.
A row from an earlier trading day rolls to the new day at the first update (a kill latch
stays). Rows written while a kill latch holds carry the killer in ``who``, so the latch's
owner survives the restart; automatic moves otherwise say "engine".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from engine.config import TradingConfig
from engine.events import KillSwitchChanged

__all__ = ["DAY_SECONDS", "KillSwitch", "KillSwitchState", "KillSwitchView", "day_start_of"]

DAY_SECONDS = 86_400  # unix time has no leap seconds: every UTC day is this long
ENGINE = "engine"


class KillSwitchState(StrEnum):
    ARMED = "armed"
    TRIPPED = "tripped"
    COOLDOWN = "cooldown"
    RECOVERING = "recovering"


_ARMED = KillSwitchState.ARMED
_TRIPPED = KillSwitchState.TRIPPED
_COOLDOWN = KillSwitchState.COOLDOWN
_RECOVERING = KillSwitchState.RECOVERING
_NOTHING: tuple[KillSwitchChanged, ...] = ()


@dataclass(frozen=True, slots=True)
class KillSwitchView:
    """The switch as a person watches it (snapshots, the summary). Money in cash units."""

    state: KillSwitchState
    baseline: int  # equity at the start of the trading day (0 before the first update)
    loss: int  # max(0, baseline - the last equity seen)
    limit: int  # the loss that trips it
    tripped_at: float | None  # the trip (or kill) that blocks entries, if any
    cooldown_until: float | None  # None: no cooldown running (or a manual kill)
    recovery_scale: float  # entry size scale now: 0 blocked, ratio..1 recovering, 1 armed
    day_start: float  # when the current trading day began (unix seconds)
    next_reset: float  # when the next trading day begins
    killed_by: str | None  # who set the manual kill latch (None: no kill)
    enabled: bool  # daily_loss_enabled: False, the switch never trips on its own


def day_start_of(now: float, reset_hour: int) -> float:
    """The start of the trading day holding `now`: the latest reset hour (UTC) <= now."""
    offset = reset_hour * 3600
    return (now - offset) // DAY_SECONDS * DAY_SECONDS + offset


class KillSwitch:
    """The daily-loss kill switch (see the module docstring for its states)."""

    __slots__ = (
        "_baseline",
        "_cooldown_s",
        "_cooldown_until",
        "_day_end",
        "_day_start",
        "_enabled",
        "_equity",
        "_flatten",
        "_flatten_on_trip",
        "_has_baseline",
        "_killed_by",
        "_limit",
        "_limit_den",
        "_limit_num",
        "_next_check",
        "_ramp_from",
        "_ramp_start",
        "_ratio",
        "_reset_hour",
        "_state",
        "_trip_line",
        "_tripped_at",
    )

    def __init__(self, config: TradingConfig, *, restored: KillSwitchChanged | None = None) -> None:
        self._enabled = config.daily_loss_enabled
        # The percentage as an exact fraction (5.0 -> 5, 2.5 -> 5/2): limits are exact ints.
        pct = Fraction(str(config.daily_loss_limit_pct))
        self._limit_num = pct.numerator
        self._limit_den = pct.denominator * 100
        self._cooldown_s = config.daily_loss_cooldown_minutes * 60.0
        self._reset_hour = config.daily_loss_reset_hour
        self._ratio = config.daily_loss_recovery_ratio
        self._flatten_on_trip = config.flatten_on_trip
        self._state = _ARMED
        self._has_baseline = False
        self._baseline = 0
        self._equity = 0
        self._limit = 0
        self._trip_line = 0  # equity at or below this trips (baseline - max(limit, 1))
        self._day_start = 0.0
        self._day_end = 0.0
        # update() takes its slow path (a new day, or the first call) once now reaches this.
        self._next_check = float("-inf")
        self._tripped_at: float | None = None
        self._cooldown_until: float | None = None
        self._ramp_start = 0.0
        self._ramp_from = 1.0
        self._killed_by: str | None = None
        self._flatten = False
        if restored is not None:
            self._restore(restored)

    def _restore(self, row: KillSwitchChanged) -> None:
        state = KillSwitchState(row.state)  # ValueError for a state it does not know
        if state is _COOLDOWN and row.cooldown_until is None:
            raise ValueError(f"kill switch row at {row.at} is in cooldown with no expiry")
        if state is not _ARMED and state is not _RECOVERING and row.tripped_at is None:
            raise ValueError(f"kill switch row at {row.at} is {state} with no trip time")
        self._state = state
        self._has_baseline = True
        self._set_baseline(row.baseline, row.day_start)
        self._equity = row.baseline - row.loss
        self._tripped_at = row.tripped_at
        self._cooldown_until = row.cooldown_until
        if state is _TRIPPED and row.cooldown_until is None:
            self._killed_by = row.who
        elif state is _TRIPPED:
            self._flatten = self._flatten_on_trip  # it may have stopped before flattening
        if state is _RECOVERING:
            self._ramp_start = row.at
            self._ramp_from = min(1.0, max(0.0, row.recovery_scale))

    # -- the engine's calls ---------------------------------------------------------------
    def update(self, equity: int, now: float) -> tuple[KillSwitchChanged, ...]:
        """Mark the switch to `equity` at `now`; returns the transition's event, if any.

        At most one event per call: the first baseline or a new day's ("start" / "new
        day"), a trip, the start of the cooldown, or the re-arm. Cheap when nothing
        changes (a few comparisons, no allocation).
        """
        self._equity = equity
        if now >= self._next_check:
            event = self._begin_day(equity, now)
            if event is not None:
                return (event,)
        state = self._state
        if state is _ARMED or state is _RECOVERING:
            if equity <= self._trip_line and self._enabled:
                return (self._trip(now),)
            return _NOTHING
        if state is _TRIPPED:
            if self._killed_by is not None:
                return _NOTHING
            if self._cooling_done(equity, now):
                return (self._rearm(now),)
            self._state = _COOLDOWN
            return (self._event(now, "cooldown"),)
        if self._cooling_done(equity, now):  # COOLDOWN
            return (self._rearm(now),)
        return _NOTHING

    def allows_entries(self, now: float) -> bool:
        """May a new position be opened or added to? (Exits, cancels and settlement always
        may, whatever the switch says.)"""
        state = self._state
        return state is _ARMED or state is _RECOVERING

    def entry_scale(self, now: float) -> float:
        """The factor for entry sizes: 0 while blocked, the recovery ramp (ratio at the
        re-arm, 1.0 at the next reset hour) while recovering, 1 when armed."""
        state = self._state
        if state is _ARMED:
            return 1.0
        if state is not _RECOVERING:
            return 0.0
        span = self._day_end - self._ramp_start
        if span <= 0.0 or now >= self._day_end:
            return 1.0
        start = self._ramp_from
        done = (now - self._ramp_start) / span
        if done <= 0.0:
            return start
        return start + (1.0 - start) * done

    def take_flatten(self) -> bool:
        """True once after a trip when ``flatten_on_trip`` is set: flatten now."""
        flatten, self._flatten = self._flatten, False
        return flatten

    @property
    def flatten_pending(self) -> bool:
        """Whether take_flatten() would return True (read without taking it)."""
        return self._flatten

    @property
    def state(self) -> KillSwitchState:
        return self._state

    def kill(self, now: float, who: str) -> KillSwitchChanged:
        """Manual kill: block entries; the latch holds across new days and restarts until
        reset(). The caller flattens (a kill is flatten + latch)."""
        if not self._has_baseline:
            self._day_start = day_start_of(now, self._reset_hour)
            self._day_end = self._day_start + DAY_SECONDS
        self._state = _TRIPPED
        self._killed_by = who
        self._tripped_at = now
        self._cooldown_until = None
        return self._event(now, "kill")

    def reset(self, now: float, who: str, equity: int) -> KillSwitchChanged:
        """Explicit re-arm (clears a kill or a trip): ARMED, a new baseline of `equity` in
        the trading day holding `now`. Recorded with `who`."""
        self._has_baseline = True
        self._equity = equity
        self._set_baseline(equity, day_start_of(now, self._reset_hour))
        self._next_check = self._day_end
        self._state = _ARMED
        self._killed_by = None
        self._tripped_at = None
        self._cooldown_until = None
        self._flatten = False
        return self._event(now, "reset", who)

    def view(self, now: float) -> KillSwitchView:
        return KillSwitchView(
            state=self._state,
            baseline=self._baseline,
            loss=self._loss(),
            limit=self._limit,
            tripped_at=self._tripped_at,
            cooldown_until=self._cooldown_until,
            recovery_scale=self.entry_scale(now),
            day_start=self._day_start,
            next_reset=self._day_end,
            killed_by=self._killed_by,
            enabled=self._enabled,
        )

    # -- transitions ----------------------------------------------------------------------
    def _begin_day(self, equity: int, now: float) -> KillSwitchChanged | None:
        """The slow path: the first update, or now has reached the next reset hour."""
        day = day_start_of(now, self._reset_hour)
        if self._has_baseline and day <= self._day_start:
            # The first update after a restore, the same trading day: carry on.
            self._next_check = self._day_end
            if not self._enabled and self._state is not _ARMED and self._killed_by is None:
                return self._arm(now, "disabled")
            return None
        reason = "new day" if self._has_baseline else "start"
        self._has_baseline = True
        self._set_baseline(equity, day)
        self._next_check = self._day_end
        if self._killed_by is not None:
            return self._event(now, reason)  # the kill latch holds, its trip time too
        return self._arm(now, reason)

    def _arm(self, now: float, reason: str) -> KillSwitchChanged:
        self._state = _ARMED
        self._tripped_at = None
        self._cooldown_until = None
        return self._event(now, reason)

    def _trip(self, now: float) -> KillSwitchChanged:
        self._state = _TRIPPED
        self._tripped_at = now
        self._cooldown_until = now + self._cooldown_s
        if self._flatten_on_trip:
            self._flatten = True
        return self._event(now, "trip")

    def _cooling_done(self, equity: int, now: float) -> bool:
        until = self._cooldown_until
        return until is not None and now >= until and equity > self._trip_line

    def _rearm(self, now: float) -> KillSwitchChanged:
        self._state = _RECOVERING
        self._ramp_start = now
        self._ramp_from = self._ratio
        return self._event(now, "re-armed")

    def _set_baseline(self, baseline: int, day_start: float) -> None:
        self._baseline = baseline
        self._limit = max(0, baseline) * self._limit_num // self._limit_den
        self._trip_line = baseline - max(self._limit, 1)
        self._day_start = day_start
        self._day_end = day_start + DAY_SECONDS

    def _loss(self) -> int:
        if not self._has_baseline:
            return 0
        return max(0, self._baseline - self._equity)

    def _event(self, now: float, reason: str, who: str | None = None) -> KillSwitchChanged:
        if who is None:
            who = self._killed_by if self._killed_by is not None else ENGINE
        return KillSwitchChanged(
            at=now,
            state=self._state.value,
            day_start=self._day_start,
            baseline=self._baseline,
            loss=self._loss(),
            limit=self._limit,
            tripped_at=self._tripped_at,
            cooldown_until=self._cooldown_until,
            recovery_scale=self.entry_scale(now),
            reason=reason,
            who=who,
        )

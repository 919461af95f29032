"""The daily-loss kill switch: every transition with hand-computed numbers, restarts from
the last recorded event, and properties over random equity paths."""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec.structs import replace as struct_replace

from engine.config import TradingConfig
from engine.events import KillSwitchChanged
from engine.risk.kill_switch import (
    DAY_SECONDS,
    KillSwitch,
    KillSwitchState,
    KillSwitchView,
    day_start_of,
)
from tests.kit.hypothesis import examples

U = 10**10  # one USDC in cash units
D0 = 1_700_006_400.0  # 2023-11-15T00:00:00Z, a trading day's start at reset hour 0
H = 3600.0
ARMED, TRIPPED = KillSwitchState.ARMED, KillSwitchState.TRIPPED
COOLDOWN, RECOVERING = KillSwitchState.COOLDOWN, KillSwitchState.RECOVERING


def config(**changes: object) -> TradingConfig:
    fields: dict[str, object] = {
        "daily_loss_limit_pct": 5.0,
        "daily_loss_cooldown_minutes": 60.0,
        "daily_loss_reset_hour": 0,
        "daily_loss_recovery_ratio": 0.5,
    }
    fields.update(changes)
    return TradingConfig.model_validate(fields)


def started(cfg: TradingConfig | None = None, at: float = D0 + H) -> KillSwitch:
    """A switch whose day began with 1000 USDC (limit 50 USDC)."""
    ks = KillSwitch(cfg or config())
    (event,) = ks.update(1000 * U, at)
    assert (event.reason, event.baseline, event.limit) == ("start", 1000 * U, 50 * U)
    return ks


def one(events: tuple[KillSwitchChanged, ...]) -> KillSwitchChanged:
    assert len(events) == 1, events
    return events[0]


# -- the day's baseline ------------------------------------------------------------------
def test_the_first_update_takes_the_baseline() -> None:
    ks = KillSwitch(config())
    assert ks.allows_entries(D0)  # armed, just not measuring yet
    assert ks.view(D0).baseline == 0
    event = one(ks.update(1000 * U, D0 + 9.5 * H))
    assert event == KillSwitchChanged(
        at=D0 + 9.5 * H,
        state="armed",
        day_start=D0,
        baseline=1000 * U,
        loss=0,
        limit=50 * U,
        tripped_at=None,
        cooldown_until=None,
        recovery_scale=1.0,
        reason="start",
        who="engine",
    )
    # Nothing changed, nothing returned: not one event per call.
    assert ks.update(1000 * U, D0 + 9.6 * H) == ()
    assert ks.update(990 * U, D0 + 9.7 * H) == ()
    assert ks.view(D0 + 9.7 * H) == KillSwitchView(
        state=ARMED,
        baseline=1000 * U,
        loss=10 * U,
        limit=50 * U,
        tripped_at=None,
        cooldown_until=None,
        recovery_scale=1.0,
        day_start=D0,
        next_reset=D0 + DAY_SECONDS,
        killed_by=None,
        enabled=True,
    )


def test_the_trading_day_begins_at_the_reset_hour_utc() -> None:
    assert day_start_of(D0, 0) == D0
    assert day_start_of(D0 - 0.001, 0) == D0 - DAY_SECONDS
    assert day_start_of(D0 + 5.99 * H, 6) == D0 - 18 * H  # before 06:00: yesterday's day
    assert day_start_of(D0 + 6 * H, 6) == D0 + 6 * H
    ks = started(config(daily_loss_reset_hour=6), at=D0 + 5 * H)
    assert ks.view(D0 + 5 * H).next_reset == D0 + 6 * H
    assert ks.update(900 * U, D0 + 6 * H - 0.1) != ()  # still yesterday's day: a trip
    event = one(ks.update(900 * U, D0 + 6 * H))
    assert (event.reason, event.state, event.day_start) == ("new day", "armed", D0 + 6 * H)
    assert (event.baseline, event.limit, event.loss) == (900 * U, 45 * U, 0)


def test_the_limit_is_exact_in_cash_units_rounded_down() -> None:
    ks = KillSwitch(config(daily_loss_limit_pct=2.5))
    baseline = 123_456_789_012_345_678_901  # beyond a float's exact range
    event = one(ks.update(baseline, D0))
    assert event.limit == baseline * 25 // 1000
    assert Decimal(event.limit) == (Decimal(baseline) * Decimal("0.025")).to_integral_value(
        rounding=ROUND_FLOOR
    )
    assert ks.update(baseline - event.limit + 1, D0 + 1) == ()
    assert one(ks.update(baseline - event.limit, D0 + 2)).reason == "trip"


# -- trip, cooldown, recovery --------------------------------------------------------------
def test_trips_when_the_loss_reaches_the_limit_not_before() -> None:
    ks = started()
    t = D0 + 10 * H
    assert ks.update(951 * U, t) == ()  # loss 49: armed
    assert ks.update(950 * U + 1, t + 1) == ()  # one cash unit short of the limit
    assert ks.allows_entries(t + 1)
    event = one(ks.update(950 * U, t + 2))  # loss 50 = limit
    assert event == KillSwitchChanged(
        at=t + 2,
        state="tripped",
        day_start=D0,
        baseline=1000 * U,
        loss=50 * U,
        limit=50 * U,
        tripped_at=t + 2,
        cooldown_until=t + 2 + H,
        recovery_scale=0.0,
        reason="trip",
        who="engine",
    )
    assert ks.state is TRIPPED
    assert not ks.allows_entries(t + 2)
    assert ks.entry_scale(t + 2) == 0.0


def test_cooldown_then_recovering_at_the_right_instants() -> None:
    ks = started()
    trip = D0 + 10 * H
    one(ks.update(940 * U, trip))
    # The next update starts the cooldown (the trip's own update is TRIPPED).
    event = one(ks.update(945 * U, trip + 0.1))
    assert (event.state, event.reason, event.tripped_at) == ("cooldown", "cooldown", trip)
    assert event.cooldown_until == trip + H
    assert ks.update(960 * U, trip + H - 0.1) == ()  # under the limit, but still cooling
    assert not ks.allows_entries(trip + H - 0.1)
    event = one(ks.update(960 * U, trip + H))  # 60 minutes after the trip
    assert (event.state, event.reason, event.recovery_scale) == ("recovering", "re-armed", 0.5)
    assert (event.tripped_at, event.cooldown_until, event.loss) == (trip, trip + H, 40 * U)
    assert ks.allows_entries(trip + H)
    # Re-armed at 11:00; the next reset is 24:00 (13 h later): a linear ramp 0.5 -> 1.0.
    assert ks.entry_scale(trip + H) == 0.5
    assert ks.entry_scale(trip + H + 6.5 * H) == 0.75
    assert ks.entry_scale(D0 + 24 * H - 13 * H / 10) == pytest.approx(0.95)
    assert ks.entry_scale(D0 + 24 * H) == 1.0
    assert ks.view(trip + H + 6.5 * H).recovery_scale == 0.75
    assert ks.update(960 * U, trip + 5 * H) == ()  # recovering quietly
    # The new day re-arms fully, with a new baseline.
    event = one(ks.update(970 * U, D0 + 24 * H))
    assert (event.state, event.reason, event.day_start) == ("armed", "new day", D0 + 24 * H)
    assert (event.baseline, event.limit, event.loss, event.recovery_scale) == (
        970 * U,
        485 * U // 10,
        0,
        1.0,
    )
    assert (event.tripped_at, event.cooldown_until) == (None, None)


def test_a_cooldown_holds_while_the_loss_is_still_at_the_limit() -> None:
    ks = started()
    trip = D0 + 2 * H
    one(ks.update(940 * U, trip))
    one(ks.update(940 * U, trip + 1))
    assert ks.update(940 * U, trip + H) == ()  # expired, but re-arming would trip again
    assert ks.update(950 * U, trip + 3 * H) == ()  # loss 50: still at the limit
    assert ks.state is COOLDOWN
    event = one(ks.update(951 * U, trip + 4 * H))
    assert (event.state, event.reason) == ("recovering", "re-armed")
    # The ramp starts at the re-arm (06:00), not at the expiry: 0.5 there, 1.0 at 24:00.
    assert ks.entry_scale(trip + 4 * H) == 0.5
    assert ks.entry_scale(trip + 4 * H + 9 * H) == 0.75


def test_a_zero_minute_cooldown_rearms_on_the_next_update() -> None:
    ks = started(config(daily_loss_cooldown_minutes=0))
    trip = D0 + 2 * H
    event = one(ks.update(900 * U, trip))
    assert event.cooldown_until == trip
    event = one(ks.update(900 * U, trip + 0.1))  # still over the limit: cooldown
    assert event.state == "cooldown"
    assert one(ks.update(960 * U, trip + 0.2)).state == "recovering"
    ks2 = started(config(daily_loss_cooldown_minutes=0))
    one(ks2.update(900 * U, trip))
    assert one(ks2.update(960 * U, trip + 0.1)).state == "recovering"  # straight back


def test_a_second_loss_the_same_day_trips_again_against_the_same_baseline() -> None:
    ks = started()
    first = D0 + 3 * H
    one(ks.update(950 * U, first))
    one(ks.update(955 * U, first + 1))
    one(ks.update(955 * U, first + H))
    assert ks.state is RECOVERING
    assert ks.update(951 * U, first + 2 * H) == ()
    second = first + 2 * H + 1
    event = one(ks.update(949 * U, second))
    assert (event.state, event.reason, event.baseline) == ("tripped", "trip", 1000 * U)
    assert (event.loss, event.tripped_at, event.cooldown_until) == (51 * U, second, second + H)
    assert ks.entry_scale(second) == 0.0


def test_a_new_day_rearms_from_any_automatic_state() -> None:
    for steps in ([], [(940, 1.0)], [(940, 1.0), (940, 2.0)]):
        ks = started()
        for equity, hours in steps:
            one(ks.update(equity * U, D0 + hours * H))
        event = one(ks.update(930 * U, D0 + 24 * H + 5))
        assert (event.state, event.reason, event.baseline) == ("armed", "new day", 930 * U)
        assert ks.allows_entries(D0 + 24 * H + 5)
        assert ks.entry_scale(D0 + 24 * H + 5) == 1.0


# -- flatten on trip -----------------------------------------------------------------------
def test_flatten_is_requested_once_per_trip_when_configured() -> None:
    ks = started(config(flatten_on_trip=True))
    assert not ks.take_flatten()
    one(ks.update(900 * U, D0 + 2 * H))
    assert ks.flatten_pending
    assert ks.take_flatten()
    assert not ks.take_flatten()
    one(ks.update(900 * U, D0 + 2 * H + 1))  # cooldown: no new request
    assert not ks.flatten_pending
    quiet = started()
    one(quiet.update(900 * U, D0 + 2 * H))
    assert not quiet.take_flatten()
    # A kill's flatten is its caller's: no request here.
    killed = started(config(flatten_on_trip=True))
    killed.kill(D0 + 2 * H, "alice")
    assert not killed.take_flatten()


# -- kill and reset ------------------------------------------------------------------------
def test_a_manual_kill_latches_across_a_day_boundary_until_reset() -> None:
    ks = started()
    kill_at = D0 + 20 * H
    event = ks.kill(kill_at, "alice")
    assert event == KillSwitchChanged(
        at=kill_at,
        state="tripped",
        day_start=D0,
        baseline=1000 * U,
        loss=0,
        limit=50 * U,
        tripped_at=kill_at,
        cooldown_until=None,
        recovery_scale=0.0,
        reason="kill",
        who="alice",
    )
    assert not ks.allows_entries(kill_at)
    assert ks.update(1000 * U, kill_at + 3 * H) == ()  # no cooldown ever ends a kill
    # The new day takes its baseline but the latch holds; its row names the killer.
    event = one(ks.update(990 * U, D0 + 24 * H))
    assert (event.state, event.reason, event.who) == ("tripped", "new day", "alice")
    assert (event.baseline, event.day_start, event.tripped_at) == (990 * U, D0 + 24 * H, kill_at)
    assert event.cooldown_until is None
    assert ks.update(800 * U, D0 + 30 * H) == ()  # no trip on top of a kill
    view = ks.view(D0 + 30 * H)
    assert (view.state, view.killed_by, view.recovery_scale) == (TRIPPED, "alice", 0.0)
    assert not ks.allows_entries(D0 + 30 * H)
    event = ks.reset(D0 + 31 * H, "bob", 800 * U)
    assert event == KillSwitchChanged(
        at=D0 + 31 * H,
        state="armed",
        day_start=D0 + 24 * H,
        baseline=800 * U,
        loss=0,
        limit=40 * U,
        tripped_at=None,
        cooldown_until=None,
        recovery_scale=1.0,
        reason="reset",
        who="bob",
    )
    assert ks.allows_entries(D0 + 31 * H)
    assert ks.view(D0 + 31 * H).killed_by is None
    assert ks.update(800 * U, D0 + 31 * H + 1) == ()
    assert one(ks.update(760 * U, D0 + 32 * H)).reason == "trip"  # against the new baseline


def test_reset_after_a_trip_rearms_with_a_new_baseline_and_records_who() -> None:
    ks = started(config(flatten_on_trip=True))
    one(ks.update(940 * U, D0 + 4 * H))
    event = ks.reset(D0 + 4 * H + 30, "ops@tui", 940 * U)
    assert (event.state, event.reason, event.who) == ("armed", "reset", "ops@tui")
    assert (event.baseline, event.limit, event.tripped_at) == (940 * U, 47 * U, None)
    assert not ks.take_flatten()  # a person re-armed it: the pending flatten is dropped
    assert ks.update(940 * U, D0 + 4 * H + 31) == ()


def test_a_kill_before_the_first_update_takes_its_baseline_later() -> None:
    ks = KillSwitch(config())
    event = ks.kill(D0 + H, "ctl")
    assert (event.state, event.baseline, event.day_start) == ("tripped", 0, D0)
    event = one(ks.update(1000 * U, D0 + H + 1))
    assert (event.state, event.reason, event.who, event.baseline) == (
        "tripped",
        "start",
        "ctl",
        1000 * U,
    )
    assert not ks.allows_entries(D0 + H + 1)


# -- disabled ------------------------------------------------------------------------------
def test_disabled_never_trips_but_reports_loss_and_limit() -> None:
    ks = started(config(daily_loss_enabled=False))
    assert ks.update(10 * U, D0 + 2 * H) == ()
    view = ks.view(D0 + 2 * H)
    assert (view.state, view.loss, view.limit, view.recovery_scale) == (ARMED, 990 * U, 50 * U, 1)
    assert not view.enabled
    assert ks.allows_entries(D0 + 2 * H)
    assert one(ks.update(10 * U, D0 + 24 * H)).reason == "new day"
    assert ks.kill(D0 + 25 * H, "alice").state == "tripped"  # a kill still latches
    assert not ks.allows_entries(D0 + 25 * H)


def test_a_disabled_switch_restored_from_a_trip_rearms() -> None:
    ks = started()
    trip = one(ks.update(900 * U, D0 + 2 * H))
    disabled = KillSwitch(config(daily_loss_enabled=False), restored=trip)
    event = one(disabled.update(900 * U, D0 + 2 * H + 1))
    assert (event.state, event.reason, event.tripped_at) == ("armed", "disabled", None)


# -- restarts ------------------------------------------------------------------------------
def scenario() -> list[tuple[str, float, int]]:
    """(op, at, equity): a day with a trip, a recovery, a second trip, a kill, a new day
    and a reset. op is "update", "kill" or "reset"."""
    return [
        ("update", D0 + 1 * H, 1000 * U),
        ("update", D0 + 2 * H, 970 * U),
        ("update", D0 + 3 * H, 950 * U),  # trip
        ("update", D0 + 3 * H + 0.1, 945 * U),  # cooldown
        ("update", D0 + 3.5 * H, 955 * U),
        ("update", D0 + 4 * H, 955 * U),  # re-armed
        ("update", D0 + 9 * H, 960 * U),
        ("update", D0 + 12 * H, 948 * U),  # second trip
        ("update", D0 + 12 * H + 0.1, 948 * U),  # cooldown
        ("update", D0 + 18 * H, 948 * U),  # held: over the limit
        ("update", D0 + 24 * H + 2, 947 * U),  # new day
        ("kill", D0 + 26 * H, 947 * U),
        ("update", D0 + 27 * H, 900 * U),
        ("update", D0 + 48 * H, 900 * U),  # new day, latched
        ("reset", D0 + 49 * H, 905 * U),
        ("update", D0 + 50 * H, 860 * U),  # loss 45 < 45.25: armed
        ("update", D0 + 51 * H, 850 * U),  # trip
    ]


def run(
    ks: KillSwitch, steps: list[tuple[str, float, int]]
) -> list[tuple[tuple[KillSwitchChanged, ...], KillSwitchView]]:
    out = []
    for op, at, equity in steps:
        if op == "update":
            events = ks.update(equity, at)
        elif op == "kill":
            events = (ks.kill(at, "alice"),)
        else:
            events = (ks.reset(at, "bob", equity),)
        out.append((events, ks.view(at + 0.5 * H)))
    return out


def test_the_scenario_visits_every_state() -> None:
    states = {e.state for events, _ in run(KillSwitch(config()), scenario()) for e in events}
    assert states == {"armed", "tripped", "cooldown", "recovering"}


@pytest.mark.parametrize("cut", range(1, len(scenario())))
def test_a_restart_from_the_last_event_continues_exactly(cut: int) -> None:
    steps = scenario()
    live = KillSwitch(config())
    before = run(live, steps[:cut])
    last = next(e for events, _ in reversed(before) for e in reversed(events))
    restored = KillSwitch(config(), restored=last)
    at = steps[cut - 1][1]
    # The row holds the loss when it was written; equity seen since comes with the next
    # update (the engine updates a restored switch with the equity it rebuilt).
    assert replace(restored.view(at), loss=0) == replace(live.view(at), loss=0)
    assert restored.allows_entries(at) == live.allows_entries(at)
    assert restored.entry_scale(at + 600) == live.entry_scale(at + 600)
    assert run(restored, steps[cut:]) == run(live, steps[cut:])


def test_a_restored_trip_keeps_its_time_and_expiry_and_asks_to_flatten_again() -> None:
    cfg = config(flatten_on_trip=True)
    ks = started(cfg)
    trip = one(ks.update(940 * U, D0 + 5 * H))
    again = KillSwitch(cfg, restored=trip)
    assert again.take_flatten()  # it may have stopped before flattening
    event = one(again.update(960 * U, D0 + 5 * H + 7))
    assert (event.state, event.tripped_at, event.cooldown_until) == (
        "cooldown",
        D0 + 5 * H,
        D0 + 6 * H,
    )
    cooling = KillSwitch(cfg, restored=event)
    assert not cooling.take_flatten()
    assert cooling.update(960 * U, D0 + 6 * H - 1) == ()
    assert one(cooling.update(960 * U, D0 + 6 * H)).state == "recovering"


def test_a_row_from_an_earlier_day_rolls_to_the_new_day_at_the_first_update() -> None:
    ks = started()
    one(ks.update(940 * U, D0 + 23 * H))
    cooling = one(ks.update(940 * U, D0 + 23 * H + 1))
    later = KillSwitch(config(), restored=cooling)
    assert not later.allows_entries(D0 + 30 * H)  # nothing moves before an update
    event = one(later.update(930 * U, D0 + 30 * H))
    assert (event.state, event.reason, event.day_start, event.baseline) == (
        "armed",
        "new day",
        D0 + 24 * H,
        930 * U,
    )
    kill = ks.kill(D0 + 23.5 * H, "alice")
    latched = KillSwitch(config(), restored=kill)
    event = one(latched.update(930 * U, D0 + 72 * H))
    assert (event.state, event.reason, event.who) == ("tripped", "new day", "alice")
    assert event.day_start == D0 + 72 * H
    assert latched.view(D0 + 72 * H).killed_by == "alice"
    # ...and the row of that new day restores the latch and its owner in turn.
    assert KillSwitch(config(), restored=event).view(D0 + 73 * H).killed_by == "alice"


def test_a_restored_recovery_keeps_its_ramp() -> None:
    ks = started()
    one(ks.update(940 * U, D0 + 2 * H))
    one(ks.update(960 * U, D0 + 2 * H + 1))
    rearmed = one(ks.update(960 * U, D0 + 3 * H))
    later = KillSwitch(config(daily_loss_recovery_ratio=0.9), restored=rearmed)
    # The ramp recorded (0.5 at 03:00 -> 1.0 at 24:00) wins over a changed ratio.
    assert later.entry_scale(D0 + 13.5 * H) == ks.entry_scale(D0 + 13.5 * H) == 0.75


def test_restore_refuses_rows_it_cannot_trust() -> None:
    good = started().kill(D0 + 2 * H, "alice")
    with pytest.raises(ValueError, match="'halted' is not a valid KillSwitchState"):
        KillSwitch(config(), restored=struct_replace(good, state="halted"))
    with pytest.raises(ValueError, match="cooldown with no expiry"):
        KillSwitch(config(), restored=struct_replace(good, state="cooldown"))
    with pytest.raises(ValueError, match="no trip time"):
        KillSwitch(config(), restored=struct_replace(good, tripped_at=None))


# -- properties ----------------------------------------------------------------------------
Step = tuple[float, int, str]
steps = st.lists(
    st.tuples(
        st.one_of(
            st.just(0.0),
            st.floats(0.001, 120.0),
            st.floats(120.0, 4 * H),
            st.floats(4 * H, 30 * H),
        ),
        st.integers(-400, 400),  # equity change, in basis points of the first baseline
        # "rebound": an update at the day's baseline plus the change (marks recover)
        st.sampled_from(["update"] * 10 + ["rebound"] * 3 + ["kill", "reset"]),
    ),
    max_size=80,
)


@settings(max_examples=examples(300), deadline=None)
@given(
    steps=steps,
    start=st.floats(D0 - 3 * DAY_SECONDS, D0 + 3 * DAY_SECONDS),
    baseline=st.integers(20 * U, 10**6 * U),
    pct=st.sampled_from([0.5, 1.0, 2.5, 5.0, 12.5, 100.0]),
    cooldown=st.sampled_from([0.0, 1.0, 60.0, 600.0]),
    ratio=st.sampled_from([0.01, 0.25, 0.5, 1.0]),
    reset_hour=st.integers(0, 23),
)
def test_entries_are_blocked_while_stopped_and_trips_come_at_once(
    steps: list[Step],
    start: float,
    baseline: int,
    pct: float,
    cooldown: float,
    ratio: float,
    reset_hour: int,
) -> None:
    cfg = config(
        daily_loss_limit_pct=pct,
        daily_loss_cooldown_minutes=cooldown,
        daily_loss_recovery_ratio=ratio,
        daily_loss_reset_hour=reset_hour,
    )
    ks = KillSwitch(cfg)
    now, equity = start, baseline
    # The shadow is rebuilt from the last event after every one: a restart at that point.
    shadow = KillSwitch(cfg, restored=one(ks.update(equity, now)))
    for dt, delta, op in steps:
        now += dt
        before = ks.view(now)
        if op == "rebound":
            equity = before.baseline
        if op != "kill":  # a kill does not see the equity
            equity = max(0, equity + baseline * delta // 10_000)
        if op == "kill":
            events: tuple[KillSwitchChanged, ...] = (ks.kill(now, "p"),)
            assert (shadow.kill(now, "p"),) == events
        elif op == "reset":
            events = (ks.reset(now, "p", equity),)
            assert (shadow.reset(now, "p", equity),) == events
        else:
            events = ks.update(equity, now)
            assert shadow.update(equity, now) == events
            new_day = now >= before.next_reset
            limit = before.limit
            if before.state in (ARMED, RECOVERING) and not new_day and limit > 0:
                tripped = [e for e in events if e.reason == "trip"]
                if before.baseline - equity >= limit:
                    assert len(tripped) == 1
                    assert (tripped[0].tripped_at, tripped[0].loss) == (
                        now,
                        before.baseline - equity,
                    )
                else:
                    assert events == ()
        assert len(events) <= 1
        view = ks.view(now)
        if events:
            assert events[-1].state == view.state
            shadow = KillSwitch(cfg, restored=events[-1])
            assert shadow.view(now) == view
        else:
            assert view.state == before.state
        for at in (now, now + 1.0, now + 3 * H, now + 40 * H):
            scale = ks.entry_scale(at)
            assert 0.0 <= scale <= 1.0
            assert shadow.entry_scale(at) == scale
            if view.state in (TRIPPED, COOLDOWN):
                assert not ks.allows_entries(at)
                assert scale == 0.0
            else:
                assert ks.allows_entries(at)
                assert scale >= (ratio if view.state is RECOVERING else 1.0) - 1e-12
        assert view.loss == max(0, view.baseline - equity)
        assert view.limit == view.baseline * Fraction(str(pct)) / 100 // 1
        assert view.next_reset == view.day_start + DAY_SECONDS
        if op != "kill":  # only update() and reset() move the day
            assert view.day_start <= now < view.next_reset

"""``--run N | --since 24h | --date YYYY-MM-DD`` and ``--tz``: which rows a report covers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.clock import SystemClock
from engine.ledger.analytics import QUARTER_HOUR, Scope

_SINCE = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class ScopeError(ValueError):
    """A scope option the report cannot use; the message names the option and the fix."""


@dataclass(frozen=True, slots=True)
class ReportScope:
    scope: Scope
    tz: ZoneInfo
    label: str  # "all runs", "run 3", "since 24h", "2026-01-01 (UTC)"
    day: date | None = None  # --date

    def day_of(self, unix: float) -> date:
        return datetime.fromtimestamp(unix, self.tz).date()

    def bucket_day(self, quarter: int) -> date:
        return self.day_of(quarter * QUARTER_HOUR)

    def day_bounds(self, day: date) -> tuple[float, float]:
        start = datetime.combine(day, time(), self.tz)
        end = datetime.combine(day + timedelta(days=1), time(), self.tz)
        return start.timestamp(), end.timestamp()

    def iso(self, unix: float | None) -> str | None:
        if unix is None:
            return None
        return datetime.fromtimestamp(unix, self.tz).isoformat(timespec="seconds")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScopeError(
            f"--tz {name}: not a time zone (use an IANA name such as UTC or Europe/London)"
        ) from None


def parse_scope(
    run: int | None, since: str | None, day: str | None, tz_name: str = "UTC"
) -> ReportScope:
    tz = zone(tz_name)
    chosen = [n for n, v in (("--run", run), ("--since", since), ("--date", day)) if v is not None]
    if len(chosen) > 1:
        raise ScopeError(f"{' and '.join(chosen)}: choose one scope (or none for every run)")
    if run is not None:
        if run < 1:
            raise ScopeError(f"--run {run}: run ids start at 1 (see `polyterm report runs`)")
        return ReportScope(Scope(run=run), tz, f"run {run}")
    if since is not None:
        match = _SINCE.match(since.strip())
        if match is None:
            raise ScopeError(f"--since {since}: write a duration such as 90m, 24h or 7d")
        seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
        now = SystemClock().time()
        return ReportScope(Scope(start=now - seconds, end=None), tz, f"since {since}")
    if day is not None:
        try:
            parsed = date.fromisoformat(day)
        except ValueError:
            raise ScopeError(f"--date {day}: write the day as YYYY-MM-DD") from None
        probe = ReportScope(Scope(), tz, "")
        start, end = probe.day_bounds(parsed)
        return ReportScope(Scope(start=start, end=end), tz, f"{parsed} ({tz.key})", parsed)
    return ReportScope(Scope(), tz, "all runs")

"""The run summary in words: what the headless face and backtest print at the end, and
what ``polyterm ctl status`` prints.

It reads the summary's dict (the ``--json`` document: decimals as plain strings) and
writes every figure in the one convention of :mod:`widgets.format`: money with cents,
prices in the configured convention, shares with two decimals, slippage in bps,
durations and times in words; a missing figure is a dash, never ``None``, an empty
string or a Python list. ``--json`` prints the dict as it is. Light on imports (no
engine beyond its exit labels, no Rich): ``ctl`` loads it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TextIO

from engine.exit_reasons import ExitReason, label
from widgets import format as fmt

# Figures by what they are (keys of the summary and of its nested tables).
MONEY = frozenset(
    {"starting_cash", "cash", "equity", "fees", "avg_notional", "baseline", "loss", "limit"}
)
SIGNED = frozenset(
    {"realized_pnl", "unrealized_pnl", "pnl", "spread_paid", "price_moves", "realized"}
)
TIMES = frozenset({"tripped_at", "cooldown_until", "started_at"})
SKIPPED = frozenset({"exit_reasons"})  # each strategy's own wording: --json keeps them
WORDS = {
    "uptime_s": "uptime",
    "avg_slippage_bps": "avg slippage",
    "frame_to_order_us": "frame to order",
    "exit_kinds": "exits by reason",
    "realized_pnl": "realized pnl",
    "unrealized_pnl": "unrealized pnl",
    "starting_cash": "starting cash",
    "open_orders": "open orders",
    "open_positions": "open positions",
    "feed_source": "feed source",
    "reject_reasons": "reject reasons",
    "rate_windows": "rate windows",
    "trading_blocked": "trading blocked",
    "kill_switch": "kill switch",
    "venue_reports": "venue reports",
    "run_id": "run",
    "bad_frames": "bad frames",
    "wall_seconds": "wall time",
    "messages_per_s": "messages/s",
}


def print_summary(
    summary: dict[str, object], out: TextIO, as_json: bool, title: str = "polyterm run summary"
) -> None:
    if as_json:
        print(json.dumps(summary, default=str), file=out, flush=True)
        return
    if summary.get("mode") == "live":
        title = f"{title} (LIVE)"
    for line in summary_lines(summary, title):
        print(line, file=out)
    out.flush()


def summary_lines(summary: Mapping[str, object], title: str = "polyterm run summary") -> list[str]:
    """The summary as a person reads it, one figure (or table) a line."""
    shown = [(k, v) for k, v in summary.items() if k not in SKIPPED]
    width = max((len(WORDS.get(k, k.replace("_", " "))) for k, _ in shown), default=0)
    lines = [title]
    for key, value in shown:
        name = WORDS.get(key, key.replace("_", " ")).ljust(width)
        if key == "strategies" and isinstance(value, Mapping):
            lines.append(f"  {name}  pnl = price moves - spread paid - fees")
            for strategy, row in value.items():
                lines.append(f"    {str(strategy):<24}{_strategy_line(row)}")
            continue
        lines.append(f"  {name}  {figure(key, value)}")
    return lines


def figure(key: str, value: object) -> str:
    """One value of the summary in words."""
    special = _SPECIAL.get(key)
    if special is not None:
        return special(value)
    if value is None or value == "":
        return fmt.DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key in MONEY:
        return fmt.money(_decimal(value))
    if key in SIGNED:
        return fmt.money(_decimal(value), signed=True)
    if key in TIMES:
        return fmt.stamp(float(str(value)))
    if isinstance(value, Mapping):
        return _table(value)
    if isinstance(value, list | tuple):
        return ", ".join(figure(key, v) for v in value) or "none"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def _table(values: Mapping[str, object]) -> str:
    """A nested table on one line: "name value, name value" (empty ones left out)."""
    parts = []
    for k, v in values.items():
        if v is None or v == "" or v == {} or v == []:
            continue
        parts.append(f"{WORDS.get(k, k.replace('_', ' '))} {figure(k, v)}")
    return ", ".join(parts) or "none"


def _counts(value: object) -> str:
    if not isinstance(value, Mapping) or not value:
        return "none"
    return ", ".join(f"{k} {figure('', v)}" for k, v in value.items())


def _exit_kinds(value: object) -> str:
    if not isinstance(value, Mapping) or not value:
        return "none"
    parts = []
    for kind, count in value.items():
        try:
            words = label(ExitReason(kind))
        except ValueError:
            words = str(kind)
        parts.append(f"{words} {figure('', count)}")
    return ", ".join(parts)


def _rate_windows(value: object) -> str:
    if not isinstance(value, list) or not value:
        return "none at half or more"
    parts = []
    for w in value:
        if isinstance(w, Mapping):
            where = f"{w.get('scope')}:{w.get('key')}" if w.get("key") else str(w.get("scope"))
            parts.append(f"{where} {w.get('used')}/{w.get('limit')}")
    return ", ".join(parts)


def _latency(value: object) -> str:
    if not isinstance(value, Mapping):
        return fmt.DASH
    return ", ".join(f"{k} {float(str(v)):,.1f} µs" for k, v in value.items())


def _duration(value: object) -> str:
    return fmt.DASH if value is None else fmt.duration(float(str(value)))


def _slippage(value: object) -> str:
    return fmt.bps(None if value is None else float(str(value)), signed=True)


def _scale(value: object) -> str:
    return fmt.DASH if value is None else f"×{float(str(value)):.2f}"


def _error(value: object) -> str:
    return "none" if value in (None, "") else str(value)


_SPECIAL: dict[str, Callable[[object], str]] = {
    "reject_reasons": _counts,
    "skipped_markets": _counts,
    "exit_kinds": _exit_kinds,
    "rate_windows": _rate_windows,
    "frame_to_order_us": _latency,
    "uptime_s": _duration,
    "wall_seconds": _duration,
    "avg_slippage_bps": _slippage,
    "recovery_scale": _scale,
    "error": _error,
    "trading_blocked": lambda v: ", ".join(map(str, v)) if isinstance(v, list) and v else "no",
}


def _strategy_line(row: Any) -> str:
    if not isinstance(row, Mapping):
        return str(row)
    weight = row.get("weight")
    return (
        f"weight {fmt.DASH if weight is None else f'{float(weight):.2f}'}  "
        f"signals {figure('', row.get('signals'))}  detected {figure('', row.get('detected'))}  "
        f"orders {figure('', row.get('orders'))}  fills {figure('', row.get('fills'))}  "
        f"pnl {figure('pnl', row.get('pnl'))} = moves {figure('pnl', row.get('price_moves'))}"
        f" - spread {figure('fees', row.get('spread_paid'))}"
        f" - fees {figure('fees', row.get('fees'))}"
    )

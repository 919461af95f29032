"""The run summary in words: what the headless face and backtest print at the end, and
what ``polyterm ctl status`` prints. Light on imports (no engine): ``ctl`` loads it."""

from __future__ import annotations

import json
from typing import TextIO


def print_summary(
    summary: dict[str, object], out: TextIO, as_json: bool, title: str = "polyterm run summary"
) -> None:
    if as_json:
        print(json.dumps(summary, default=str), file=out, flush=True)
        return
    width = max(len(k) for k in summary)
    if summary.get("mode") == "live":
        title = f"{title} (LIVE)"
    print(title, file=out)
    for key, value in summary.items():
        if key == "strategies" and isinstance(value, dict):
            print(f"  {key.ljust(width)}  pnl = price moves - spread paid - fees", file=out)
            for name, row in value.items():
                print(f"    {name:<24}{_strategy_line(row)}", file=out)
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
        print(f"  {key.ljust(width)}  {value}", file=out)
    out.flush()


def _strategy_line(row: object) -> str:
    if not isinstance(row, dict):
        return str(row)
    weight = row.get("weight")
    return (
        f"weight={'-' if weight is None else weight} signals={row.get('signals')} "
        f"detected={row.get('detected')} orders={row.get('orders')} fills={row.get('fills')} "
        f"pnl={row.get('pnl')} = moves {row.get('price_moves')} - spread "
        f"{row.get('spread_paid')} - fees {row.get('fees')}"
    )

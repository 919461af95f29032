"""The report kinds and formats by name: what `polyterm report --help` lists, without loading
the ledger reader, the renderers or plotly (the kinds' code is imported when one runs)."""

from __future__ import annotations

from dataclasses import dataclass

FORMATS = ("table", "csv", "json", "jsonl", "md", "html")


@dataclass(frozen=True, slots=True)
class KindSpec:
    name: str
    module: str  # under polyterm.reports.kinds
    help: str
    many: bool = False  # over several ledgers (positional paths), not --ledger


KINDS: dict[str, KindSpec] = {
    k.name: k
    for k in (
        KindSpec("summary", "summary", "the account: PnL, returns, drawdown, ratios"),
        KindSpec("exits", "exits", "exit reasons, per strategy, worst markets, MAE/MFE"),
        KindSpec("event-driven", "event_driven", "news-driven trades: sources, headlines"),
        KindSpec("daily", "daily", "one day's summary (default: the last trading day)"),
        KindSpec("strategies", "strategies", "attribution per strategy and market"),
        KindSpec("markets", "markets", "per market and neg-risk event"),
        KindSpec("calibration", "calibration", "price paid against outcome: Brier"),
        KindSpec("orders", "raw", "every order, as the ledger holds it"),
        KindSpec("fills", "raw", "every fill, as the ledger holds it"),
        KindSpec("runs", "runs", "the runs: mode, venue, duration, config hash"),
        KindSpec("lots", "lots", "realized PnL per closed lot"),
        KindSpec("drift", "drift", "live orders against the paper model's shadow"),
        KindSpec("compare", "compare", "summary figures of several ledgers", many=True),
        KindSpec("sweep", "sweep", "a sweep's variants side by side", many=True),
    )
}

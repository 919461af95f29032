"""The HTML report's charts, as plotly figures (their JSON dicts).

A chart with little data is still drawn (one point, one bar, or an empty axis with a
note), never left out: a missing chart reads as a broken report.
"""

from __future__ import annotations

from typing import Any

from engine.execution.exit_reasons import LABELS, ORDER, ExitReason
from polyterm.reports.document import Chart

_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 40, "b": 40},
    "height": 360,
}


def _figure(data: list[dict[str, Any]], title: str, **layout: Any) -> dict[str, Any]:
    merged = {**_LAYOUT, "title": {"text": title}, **layout}
    if not any(len(trace.get("x", ()) or trace.get("values", ()) or ()) for trace in data):
        merged["annotations"] = [
            {
                "text": "no data in this scope",
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
            }
        ]
    return {"data": data, "layout": merged}


def equity(times: list[str], equity: list[float], underwater: list[float]) -> Chart:
    """Closed-trade equity (USDC) above, its drawdown from the running peak (%) below."""
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers" if len(times) < 3 else "lines",
            "x": times,
            "y": equity,
            "name": "equity (USDC)",
            "xaxis": "x",
            "yaxis": "y",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "fill": "tozeroy",
            "x": times,
            "y": underwater,
            "name": "drawdown (%)",
            "xaxis": "x",
            "yaxis": "y2",
            "line": {"color": "#d62728"},
        },
    ]
    fig = _figure(
        data,
        "Equity and drawdown",
        height=480,
        yaxis={"domain": [0.4, 1.0], "title": {"text": "USDC"}},
        yaxis2={"domain": [0.0, 0.3], "title": {"text": "drawdown %"}},
        xaxis={"anchor": "y2"},
    )
    return Chart("equity", "Equity curve and underwater", fig)


def daily(days: list[str], pnl: list[float]) -> Chart:
    colors = ["#2ca02c" if v >= 0 else "#d62728" for v in pnl]
    data = [{"type": "bar", "x": days, "y": pnl, "marker": {"color": colors}, "name": "PnL"}]
    return Chart("daily", "Daily PnL", _figure(data, "Daily PnL (USDC)"))


def by_strategy(names: list[str], pnl: list[float]) -> Chart:
    colors = ["#2ca02c" if v >= 0 else "#d62728" for v in pnl]
    data = [{"type": "bar", "x": names, "y": pnl, "marker": {"color": colors}, "name": "PnL"}]
    return Chart("strategies", "PnL by strategy", _figure(data, "Trade PnL by strategy (USDC)"))


def exit_reasons(counts: dict[ExitReason, int]) -> Chart:
    order = [r for r in ORDER if counts.get(r)]
    data = [
        {
            "type": "bar",
            "x": [LABELS[r] for r in order],
            "y": [counts[r] for r in order],
            "name": "exits",
        }
    ]
    return Chart("exit_reasons", "Exit reasons", _figure(data, "Exits by reason"))


def calibration(price: list[float], outcome: list[float], shares: list[float]) -> Chart:
    """Average price paid against how often it won, per price bucket; the diagonal is a
    perfectly calibrated market."""
    size = [max(6.0, min(30.0, 6.0 + s**0.5)) for s in shares]
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": [0, 1],
            "y": [0, 1],
            "name": "calibrated",
            "line": {"dash": "dot", "color": "#888"},
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": price,
            "y": outcome,
            "marker": {"size": size},
            "name": "price paid vs won",
        },
    ]
    fig = _figure(
        data,
        "Calibration: price paid against outcome",
        xaxis={"range": [0, 1], "title": {"text": "price paid"}},
        yaxis={"range": [0, 1], "title": {"text": "share that won"}},
    )
    if not price:
        fig["layout"]["annotations"] = [
            {
                "text": "no resolved market in this scope",
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
            }
        ]
    return Chart("calibration", "Calibration curve", fig)


def excursions(mae: list[float], mfe: list[float], pnl: list[float], labels: list[str]) -> Chart:
    colors = ["#2ca02c" if v > 0 else "#d62728" if v < 0 else "#7f7f7f" for v in pnl]
    data = [
        {
            "type": "scatter",
            "mode": "markers",
            "x": mae,
            "y": mfe,
            "text": labels,
            "marker": {"color": colors, "size": 6, "opacity": 0.7},
            "name": "trades",
        }
    ]
    fig = _figure(
        data,
        "MAE against MFE per trade (cents; green won, red lost)",
        xaxis={"title": {"text": "MAE (¢)"}},
        yaxis={"title": {"text": "MFE (¢)"}},
    )
    return Chart("excursions", "MAE/MFE scatter", fig)


def drift(orders: list[str], bps: list[float | None], size: list[float]) -> Chart:
    """Per live order: the venue's price against the paper shadow's (bps, positive: the
    venue did worse) above, the size difference (shares, venue - paper) below."""
    data: list[dict[str, Any]] = [
        {"type": "bar", "x": orders, "y": bps, "name": "price diff (bps)"},
        {"type": "bar", "x": orders, "y": size, "name": "size diff (shares)", "yaxis": "y2"},
    ]
    fig = _figure(
        data,
        "Venue against the paper model, per live order",
        height=480,
        yaxis={"domain": [0.55, 1.0], "title": {"text": "price diff (bps)"}},
        yaxis2={"domain": [0.0, 0.45], "title": {"text": "size diff (shares)"}},
        xaxis={"anchor": "y2", "showticklabels": False},
    )
    return Chart("drift", "Drift per order", fig)

"""The run summary: what the headless face prints, the status file holds, and the ledger
keeps with the run. The same for a live run and a backtest."""

from __future__ import annotations

from typing import Any

from engine.runtime.snapshot import EngineSnapshot


def summary_dict(snap: EngineSnapshot) -> dict[str, Any]:
    c = snap.counters
    return {
        "state": snap.state,
        "mode": snap.mode,
        "venue": snap.venue,
        "run_id": snap.run_id,
        "uptime_s": snap.uptime_s,
        "markets": len({row.market for row in snap.markets}),
        "books": len(snap.markets),
        "frames": c.frames,
        "messages": c.messages,
        "bad_frames": c.bad_frames,
        "gaps": c.gaps,
        "resnapshots": c.resnapshots,
        "signals": c.signals,
        "orders": c.orders,
        "fills": c.fills,
        "rejects": c.rejects,
        "reject_reasons": dict(snap.reject_reasons),
        "settlements": c.settlements,
        "open_orders": len(snap.orders),
        "starting_cash": str(snap.starting_cash),
        "cash": str(snap.cash),
        "equity": str(snap.equity),
        "realized_pnl": str(snap.realized_pnl),
        "unrealized_pnl": str(snap.unrealized_pnl),
        "pnl": str(snap.pnl),
        "fees": str(snap.fees),
        "open_positions": sum(1 for p in snap.positions if p.shares),
        "feed_source": snap.feed.current_source,
        "feed": {
            "ws_reconnects": snap.feed.ws_reconnects,
            "rest_requests": snap.feed.rest_requests,
            "rest_429": snap.feed.rest_429,
            "rest_5xx": snap.feed.rest_5xx,
            "fallback_reason": snap.feed.fallback_reason,
        },
        "error": snap.error,
    }

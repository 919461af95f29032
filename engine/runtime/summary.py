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
            "ws_shards": snap.feed.ws_shards,
            "ws_shards_live": snap.feed.ws_shards_live,
            "subscribed_assets": snap.feed.subscribed_assets,
            "skipped_markets": dict(snap.feed.skipped_markets),
        },
        "kill_switch": {
            "state": snap.kill_switch.state,
            "baseline": str(snap.kill_switch.baseline),
            "loss": str(snap.kill_switch.loss),
            "limit": str(snap.kill_switch.limit),
            "tripped_at": snap.kill_switch.tripped_at,
            "cooldown_until": snap.kill_switch.cooldown_until,
            "recovery_scale": snap.kill_switch.recovery_scale,
            "killed_by": snap.kill_switch.killed_by,
        },
        "telemetry": {
            "entries": snap.telemetry.entries,
            "exits": snap.telemetry.exits,
            "taker": snap.telemetry.taker,
            "maker": snap.telemetry.maker,
            "avg_notional": None
            if snap.telemetry.avg_notional is None
            else str(snap.telemetry.avg_notional),
            "avg_slippage_bps": snap.telemetry.avg_slippage_bps,
            "resized": snap.telemetry.resized,
            "approved": snap.telemetry.approved,
            "refused": snap.telemetry.refused,
        },
        "exit_reasons": dict(snap.exit_reasons),
        "rate_windows": [
            {"scope": w.scope, "key": w.key, "used": w.used, "limit": w.limit}
            for w in snap.rate_windows
        ],
        # Per strategy: why it made or lost money. pnl = price_moves - spread_paid - fees.
        "strategies": {
            row.name: {
                "weight": row.weight,
                "signals": row.signals,
                "detected": row.detected,
                "orders": row.orders,
                "fills": row.fills,
                "pnl": str(row.pnl),
                "spread_paid": str(row.spread_paid),
                "fees": str(row.fees),
                "price_moves": str(row.price_moves),
            }
            for row in snap.strategies
        },
        "baskets": {"decided": c.baskets, "traded": c.baskets_traded},
        "sentiment": {
            "source": snap.sentiment.source,
            "state": snap.sentiment.state,
            "fallback": snap.sentiment.fallback,
            "last_error": snap.sentiment.last_error,
            "headlines": c.headlines,
            "markets": len(snap.sentiment.markets),
        },
        "trading_blocked": [str(b.reason) for b in snap.trading_blocks],
        "exit_kinds": {str(kind): n for kind, n in snap.exit_kinds},
        "venue_reports": {
            "unknown_fills": c.unknown_fills,
            "duplicate_fills": c.duplicate_fills,
        },
        "error": snap.error,
    }

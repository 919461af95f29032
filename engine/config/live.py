"""Live trading's own limits, on top of the risk gate: small by default, so a first live
run risks little. None of these apply to paper runs."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from engine.config.base import Fraction, Frozen, Real, Usdc


class LiveConfig(Frozen):
    """``[live]``: caps in USDC, and a canary mode (allowlists and a size scale), so a
    user can go live with one strategy on one market at a fraction of its size."""

    # Notional (price x size) of one entry, and of all entries sent in one trading day
    # (the day starts at trading.daily_loss_reset_hour, UTC). Exits are never capped.
    max_order_notional: Usdc = Field(Decimal(10), gt=0)
    max_daily_notional: Usdc = Field(Decimal(100), gt=0)
    # Canary: only these strategies enter (empty: every enabled one)...
    strategies: tuple[str, ...] = ()
    # ...only in these markets (condition ids or slugs; empty: every market)...
    markets: tuple[str, ...] = ()
    # ...at this fraction of the size paper would trade.
    size_scale: Fraction = Field(Decimal(1), gt=0, le=1)
    # No new entries in a market this close to its end date (0: no such rule).
    no_entries_before_end_s: Real = Field(3600.0, ge=0)
    # How often balances are read again besides after fills and reconnects.
    balance_refresh_s: Real = Field(30.0, gt=0)
    # The venue's orders, trades and balances are checked against the ledger this often
    # besides at start and after reconnects (events a channel silently lost are found).
    reconcile_every_s: Real = Field(60.0, gt=0)
    # Order heartbeats (the venue cancels every open order ~10 s after the last one).
    heartbeat_interval_s: Real = Field(5.0, gt=0, le=8)
    # An order's answer not back in this long is looked up by its hash, never resent.
    order_timeout_s: Real = Field(10.0, gt=0)
